"""Issue 10.1: a provider with a confirmed exclusion cannot be enrolled with a payer.

The exclusion is confirmed the real way (LEIE sample loaded, roster screened, the exact-NPI
hit confirmed); then new requests and resubmissions are refused (service, page, API 409 with
the error shape, nothing written), open applications are flagged in the worklist and the
provider file, and the dashboard says how many excluded providers still have open ones.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from credex.dashboard import dashboard_summary
from credex.errors import Conflict
from credex.tenancy import tenant_context
from enrollment import services as svc
from enrollment.models import Enrollment, EnrollmentStatus
from screening.loaders import load_dataset
from screening.models import ScreeningHit
from screening.services import hit_confirm, screening_run_now
from tests.factories import make_provider

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures_screening"
ALI_NPI = "1790709913"  # on the LEIE sample (1610EXCL.csv)
S = EnrollmentStatus


@pytest.fixture(autouse=True)
def _generous_throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


def coordinator(tenant):
    return tenant.membership(tenant.coordinator)


@pytest.fixture
def world(tenant_a):
    """Org A: Mo Ali (on the LEIE sample) with an application in follow-up, a clean provider,
    two payers; then Ali's exact-NPI hit is confirmed."""
    # The supplement sample is from October 2016: the list under it must not be newer
    # (a supplement older than the active list is refused).
    load_dataset(
        source="leie", origin=str(FIXTURES / "UPDATED_head_2026.csv"), as_of=date(2016, 10, 1)
    )
    load_dataset(source="leie", origin=str(FIXTURES / "1610EXCL.csv"))
    ali = make_provider(tenant_a.org, seed=7, first_name="Mo", last_name="Ali", npi=ALI_NPI)
    clean = make_provider(tenant_a.org, seed=8, first_name="Cara", last_name="Clean")
    member = coordinator(tenant_a)
    with tenant_context(tenant_a.org):
        blue = svc.payer_create(org=tenant_a.org, actor=member, name="Blue Plan")
        green = svc.payer_create(org=tenant_a.org, actor=member, name="Green Plan")
        (open_app,) = svc.enrollment_request(
            org=tenant_a.org, actor=member, provider=ali, payers=[blue]
        )
        for to in (S.IN_PREPARATION, S.SUBMITTED, S.IN_FOLLOW_UP):
            svc.enrollment_transition(org=tenant_a.org, actor=member, enrollment=open_app, to=to)
        screening_run_now(org=tenant_a.org)
        hit = ScreeningHit.objects.get(provider=ali)
        hit_confirm(org=tenant_a.org, actor=member, hit=hit, note="Checked OIG.")
        ali.refresh_from_db()
    assert ali.excluded
    return {"ali": ali, "clean": clean, "blue": blue, "green": green, "open": open_app}


def _count(org):
    with tenant_context(org):
        return Enrollment.objects.filter(organization=org).count()


def test_a_new_request_for_an_excluded_provider_is_refused_and_nothing_is_written(tenant_a, world):
    before = _count(tenant_a.org)
    with tenant_context(tenant_a.org):
        events = AuditEvent.objects.filter(organization=tenant_a.org).count()
        with pytest.raises(Conflict) as exc:
            svc.enrollment_request(
                org=tenant_a.org,
                actor=coordinator(tenant_a),
                provider=world["ali"],
                payers=[world["green"]],
            )
        assert AuditEvent.objects.filter(organization=tenant_a.org).count() == events
    assert exc.value.code == "provider_excluded"
    assert "confirmed exclusion" in exc.value.message and "Mo Ali" in exc.value.message
    assert _count(tenant_a.org) == before


def test_a_stale_provider_instance_does_not_slip_past_the_check(tenant_a, world):
    """The service re-reads the locked row: an instance loaded before the confirmation
    (excluded=False in memory) is still refused."""
    stale = world["ali"]
    stale.excluded = False
    with tenant_context(tenant_a.org), pytest.raises(Conflict):
        svc.enrollment_request(
            org=tenant_a.org, actor=coordinator(tenant_a), provider=stale, payers=[world["green"]]
        )


def test_a_resubmission_preparation_or_approval_is_refused_but_withdrawal_works(tenant_a, world):
    app = world["open"]
    member = coordinator(tenant_a)
    with tenant_context(tenant_a.org):
        for to in (S.RESUBMITTED, S.APPROVED):
            with pytest.raises(Conflict) as exc:
                svc.enrollment_transition(
                    org=tenant_a.org,
                    actor=member,
                    enrollment=app,
                    to=to,
                    effective_date=timezone.localdate(),
                )
            assert exc.value.code == "provider_excluded"
            app.refresh_from_db()
            assert app.status == S.IN_FOLLOW_UP and app.resubmissions == 0
        assert svc.allowed_transitions(app) == [S.DENIED, S.WITHDRAWN]
        svc.enrollment_transition(org=tenant_a.org, actor=member, enrollment=app, to=S.WITHDRAWN)
        app.refresh_from_db()
    assert app.status == S.WITHDRAWN


