"""The coordinator's dashboard: counts on a known data set, a query count that does not grow
with the roster, the "Start here" picks, the chart's numbers, and who may see it."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credex.dashboard import dashboard_summary
from credex.tenancy import tenant_context
from enrollment.models import Enrollment, Payer
from roster.models import Credential, Document, Provider
from tests.conftest import add_member, build_tenant, make_user
from tests.factories import valid_npi


def build_roster(org, n: int, *, coordinator=None, seed: int = 0) -> None:
    """n providers, each with credentials across the date scale, plus enrollments and documents.

    Bulk-inserted (leaf rows, as a factory would) so 1,000 providers take a second.
    """
    today = timezone.localdate()
    with tenant_context(org):
        providers = [
            Provider(
                organization=org,
                npi=valid_npi(seed + i),
                first_name="Pat",
                last_name=f"Roster{seed + i:05d}",
                provider_type="MD",
                status="applicant" if i % 10 == 0 else "active",
                coordinator=coordinator,
                recredentialing_due_date=today + timedelta(days=(i * 7) % 400 - 20),
                caqh_last_attested=today - timedelta(days=(i * 5) % 150),
            )
            for i in range(n)
        ]
        Provider.objects.bulk_create(providers)
        creds = []
        for i, p in enumerate(providers):
            for k, kind in enumerate(("state_license", "dea", "board_cert", "malpractice")):
                creds.append(
                    Credential(
                        organization=org,
                        provider=p,
                        kind=kind,
                        number=f"N{i}-{k}",
                        expiry_date=today + timedelta(days=(i * 13 + k * 37) % 500 - 30),
                    )
                )
        Credential.objects.bulk_create(creds)
        payer = Payer.objects.create(organization=org, name=f"Payer {seed}")
        Enrollment.objects.bulk_create(
            Enrollment(
                organization=org,
                provider=p,
                payer=payer,
                status="requested" if i % 2 else "submitted",
                next_follow_up=today - timedelta(days=3),
            )
            for i, p in enumerate(providers[: max(2, n // 10)])
        )
        Document.objects.bulk_create(
            Document(
                organization=org,
                provider=p,
                kind="license",
                file=f"documents/{org.pk}/{p.pk}/{i}",
                original_name="licence.pdf",
                content_type="application/pdf",
                size=10,
                sha256=hashlib.sha256(str(i).encode()).hexdigest(),
            )
            for i, p in enumerate(providers[: max(2, n // 20)])
        )


def dashboard_queries(client, org) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/o/{org.slug}/")
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_the_dashboard_query_count_is_the_same_for_10_and_1000_providers(db, login):
    small = build_tenant("Small Practice", "small.example")
    large = build_tenant("Large System", "large.example")
    build_roster(small.org, 10, coordinator=small.membership(small.coordinator), seed=100)
    build_roster(large.org, 1000, coordinator=large.membership(large.coordinator), seed=20000)
    # the same person in both (same switcher size, same session work)
    person = make_user("both@example.com")
    add_member(small.org, person, "coordinator")
    add_member(large.org, person, "coordinator")
    client = login(person)
    dashboard_queries(client, small.org)  # warm caches (content types, session)
    small_count, small_body = dashboard_queries(client, small.org)
    large_count, large_body = dashboard_queries(client, large.org)
    assert "10 providers on the roster" in small_body
    assert "1000 providers on the roster" in large_body
    assert small_count == large_count, (small_count, large_count)


@pytest.fixture
def known(tenant_a):
    """A hand-made roster whose every count is known."""
    org = tenant_a.org
    today = timezone.localdate()
    coordinator = tenant_a.membership(tenant_a.coordinator)
    with tenant_context(org):

        def provider(name, **extra):
            return Provider.objects.create(
                organization=org,
                first_name="Kim",
                last_name=name,
                provider_type="NP",
                status=extra.pop("status", "active"),
                coordinator=coordinator,
                **extra,
            )

        a = provider("Adams", recredentialing_due_date=today - timedelta(days=2))
        b = provider("Baker", recredentialing_due_date=today + timedelta(days=100))
        c = provider("Chen", caqh_last_attested=today - timedelta(days=125))  # overdue
        d = provider("Diaz", caqh_last_attested=today - timedelta(days=100), status="applicant")
        provider("Gone", status="terminated", recredentialing_due_date=today)

        def cred(p, days, kind="state_license", **extra):
            Credential.objects.create(
                organization=org,
                provider=p,
                kind=kind,
                expiry_date=today + timedelta(days=days),
                **extra,
            )

        cred(a, -1)  # expired
        cred(a, 0, kind="dea")  # today: within 30
        cred(b, 30)  # within 30
        cred(b, 45, kind="dea")  # 31-60
        cred(c, 75)  # 61-90
        cred(c, 91)  # beyond
        cred(d, 10, kind="education")  # does not expire
        cred(d, 12, status="revoked")  # no longer held
        payer = Payer.objects.create(organization=org, name="Acme Care")
        Enrollment.objects.create(organization=org, provider=a, payer=payer)  # requested
        Enrollment.objects.create(
            organization=org,
            provider=b,
            payer=payer,
            status="in_follow_up",
            next_follow_up=today - timedelta(days=1),
        )
        Enrollment.objects.create(
            organization=org,
            provider=c,
            payer=payer,
            status="submitted",
            next_follow_up=today + timedelta(days=5),
        )
        for n, age in enumerate((1, 30)):
            Document.objects.create(
                organization=org,
                provider=a,
                kind="cv",
                file=f"documents/x/{n}",
                original_name="cv.pdf",
                content_type="application/pdf",
                size=5,
                sha256="0" * 64,
                created_at=timezone.now() - timedelta(hours=age),
            )
    return tenant_a


def test_the_dashboard_counts_a_known_roster_correctly(known):
    with tenant_context(known.org):
        d = dashboard_summary(org=known.org, membership=known.membership(known.coordinator))
    e = d.expiring
    assert (e["expired"], e["d30"], e["d60"], e["d90"], e["total"]) == (1, 2, 1, 1, 5)
    assert [c.provider.last_name for c in e["top"]] == ["Adams", "Adams", "Baker", "Baker", "Chen"]
    assert (d.recred["overdue"], d.recred["120"], d.recred["total"]) == (1, 1, 2)
    assert (d.caqh["overdue"], d.caqh["30"]) == (1, 1)
    assert [p.last_name for p in d.caqh["top"]] == ["Chen", "Diaz"]
    assert d.psv["applicants"] == 1
    # The PSV block is the real queue: nothing is verified in this roster, so every PSV
    # credential of an applicant or active provider waits, plus NPPES/OIG/SAM for each.
    assert d.psv["count"] > 0 and d.psv["overdue"] == 0
    assert len(d.psv["top"]) == min(5, d.psv["count"])
    assert {i.provider.last_name for i in d.psv["top"]} <= {"Adams", "Baker", "Chen", "Diaz"}
    en = d.enrollments
    assert (en["requested"], en["overdue"], en["in_progress"]) == (1, 1, 2)
    assert [(r["enrollment"].provider.last_name, r["overdue"]) for r in en["top"]] == [
        ("Baker", True),
        ("Adams", False),
    ]
    assert d.documents["count"] == 1 and d.documents["pending"] == 1
    assert d.chart["total"] == 4  # today, +30, +45, +75
    assert [b["count"] for b in d.chart["bars"]][:1] == [1]
    assert sum(b["count"] for b in d.chart["bars"]) == 4
    assert d.providers == 5


def test_start_here_picks_the_three_most_pressing_things(known):
    with tenant_context(known.org):
        d = dashboard_summary(org=known.org)
    assert [s["title"] for s in d.start_here] == [
        "Renew 1 expired credential",
        "Re-credential 1 overdue provider",
        "Chase 2 credentials expiring within 30 days",
    ]
    assert "kind=credential_expiry" in d.start_here[0]["url"]


def test_the_dashboard_page_shows_the_blocks_and_the_chart_table(known, login):
    body = login(known.coordinator).get(f"/o/{known.org.slug}/").content.decode()
    assert "Renew 1 expired credential" in body
    assert "<svg" in body and "Show the numbers as a table" in body
    assert "Adams" in body and "Acme Care" in body
    assert "No screening runs yet" in body or "Overnight screening" in body
    assert f"/o/{known.org.slug}/inbox/?kind=credential_expiry" in body


def test_an_empty_roster_shows_next_steps_instead_of_blank_blocks(tenant_a, login):
    body = login(tenant_a.owner).get(f"/o/{tenant_a.org.slug}/").content.decode()
    assert "No providers yet" in body and "import a CSV" in body
    assert "Invite your team" in body


def test_the_auditor_sees_the_dashboard_read_only(known, login):
    response = login(known.auditor).get(f"/o/{known.org.slug}/")
    assert response.status_code == 200
    assert "Renew 1 expired credential" in response.content.decode()


def test_the_cross_org_link_shows_only_for_members_of_several_organizations(
    tenant_a, tenant_b, login
):
    body = login(tenant_a.coordinator).get(f"/o/{tenant_a.org.slug}/").content.decode()
    assert "/expiring/" not in body
    add_member(tenant_b.org, tenant_a.coordinator, "coordinator")
    body = login(tenant_a.coordinator).get(f"/o/{tenant_a.org.slug}/").content.decode()
    assert 'href="/expiring/"' in body


def test_the_top_bar_search_opens_the_provider_list(tenant_a, login):
    response = login(tenant_a.coordinator).get(f"/o/{tenant_a.org.slug}/?q=Doe 12")
    assert response.status_code == 302
    assert response["Location"] == f"/o/{tenant_a.org.slug}/providers/?q=Doe+12"
