"""Exchange search server time: search by NPI, with requirement matching, over 1,000,000
listings from 200 selling organizations, against the same search on an empty exchange,
measured in the same run.

Target (issue 12): median under 50 ms (aim for 10 ms). Each figure is a Django test Client GET
of /api/v1/exchange/search?npi=... (middleware, tenant scope, the database's listing policy,
the selector, requirement matching, the list-read audit event, JSON: everything but the
network), signed in as a coordinator of a buyer with a requirements profile, over 30 NPIs
that each have listings, 60 runs after 5 warm-up runs; median and p95 printed, with the
ratio to the empty exchange. Also prints the HTML page's median, the query counts (an empty
answer stops after the listing query; a full one adds the sellers, prices, requirements,
roster and the read event, whatever the number of listings) and the EXPLAIN ANALYZE of the
listing query as the application role.

Data: 200 sellers x 1,250 providers (from a pool of 50,000 NPIs, so one clinician is on
about five sellers' rosters) x 4 verifications, each listed (90% live, the rest paused or
expired): 1,000,000 listings, 1,000,000 verifications, 250,000 providers, written with COPY
per organization inside that organization's RLS scope.

Runs in a scratch database it creates and drops. Prints figures; asserts only that every
search answered 200.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credex.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from credex import dbsetup  # noqa: E402

SELLERS = 200
PROVIDERS_PER_SELLER = 1_250
SOURCES = ["state_board", "dea", "board", "nppes"]  # 4 listings per provider
NPI_POOL = 50_000
SAMPLE_NPIS = 30
RUNS = 60
WARMUP = 5
METHODS = ["web", "api", "phone", "fax"]
STATES = ["CA", "TX", "NY", "FL"]


def use_scratch_database() -> str:
    name = f"bench_exchange_{os.getpid()}"
    for alias in ("default", "owner"):
        settings.DATABASES[alias]["NAME"] = name
        connections[alias].settings_dict["NAME"] = name
    dbsetup.bootstrap(drop_first=True, verbosity=0)
    return name


def npi(seed: int) -> str:
    from roster.validation import npi_check_digit

    nine = f"1{seed % 100_000_000:08d}"
    return nine + str(npi_check_digit(nine))


def make_org(name: str, email: str, *, rating: int = 0, trades: int = 0):
    from credex.models import Membership, Role, User
    from credex.services import organization_create
    from credex.tenancy import tenant_context
    from exchange.models import MemberDirectory

    owner = User.objects.create_user(email=f"owner.{email}", password=None)
    org = organization_create(name=name, owner=owner)
    coordinator = User.objects.create_user(email=email, password=None, first_name="Casey")
    with tenant_context(org):
        Membership.objects.create(organization=org, user=coordinator, role=Role.COORDINATOR)
    MemberDirectory.objects.create(
        member=org,
        display_name=name,
        status="approved",
        good_standing=True,
        trade_count=trades,
        rating_count=1 if rating else 0,
        rating_sum=rating,
    )
    return org, coordinator


class Copier:
    """COPY rows of a model, every concrete column, defaults filled the way Django would."""

    def __init__(self, model, conn):
        self.model = model
        self.conn = conn
        self.fields = list(model._meta.concrete_fields)
        self.defaults = {}
        for f in self.fields:
            if f.primary_key:
                continue
            if f.has_default():
                self.defaults[f.attname] = f.get_default()
            elif f.null:
                self.defaults[f.attname] = None
            else:
                self.defaults[f.attname] = ""

    def copy(self, cursor, rows) -> None:
        table = self.model._meta.db_table
        columns = ", ".join(f'"{f.column}"' for f in self.fields)
        with cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(
                    [
                        f.get_db_prep_save(
                            row.get(f.attname, self.defaults.get(f.attname)), self.conn
                        )
                        for f in self.fields
                    ]
                )


def load_exchange(sellers) -> int:
    """Providers, verifications and listings of every seller, with COPY in its RLS scope."""
    from exchange.models import Listing
    from roster.models import Provider
    from verifications.models import Verification

    owner = connections["owner"]
    owner.ensure_connection()
    copiers = {m: Copier(m, owner) for m in (Provider, Verification, Listing)}
    rng = random.Random(12)
    now = timezone.now()
    total = 0
    for index, (org, _) in enumerate(sellers):
        npis = rng.sample(range(NPI_POOL), PROVIDERS_PER_SELLER)
        providers, verifications, listings = [], [], []
        for n in npis:
            pid = uuid.uuid4()
            last = f"Clin{n:05d}"
            providers.append(
                {
                    "id": pid,
                    "organization_id": org.pk,
                    "npi": npi(10_000 + n),
                    "first_name": "Pat",
                    "last_name": last,
                    "provider_type": "MD",
                    "status": "active",
                    "practice_states": ["CA"],
                }
            )
            for k, source in enumerate(SOURCES):
                vid = uuid.uuid4()
                verified_at = now - timedelta(days=(n * 7 + k * 13 + index) % 118, hours=k)
                method = METHODS[(n + k) % 4]
                state = STATES[(n + index) % 4] if source == "state_board" else ""
                verifications.append(
                    {
                        "id": vid,
                        "organization_id": org.pk,
                        "provider_id": pid,
                        "source": source,
                        "source_state": state,
                        "method": method,
                        "result": "verified",
                        "verifier_kind": "member",
                        "verifier_label": "bench",
                        "verified_at": verified_at,
                        "data": {},
                    }
                )
                roll = (n + k + index) % 20
                listings.append(
                    {
                        "id": uuid.uuid4(),
                        "organization_id": org.pk,
                        "verification_id": vid,
                        "provider_id": pid,
                        "seller_name": org.name,
                        "npi": npi(10_000 + n),
                        "clinician_name": f"Pat {last}",
                        "source": source,
                        "source_state": state,
                        "method": method,
                        "verified_at": verified_at,
                        "expires_at": verified_at + timedelta(days=120),
                        "price_cents": None if roll % 3 else 2000 + roll * 50,
                        "status": "paused" if roll == 0 else "expired" if roll == 1 else "live",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        with transaction.atomic(using="owner"), owner.connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.current_org', %s, true)", [str(org.pk)])
            copiers[Provider].copy(cursor, providers)
            copiers[Verification].copy(cursor, verifications)
            copiers[Listing].copy(cursor, listings)
        total += len(listings)
        if (index + 1) % 50 == 0:
            print(f"  {index + 1} sellers loaded ({total:,} listings)", flush=True)
    with owner.cursor() as cursor:
        cursor.execute("ANALYZE")
    return total


def requirements_for(buyer_org, coordinator) -> None:
    from credex.models import Membership
    from credex.tenancy import tenant_context
    from exchange.models import RequirementRule, RequirementsProfile

    with tenant_context(buyer_org):
        member = Membership.objects.get(user=coordinator)
        profile = RequirementsProfile.objects.create(
            organization=buyer_org, min_seller_rating="3.0", updated_by=member
        )
        for source, age, methods, states in (
            ("state_board", 90, ["web", "api"], ["CA", "TX"]),
            ("dea", 120, [], []),
            ("board", 60, ["web"], []),
        ):
            RequirementRule.objects.create(
                organization=buyer_org,
                profile=profile,
                source=source,
                max_age_days=age,
                methods=methods,
                source_states=states,
            )


def roster_for(buyer_org, sample) -> None:
    """The buyer has a third of the sampled clinicians on its roster ("on your roster")."""
    from credex.tenancy import tenant_context
    from roster.models import Provider

    with tenant_context(buyer_org):
        Provider.objects.bulk_create(
            [
                Provider(
                    organization=buyer_org,
                    npi=value,
                    first_name="Pat",
                    last_name="Buyer",
                    provider_type="MD",
                    status="applicant",
                )
                for value in sample[::3]
            ]
        )


def measure(client, path_of, sample) -> tuple[list[float], set[int], list[int]]:
    for value in sample[:WARMUP]:
        assert client.get(path_of(value)).status_code == 200
    queries, found, times = set(), [], []
    for run in range(RUNS):
        value = sample[run % len(sample)]
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(path_of(value))
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.content[:300]
        queries.add(len(ctx.captured_queries))
        if response.get("Content-Type", "").startswith("application/json"):
            found.append(sum(len(g["listings"]) for g in response.json()["results"]))
    return times, queries, found


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def explain(buyer_org, value: str) -> str:
    from credex.tenancy import tenant_context, unscoped
    from exchange.selectors.search import (
        MAX_LISTINGS,
        _with_seller_and_price,
        live_listings_for_others,
    )

    with tenant_context(buyer_org), unscoped():
        qs = (
            _with_seller_and_price(live_listings_for_others(org=buyer_org))
            .filter(npi=value)
            .order_by("source", "-verified_at")[:MAX_LISTINGS]
        )
        return qs.explain(analyze=True, buffers=True)


def main() -> int:
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    name = use_scratch_database()
    try:
        buyer_org, buyer_user = make_org("Lakeside Buyer", "buyer@bench.example")
        requirements_for(buyer_org, buyer_user)
        start = time.perf_counter()
        sellers = [
            make_org(
                f"Seller {i:03d}",
                f"seller{i}@bench.example",
                rating=2 + i % 4,
                trades=i * 3,
            )
            for i in range(SELLERS)
        ]
        print(f"built {SELLERS} seller organizations in {time.perf_counter() - start:.1f} s")
        rng = random.Random(7)
        sample = [npi(10_000 + n) for n in rng.sample(range(NPI_POOL), SAMPLE_NPIS)]
        roster_for(buyer_org, sample)

        client = Client()
        client.force_login(
            buyer_user, backend="allauth.account.auth_backends.AuthenticationBackend"
        )
        extra = {"HTTP_X_CREDEX_ORGANIZATION": buyer_org.slug}

        def api_path(value):
            return f"/api/v1/exchange/search?npi={value}"

        def page_path(value):
            return f"/o/{buyer_org.slug}/exchange/search/?npi={value}"

        client.defaults.update(extra)
        empty = measure(client, api_path, sample)
        empty_page = measure(client, page_path, sample)

        start = time.perf_counter()
        total = load_exchange(sellers)
        print(f"loaded {total:,} listings in {time.perf_counter() - start:.1f} s")
        full = measure(client, api_path, sample)
        full_page = measure(client, page_path, sample)

        print(
            f"search by NPI (API, requirement matching), {RUNS} runs each over {SAMPLE_NPIS} NPIs"
        )
        for label, (times, queries, found) in (("empty", empty), (f"{total:,}", full)):
            listings = f"   listings/answer {statistics.mean(found):.1f}" if found else ""
            print(
                f"  {label:>9} listings: median {statistics.median(times):6.1f} ms   "
                f"p95 {p95(times):6.1f} ms   queries {sorted(queries)}{listings}"
            )
        ratio = statistics.median(full[0]) / statistics.median(empty[0])
        print(f"  ratio full / empty (median): {ratio:.2f}x")
        print("search page (HTML, same searches)")
        for label, (times, queries, _) in (("empty", empty_page), (f"{total:,}", full_page)):
            print(
                f"  {label:>9} listings: median {statistics.median(times):6.1f} ms   "
                f"p95 {p95(times):6.1f} ms   queries {sorted(queries)}"
            )
        verdict = "meets" if statistics.median(full[0]) < 50 else "MISSES"
        print(f"  target: median under 50 ms over 1,000,000 listings -> {verdict}")
        print("EXPLAIN ANALYZE of the listing query (application role, buyer's scope):")
        for line in explain(buyer_org, sample[0]).splitlines():
            print(f"  {line}")
    finally:
        connections.close_all()
        dbsetup.drop_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
