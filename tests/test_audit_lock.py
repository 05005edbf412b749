"""The audit chain's lock is held only while a transaction commits (real commits, threads).

Audit events are sealed into the organization's chain at commit (credex/pgbackend): a
transaction that recorded an event and is still working (a page rendering, a run screening)
holds no chain lock, so no other request of the organization waits for it; and because the
chain lock is always the last lock a transaction takes, it cannot be part of a deadlock.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from audit.models import AuditEvent
from audit.selectors import verify_chain
from audit.services import Actor, audit_record
from credex.tenancy import tenant_context
from roster.services.providers import provider_update
from screening.services.runs import RunInProgress, screening_run_now
from tests.factories import make_provider
from tests.test_import import csv_bytes, row, run
from tests.test_screening_runs import load_lists

pytestmark = pytest.mark.external

SECONDS = 30  # a bound for a thread that should finish at once (never a speed assertion)


def _advisory_locks_of(pid: int) -> int:
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s", [pid]
        )
        return cursor.fetchone()[0]


def _waiting_on_locks(org_db: str) -> list[tuple]:
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "SELECT pid, wait_event_type, wait_event, left(query, 80) FROM pg_stat_activity "
            "WHERE datname = %s AND wait_event_type = 'Lock'",
            [org_db],
        )
        return cursor.fetchall()


def _chain_length(org) -> int:
    with tenant_context(org):
        return verify_chain(org=org)[0]


def _events(org, **filters):
    with tenant_context(org):
        return list(AuditEvent.objects.filter(organization=org, **filters).order_by("seq"))


class _OpenTransaction:
    """A thread that records an audit event and keeps its transaction open until released:
    a request rendering a slow page, a screening run still matching."""

    def __init__(self, org):
        self.org = org
        self.recorded = threading.Event()
        self.release = threading.Event()
        self.pid = None
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            with tenant_context(self.org):
                audit_record(org=self.org, actor=Actor.system("slow"), action="test.slow")
                self.pid = connection.connection.info.backend_pid
                self.recorded.set()
                assert self.release.wait(SECONDS)
        except Exception as exc:  # pragma: no cover - reported by the test
            self.error = exc
            self.recorded.set()
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        assert self.recorded.wait(SECONDS) and self.error is None, self.error
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(SECONDS)
        assert not self.thread.is_alive()
        assert self.error is None, self.error


def test_a_transaction_that_recorded_an_event_holds_no_chain_lock_until_it_commits(
    committed_tenant,
):
    org = committed_tenant.org
    with _OpenTransaction(org) as slow:
        assert _advisory_locks_of(slow.pid) == 0
        # Another writer of the same organization commits at once, before the slow one.
        with tenant_context(org):
            audit_record(org=org, actor=Actor.system("quick"), action="test.quick")
    actions = [e.action for e in _events(org, action__startswith="test.")]
    assert actions == ["test.quick", "test.slow"]  # the chain is in commit order
    assert _chain_length(org) == len(_events(org))


def test_eight_concurrent_provider_file_reads_never_wait_on_each_other_or_on_a_slow_writer(
    committed_tenant,
):
    org = committed_tenant.org
    providers = [make_provider(org, seed=seed) for seed in range(1, 9)]
    before = len(_events(org, action="roster.provider.viewed"))
    database = connection.settings_dict["NAME"]

    def read(provider):
        client = Client()
        client.force_login(
            committed_tenant.coordinator,
            backend="allauth.account.auth_backends.AuthenticationBackend",
        )
        try:
            statuses = []
            for _ in range(3):
                response = client.get(f"/o/{org.slug}/providers/{provider.pk}/")
                statuses.append(response.status_code)
            return statuses
        finally:
            connection.close()

    # A transaction of the organization has recorded an event and is still open: under the
    # old lock it held the chain lock, and every audited read queued behind it.
    with _OpenTransaction(org) as slow:
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = [pool.submit(read, p) for p in providers]
            results = [f.result(timeout=SECONDS * 4) for f in futures]
        assert _advisory_locks_of(slow.pid) == 0
        assert _waiting_on_locks(database) == []
    assert results == [[200, 200, 200]] * 8
    viewed = _events(org, action="roster.provider.viewed")
    assert len(viewed) - before == 24
    assert _chain_length(org) == len(_events(org))


def test_a_rolled_back_transaction_leaves_no_event_and_no_gap(committed_tenant):
    org = committed_tenant.org
    with pytest.raises(RuntimeError), tenant_context(org):
        audit_record(org=org, actor=Actor.system("t"), action="test.rolled_back")
        raise RuntimeError("the action failed")
    with tenant_context(org):
        with transaction.atomic():
            audit_record(org=org, actor=Actor.system("t"), action="test.kept_outer")
            try:
                with transaction.atomic():
                    audit_record(org=org, actor=Actor.system("t"), action="test.savepoint")
                    raise RuntimeError("inner step failed")
            except RuntimeError:
                pass
            audit_record(org=org, actor=Actor.system("t"), action="test.kept_after")
    actions = [e.action for e in _events(org, action__startswith="test.")]
    assert actions == ["test.kept_outer", "test.kept_after"]
    assert _chain_length(org) == len(_events(org))


def test_an_import_a_screening_run_and_provider_edits_at_once_never_deadlock(committed_tenant):
    org = committed_tenant.org
    tenant = committed_tenant
    load_lists()
    providers = [make_provider(org, seed=seed) for seed in range(20, 60)]
    errors: list[BaseException] = []

    def guarded(fn):
        def wrapper():
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
            finally:
                connection.close()

        return wrapper

    def importer():
        job = run(tenant, csv_bytes([row(seed) for seed in range(300, 420)]), run_mode="inline")
        assert job.status == "done", job.errors[:3]

    finished_runs = []

    def screening():
        for _ in range(3):
            try:
                with tenant_context(org):
                    finished_runs.append(screening_run_now(org=org))
            except RunInProgress:  # the run the import asked for is running: a clear refusal
                time.sleep(0.2)

    def editor(offset):
        def edit():
            actor = tenant.membership(tenant.coordinator)
            for i, provider in enumerate(providers[offset::4]):
                with tenant_context(org):
                    provider_update(
                        org=org, actor=actor, provider=provider, middle_name=f"E{offset}{i}"
                    )

        return edit

    threads = [
        threading.Thread(target=guarded(importer)),
        threading.Thread(target=guarded(screening)),
    ]
    threads += [threading.Thread(target=guarded(editor(i))) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SECONDS * 6)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert finished_runs and all(r.status == "done" for r in finished_runs)
    assert _chain_length(org) == len(_events(org))
    assert len(_events(org, action="roster.provider.updated")) >= len(providers)