def test_a_clean_provider_is_still_enrolled_normally(tenant_a, world):
    with tenant_context(tenant_a.org):
        created = svc.enrollment_request(
            org=tenant_a.org,
            actor=coordinator(tenant_a),
            provider=world["clean"],
            payers=[world["green"]],
        )
    assert len(created) == 1


def test_the_api_answers_409_with_the_error_shape_and_writes_nothing(tenant_a, world, login):
    client = login(tenant_a.coordinator)
    before = _count(tenant_a.org)
    base = "/api/v1"
    r = client.post(
        f"{base}/enrollments",
        {"provider": str(world["ali"].pk), "payer": str(world["green"].pk)},
        content_type="application/json",
    )
    assert r.status_code == 409, r.content
    body = r.json()
    assert body["code"] == "provider_excluded"
    assert "confirmed exclusion" in body["message"] and "details" in body
    assert _count(tenant_a.org) == before
    r = client.post(
        f"{base}/enrollments/{world['open'].pk}/transition",
        {"to": "resubmitted"},
        content_type="application/json",
    )
    assert r.status_code == 409 and r.json()["code"] == "provider_excluded"
    r = client.get(f"{base}/enrollments/{world['open'].pk}")
    assert r.json()["provider_excluded"] is True
    assert r.json()["status"] == "in_follow_up" and r.json()["resubmissions"] == 0


def test_the_new_enrollment_page_says_why_and_keeps_the_choice(tenant_a, world, login):
    client = login(tenant_a.coordinator)
    before = _count(tenant_a.org)
    r = client.post(
        f"/o/{tenant_a.org.slug}/enrollments/new/",
        {"provider": str(world["ali"].pk), "payers": [str(world["green"].pk)]},
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert "confirmed exclusion" in html and "Requested 1 enrollment" not in html
    assert "cannot be enrolled" in html  # the picker marks the provider
    assert _count(tenant_a.org) == before


def test_open_applications_of_an_excluded_provider_are_flagged_in_the_worklist_and_file(
    tenant_a, world, login
):
    client = login(tenant_a.coordinator)
    html = client.get(f"/o/{tenant_a.org.slug}/enrollments/").content.decode()
    assert "Excluded provider · open" in html
    r = client.get(f"/o/{tenant_a.org.slug}/enrollments/?excluded=1")
    assert r.status_code == 200 and "Mo" in r.content.decode()
    frag = client.get(
        f"/o/{tenant_a.org.slug}/enrollments/provider/{world['ali'].pk}/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Excluded provider · open" in frag
    panel = client.get(
        f"/o/{tenant_a.org.slug}/enrollments/{world['open'].pk}/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "cannot be prepared, submitted, resubmitted or approved" in panel
    assert 'value="resubmitted"' not in panel and 'value="withdrawn"' in panel


def test_the_page_refuses_a_resubmission_with_the_reason(tenant_a, world, login):
    client = login(tenant_a.coordinator)
    r = client.post(
        f"/o/{tenant_a.org.slug}/enrollments/{world['open'].pk}/step/",
        {"to": "resubmitted"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 400 and "confirmed exclusion" in r.content.decode()
    with tenant_context(tenant_a.org):
        world["open"].refresh_from_db()
    assert world["open"].resubmissions == 0


def test_the_dashboard_counts_excluded_providers_with_open_enrollments(tenant_a, world, login):
    with tenant_context(tenant_a.org):
        d = dashboard_summary(org=tenant_a.org)
    assert d.enrollments["excluded_providers"] == 1
    assert d.start_here[0]["url"].endswith("?excluded=1")
    html = login(tenant_a.coordinator).get(f"/o/{tenant_a.org.slug}/").content.decode()
    assert "1 provider with a confirmed exclusion has open enrollments" in html


def test_an_outsider_sees_nothing_of_the_flag_and_cannot_request(tenant_a, tenant_b, world, login):
    client = login(tenant_b.owner)
    before = _count(tenant_a.org)
    r = client.post(
        "/api/v1/enrollments",
        {"provider": str(world["ali"].pk), "payer": str(world["green"].pk)},
        content_type="application/json",
    )
    # Another organization's provider is "no such provider" (not a 409 that would reveal it).
    assert r.status_code == 400 and r.json()["code"] != "provider_excluded"
    assert _count(tenant_a.org) == before
    assert client.get(f"/o/{tenant_a.org.slug}/enrollments/?excluded=1").status_code == 404
    with tenant_context(tenant_b.org):
        d = dashboard_summary(org=tenant_b.org)
    assert d.enrollments["excluded_providers"] == 0
