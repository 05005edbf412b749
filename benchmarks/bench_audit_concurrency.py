"""Audit writes under concurrency, and the provider file read by 8 clients at once.

Figures (issues 9, 15 and 17):
1. Events/s with 4 concurrent writers in ONE organization, one event per transaction (a
   request) and ten per transaction (a service step), chain verified afterwards. Baseline in
   the same run: the same rows inserted by the same 4 threads into an unchained copy of the
   table (no lock, no hash) — the ratio shows what the chain costs.
2. The provider file (Django test Client GET of /o/<slug>/providers/<id>/, signed in as a
   coordinator; everything but the network), median and p95 server time with 1 client and
   with 8 concurrent clients on 8 different providers of one organization, while another
   transaction of the organization has recorded an event and stays open (a slow page).

Runs in a scratch database it creates and drops. Prints figures; asserts only that the
chain verifies and every page answered 200.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credex.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from credex import dbsetup  # noqa: E402

WRITERS = 4
EVENTS_PER_WRITER = 1_500
READS_PER_CLIENT = 15
CLIENTS = 8


def use_scratch_database() -> str:
    name = f"bench_audit_{os.getpid()}"
    for alias in ("default", "owner"):
        settings.DATABASES[alias]["NAME"] = name
        connections[alias].settings_dict["NAME"] = name
    dbsetup.bootstrap(drop_first=True, verbosity=0)
    return name


def build():
    from allauth.account.models import EmailAddress

    from credex.models import Membership, User
    from credex.services import organization_create
    from credex.tenancy import tenant_context
    from tests.factories import make_provider

    owner = User.objects.create_user(email="owner@bench.example", password="x" * 20)
    org = organization_create(name="Bench Clinic", owner=owner)
    coordinator = User.objects.create_user(email="coord@bench.example", password="x" * 20)
    EmailAddress.objects.create(user=coordinator, email=coordinator.email, verified=True)
    with tenant_context(org):
        Membership.objects.create(organization=org, user=coordinator, role="coordinator")
    providers = [make_provider(org, seed=seed) for seed in range(1, CLIENTS + 1)]
    return org, coordinator, providers


def threaded(n, fn):
    errors = []

    def run(i):
        try:
            fn(i)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - start


def chained_writes(org, per_transaction: int) -> float:
    from audit.services import Actor, audit_record
    from credex.tenancy import tenant_context

    actor = Actor.system("bench")

    def writer(i):
        for _ in range(EVENTS_PER_WRITER // per_transaction):
            with tenant_context(org):
                for _ in range(per_transaction):
                    audit_record(
                        org=org, actor=actor, action="bench.write", data={"writer": i, "n": 1}
                    )

    return WRITERS * EVENTS_PER_WRITER / threaded(WRITERS, writer)


def unchained_writes(org, per_transaction: int) -> float:
    with connections["owner"].cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_plain")
        cursor.execute(
            "CREATE TABLE bench_plain (LIKE audit_auditevent INCLUDING DEFAULTS INCLUDING INDEXES)"
        )
        cursor.execute("ALTER TABLE bench_plain DROP CONSTRAINT IF EXISTS bench_plain_pkey")
        cursor.execute("GRANT INSERT, SELECT ON bench_plain TO PUBLIC")
    seq = iter(range(10**9))
    lock = threading.Lock()

    def writer(i):
        for _ in range(EVENTS_PER_WRITER // per_transaction):
            with transaction.atomic(), connection.cursor() as cursor:
                for _ in range(per_transaction):
                    with lock:
                        n = next(seq)
                    cursor.execute(
                        "INSERT INTO bench_plain (id, organization_id, seq, actor_kind, actor_id,"
                        " actor_label, action, target_type, target_id, source, data, ip,"
                        " user_agent, created_at, prev_hash, hash) VALUES (%s, %s, %s, 'system',"
                        " '', 'bench', 'bench.write', '', '', '', %s::jsonb, NULL, '', now(),"
                        " '', '')",
                        [uuid.uuid4(), org.pk, n, json.dumps({"writer": i, "n": 1})],
                    )

    rate = WRITERS * EVENTS_PER_WRITER / threaded(WRITERS, writer)
    with connections["owner"].cursor() as cursor:
        cursor.execute("DROP TABLE bench_plain")
    return rate


def provider_file_times(org, user, providers, clients: int) -> list[float]:
    times: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def reader(i):
        client = Client()
        client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
        url = f"/o/{org.slug}/providers/{providers[i].pk}/"
        client.get(url)  # warm-up
        for _ in range(READS_PER_CLIENT):
            start = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - start
            with lock:
                times.append(elapsed)
                statuses.append(response.status_code)

    threaded(clients, reader)
    assert set(statuses) == {200}, statuses
    return times


def open_writer(org):
    """A transaction of the organization that recorded an event and stays open."""
    from audit.services import Actor, audit_record
    from credex.tenancy import tenant_context

    started, release = threading.Event(), threading.Event()

    def run():
        try:
            with tenant_context(org):
                audit_record(org=org, actor=Actor.system("bench"), action="bench.slow_page")
                started.set()
                release.wait(600)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    started.wait(60)
    return release, thread


def ms(values, q):
    values = sorted(values)
    return 1000 * values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    from audit.selectors import verify_chain
    from credex.tenancy import tenant_context

    name = use_scratch_database()
    try:
        org, coordinator, providers = build()
        print(f"audit writes, {WRITERS} concurrent writers in one organization:")
        for per in (1, 10):
            chained = chained_writes(org, per)
            plain = unchained_writes(org, per)
            print(
                f"  {per:>2} event(s) per transaction: {chained:,.0f} events/s chained, "
                f"{plain:,.0f} events/s unchained baseline (ratio {chained / plain:.2f})"
            )
        with tenant_context(org):
            start = time.perf_counter()
            count, _head = verify_chain(org=org)
            elapsed = time.perf_counter() - start
        print(f"  chain valid: {count:,} events verified in {elapsed:.2f} s")

        alone = provider_file_times(org, coordinator, providers, 1)
        together = provider_file_times(org, coordinator, providers, CLIENTS)
        print("provider file, server time (test client):")
        print(f"  1 client:  p50 {ms(alone, 0.5):.0f} ms, p95 {ms(alone, 0.95):.0f} ms")
        print(
            f"  {CLIENTS} concurrent clients: p50 {ms(together, 0.5):.0f} ms, "
            f"p95 {ms(together, 0.95):.0f} ms "
            f"(ratio to 1 client {statistics.median(together) / statistics.median(alone):.1f})"
        )
        # With the lock held until commit this case waited for the open transaction (here it
        # would wait until release): skipped with BENCH_SKIP_OPEN_WRITER=1 to measure old code.
        if not os.environ.get("BENCH_SKIP_OPEN_WRITER"):
            release, thread = open_writer(org)
            try:
                beside = provider_file_times(org, coordinator, providers, CLIENTS)
            finally:
                release.set()
                thread.join()
            print(
                f"  {CLIENTS} clients beside an open writer: p50 {ms(beside, 0.5):.0f} ms, "
                f"p95 {ms(beside, 0.95):.0f} ms"
            )
        with tenant_context(org):
            verify_chain(org=org)
    finally:
        connections.close_all()
        dbsetup.drop_database(name)


if __name__ == "__main__":
    main()
