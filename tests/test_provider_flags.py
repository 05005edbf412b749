"""A provider's flags - an unreviewed screening match (an exact-NPI one says so), a confirmed
exclusion, a deactivated NPI, an expired licence - show wherever the provider's name is listed
(providers list, dashboard, inbox, PSV queue, enrollments, committee queue) and in the file's
header, from one selector whose query count does not grow with the rows; committee readiness
names the open match and the deactivated NPI."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from committee.models import CommitteeReview
from committee.selectors import provider_readiness
from credex.tenancy import tenant_context
from enrollment import services as enrollment_svc
from roster.services import inbox as inbox_svc
from roster.services.providers import credential_create, provider_set_exclusion
from screening.loaders import load_dataset
from screening.models import ScreeningHit
from screening.nppes.models import NppesCheck
from screening.services import screening_run_now
from tests.factories import make_provider

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures_screening"
ALI_NPI = "1790709913"  # on the LEIE fixture: an exact-NPI match


def licence(tenant, provider, expiry: date, number="L-1"):
    with tenant_context(tenant.org):
        return credential_create(
            org=tenant.org,
            actor=tenant.membership(tenant.owner),
            provider=provider,
            kind="state_license",
            number=number,
            state="CA",
            issue_date=expiry - timedelta(days=700),
            expiry_date=expiry,
        )


@pytest.fixture
def world(tenant_a):
    """Five providers: one per flag kind, and one with none."""
    today = timezone.localdate()
    org, owner = tenant_a.org, tenant_a.membership(tenant_a.owner)
    coordinator = tenant_a.membership(tenant_a.coordinator)
    # The base list is dated before the October 2016 supplement (an older one is refused).
    load_dataset(
        source="leie", origin=str(FIXTURES / "UPDATED_head_2026.csv"), as_of=date(2016, 10, 1)
    )
    load_dataset(source="leie", origin=str(FIXTURES / "1610EXCL.csv"))
    ali = make_provider(
        org, seed=1, first_name="Mo", last_name="Ali", npi=ALI_NPI, coordinator=coordinator
    )
    gone = make_provider(org, seed=2, last_name="Gonenpi", coordinator=coordinator)
    barred = make_provider(org, seed=3, last_name="Barred", coordinator=coordinator)
    lapsed = make_provider(org, seed=4, last_name="Lapsed", coordinator=coordinator)
    fine = make_provider(org, seed=5, last_name="Fine", coordinator=coordinator)
    for n, p in enumerate((ali, gone, barred, fine)):
        licence(tenant_a, p, today + timedelta(days=20), number=f"L{n}")
    licence(tenant_a, lapsed, today - timedelta(days=10), number="L9")
    with tenant_context(org):
        screening_run_now(org=org)
        assert list(ScreeningHit.objects.values_list("provider_id", "kind")) == [(ali.pk, "npi")]
        NppesCheck.objects.create(
            organization=org, provider=gone, npi=gone.npi, outcome="deactivated"
        )
        provider_set_exclusion(org=org, provider=barred, excluded=True, source="test")
        inbox_svc.inbox_generate(org=org, today=today)
        payer = enrollment_svc.payer_create(org=org, actor=owner, name="Cascade Health")
        for p in (ali, gone, barred, lapsed, fine):
            CommitteeReview.objects.create(
                organization=org,
                provider=p,
                cycle="initial",
                meeting_date=today + timedelta(days=14),
            )
        for p in (ali, gone, lapsed, fine):
            enrollment_svc.enrollment_request(org=org, actor=owner, provider=p, payers=[payer])
    return SimpleNamespace(ali=ali, gone=gone, barred=barred, lapsed=lapsed, fine=fine)


EXPECTED = {
    "ali": {"possible_match"},
    "gone": {"npi_deactivated"},
    "barred": {"excluded"},
    "lapsed": {"licence_expired"},
    "fine": set(),
}


def flags_near(body: str, provider) -> set[str]:
    """The flags shown after each link to the provider's file, in the same row or item."""
    found = set()
    for m in re.finditer(rf'href="/o/[^/]+/providers/{provider.pk}/"', body):
        rest = body[m.end() :]
        end = min(i for i in (rest.find("</tr>"), rest.find("</li>"), len(rest)) if i >= 0)
        found |= set(re.findall(r'data-flag="([a-z_]+)"', rest[:end]))
    return found


def page(client, tenant, path, **query):
    response = client.get(f"/o/{tenant.org.slug}/{path}", query)
    assert response.status_code == 200, path
    return response.content.decode()


