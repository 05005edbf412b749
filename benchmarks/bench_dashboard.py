"""Dashboard server time: an organization with 5,000 providers and 40,000 credentials, against
the same page for an organization with an empty roster, measured in the same run.

Target (issue 5): median under 150 ms for the large roster. Each figure is a Django test
Client GET of /o/<slug>/ (middleware, tenant scope, selectors, template: everything but the
network), signed in as a coordinator, 30 runs after 3 warm-up runs; median and p95 printed,
with the ratio to the empty roster. Also prints the number of queries each page ran (they
must be equal: the dashboard's query count does not grow with the roster).

Runs in a scratch database it creates and drops. Prints figures; asserts nothing but that
both pages answered 200 with the same number of queries.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credex.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from credex import dbsetup  # noqa: E402

PROVIDERS = 5_000
CREDENTIALS_PER_PROVIDER = 8  # 40,000 credentials
RUNS = 30
WARMUP = 3
KINDS = [
    "state_license",
    "dea",
    "cds",
    "board_cert",
    "malpractice",
    "privileges",
    "life_support",
    "education",
]


def use_scratch_database() -> str:
    name = f"bench_dashboard_{os.getpid()}"
    for alias in ("default", "owner"):
        settings.DATABASES[alias]["NAME"] = name
        connections[alias].settings_dict["NAME"] = name
    dbsetup.bootstrap(drop_first=True, verbosity=0)
    return name


def npi(seed: int) -> str:
    from roster.validation import npi_check_digit

    nine = f"1{seed % 100_000_000:08d}"
    return nine + str(npi_check_digit(nine))


def make_org(name: str, email: str):
    from credex.models import Membership, Role, User
    from credex.services import organization_create
    from credex.tenancy import tenant_context

    owner = User.objects.create_user(email=f"owner.{email}", password=None)
    org = organization_create(name=name, owner=owner)
    coordinator = User.objects.create_user(email=email, password=None, first_name="Casey")
    with tenant_context(org):
        membership = Membership.objects.create(
            organization=org, user=coordinator, role=Role.COORDINATOR
        )
    return org, coordinator, membership


def build_roster(org, membership) -> None:
    """5,000 providers, 40,000 credentials spread over two years, enrollments, documents."""
    from django.utils import timezone

    from credex.tenancy import tenant_context
    from enrollment.models import Enrollment, Payer
    from roster.models import Credential, Document, Provider

    today = timezone.localdate()
    with tenant_context(org):
        providers = [
            Provider(
                organization=org,
                npi=npi(10_000 + i),
                first_name="Pat",
                last_name=f"Bench{i:05d}",
                provider_type="MD",
                status="applicant" if i % 25 == 0 else "active",
                coordinator=membership,
                recredentialing_due_date=today + timedelta(days=(i * 7) % 1095 - 30),
                caqh_last_attested=today - timedelta(days=(i * 3) % 140),
            )
            for i in range(PROVIDERS)
        ]
        Provider.objects.bulk_create(providers, batch_size=2000)
        credentials = (
            Credential(
                organization=org,
                provider=p,
                kind=KINDS[k],
                number=f"N{i}-{k}",
                issue_date=today - timedelta(days=1500),
                expiry_date=None
                if KINDS[k] == "education"
                else today + timedelta(days=(i * 11 + k * 97) % 730 - 60),
            )
            for i, p in enumerate(providers)
            for k in range(CREDENTIALS_PER_PROVIDER)
        )
        Credential.objects.bulk_create(credentials, batch_size=5000)
        payers = [Payer.objects.create(organization=org, name=f"Payer {n}") for n in range(8)]
        Enrollment.objects.bulk_create(
            (
                Enrollment(
                    organization=org,
                    provider=p,
                    payer=payers[i % 8],
                    status=["requested", "submitted", "in_follow_up", "approved"][i % 4],
                    next_follow_up=today + timedelta(days=i % 30 - 15),
                )
                for i, p in enumerate(providers[:2000])
            ),
            batch_size=2000,
        )
        Document.objects.bulk_create(
            (
                Document(
                    organization=org,
                    provider=p,
                    kind="license",
                    file=f"documents/{org.pk}/{p.pk}/{i}",
                    original_name="licence.pdf",
                    content_type="application/pdf",
                    size=1000,
                    sha256=hashlib.sha256(str(i).encode()).hexdigest(),
                    created_at=timezone.now() - timedelta(hours=i % 200),
                )
                for i, p in enumerate(providers[:3000])
            ),
            batch_size=3000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(client, org, page: str = "") -> tuple[list[float], int]:
    url = f"/o/{org.slug}/{page}"
    for _ in range(WARMUP):
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    queries = len(ctx.captured_queries)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return times, queries


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def main() -> int:
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    name = use_scratch_database()
    try:
        empty_org, empty_user, _ = make_org("Empty Roster", "empty@bench.example")
        big_org, big_user, big_member = make_org("Big Roster", "big@bench.example")
        start = time.perf_counter()
        build_roster(big_org, big_member)
        # A bulk load leaves the planner without statistics until autovacuum's ANALYZE runs
        # (a live database has them); without them it picks nested loops for every join.
        with connections["owner"].cursor() as cursor:
            cursor.execute("ANALYZE")
        print(
            f"built {PROVIDERS:,} providers and {PROVIDERS * CREDENTIALS_PER_PROVIDER:,} "
            f"credentials in {time.perf_counter() - start:.1f} s"
        )
        results = {}
        for label, org, user in (("empty", empty_org, empty_user), ("5,000", big_org, big_user)):
            client = Client()
            client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
            results[label] = measure(client, org)
        print(f"dashboard server time, {RUNS} runs each (measured under load: shared cores)")
        for label, (times, queries) in results.items():
            print(
                f"  {label:>6} providers: median {statistics.median(times):6.1f} ms   "
                f"p95 {p95(times):6.1f} ms   queries {queries}"
            )
        # The PSV queue page (the whole queue: every credential of the roster without a
        # current verification, ~47,000 rows here, sorted by urgency; no target in the issue).
        queue = {}
        for label, org, user in (("empty", empty_org, empty_user), ("5,000", big_org, big_user)):
            client = Client()
            client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
            queue[label] = measure(client, org, "verifications/")
        print(f"PSV queue page (first page of 50), {RUNS} runs each")
        for label, (times, queries) in queue.items():
            print(
                f"  {label:>6} providers: median {statistics.median(times):6.1f} ms   "
                f"p95 {p95(times):6.1f} ms   queries {queries}"
            )
        empty_median = statistics.median(results["empty"][0])
        big_median = statistics.median(results["5,000"][0])
        print(f"  ratio 5,000 / empty (median): {big_median / empty_median:.2f}x")
        verdict = "meets" if big_median < 150 else "MISSES"
        print(f"  target: median under 150 ms for 5,000 providers -> {verdict}")
        assert results["empty"][1] == results["5,000"][1], "query count grew with the roster"
    finally:
        connections.close_all()
        dbsetup.drop_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