@pytest.mark.parametrize(
    "path",
    ["providers/", "verifications/", "committee/", "enrollments/"],
)
def test_every_list_shows_each_providers_flags(tenant_a, world, login, path):
    body = page(login(tenant_a.coordinator), tenant_a, path)
    for name, want in EXPECTED.items():
        provider = getattr(world, name)
        if path == "enrollments/" and name == "barred":
            continue  # no enrollment requested for the excluded provider
        assert flags_near(body, provider) == want, (path, name)


def test_the_inbox_shows_the_flags_of_each_items_provider(tenant_a, world, login):
    body = page(login(tenant_a.coordinator), tenant_a, "inbox/")
    for name, want in EXPECTED.items():
        assert flags_near(body, getattr(world, name)) == want, name


def test_the_dashboard_lists_show_the_flags(tenant_a, world, login):
    body = page(login(tenant_a.coordinator), tenant_a, "")
    # the expiring-credentials list names all five; the screening block names Ali
    for name, want in EXPECTED.items():
        assert flags_near(body, getattr(world, name)) == want, name


def test_the_file_header_shows_the_flags(tenant_a, world, login):
    client = login(tenant_a.coordinator)
    for name, want in EXPECTED.items():
        provider = getattr(world, name)
        body = page(client, tenant_a, f"providers/{provider.pk}/")
        header = body[body.index("<h1>") : body.index("</h1>")]
        assert set(re.findall(r'data-flag="([a-z_]+)"', header)) == want, name
    ali = page(client, tenant_a, f"providers/{world.ali.pk}/")
    assert "(one on the exact NPI)" in ali and "NPI match</span>" in ali
    gone = page(client, tenant_a, f"providers/{world.gone.pk}/")
    assert f"NPPES lists NPI {world.gone.npi} as deactivated." in gone


def test_committee_readiness_names_the_open_match_and_the_deactivated_npi(tenant_a, world, login):
    with tenant_context(tenant_a.org):
        ali = provider_readiness(org=tenant_a.org, provider=world.ali).reasons
        gone = provider_readiness(org=tenant_a.org, provider=world.gone).reasons
        fine = provider_readiness(org=tenant_a.org, provider=world.fine).reasons
    assert any(r.startswith("Open screening match: 1 unreviewed OIG/SAM") for r in ali)
    assert any(r.startswith("NPI deactivated: NPPES lists NPI") for r in gone)
    assert not any("screening match" in r or "deactivated" in r for r in fine)
    # and through the API that marks a file ready
    with tenant_context(tenant_a.org):
        CommitteeReview.objects.filter(provider=world.ali).delete()
    refused = login(tenant_a.coordinator).post(
        f"/api/v1/providers/{world.ali.pk}/committee/ready",
        json.dumps({}),
        content_type="application/json",
    )
    assert refused.status_code == 409
    assert any("Open screening match" in r for r in refused.json()["details"]["reasons"])


def test_a_reviewed_match_is_no_longer_a_flag(tenant_a, world, login):
    with tenant_context(tenant_a.org):
        ScreeningHit.objects.filter(provider=world.ali).update(status="cleared")
    body = page(login(tenant_a.coordinator), tenant_a, "providers/")
    assert flags_near(body, world.ali) == set()


def test_the_providers_list_query_count_is_the_same_for_5_and_20_flagged_providers(tenant_a, login):
    today = timezone.localdate()
    org = tenant_a.org

    def grow(start, stop):
        for i in range(start, stop):
            p = make_provider(org, seed=200 + i)
            licence(tenant_a, p, today - timedelta(days=3), number=f"X{i}")
            with tenant_context(org):
                NppesCheck.objects.create(
                    organization=org, provider=p, npi=p.npi, outcome="deactivated"
                )
                if i % 2:
                    provider_set_exclusion(org=org, provider=p, excluded=True, source="test")

    client = login(tenant_a.coordinator)
    grow(0, 5)
    page(client, tenant_a, "providers/")  # warm caches
    with CaptureQueriesContext(connection) as small:
        body = page(client, tenant_a, "providers/")
    assert body.count('data-flag="npi_deactivated"') == 5
    grow(5, 20)
    with CaptureQueriesContext(connection) as large:
        body = page(client, tenant_a, "providers/")
    assert body.count('data-flag="npi_deactivated"') == 20
    assert body.count('data-flag="licence_expired"') == 20
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]
