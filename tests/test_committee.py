"""Committee review: readiness (with its reasons), decisions and the dates they set, the
30-day notification tracker, the pages and the API, and who may do what.

Real Postgres (RLS on), real services; org A has an owner, admin, coordinator and auditor,
org B an outsider.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from committee import selectors as sel
from committee import services as svc
from committee.models import CommitteeReview
from credex.errors import Conflict, Forbidden, InvalidInput
from credex.services import organization_update_settings
from credex.tenancy import tenant_context
from demo.seeders.committee import seed_demo_committee
from roster.models import Provider
from roster.services.providers import add_months, credential_create
from roster.services.requirements import requirement_set_for_type
from tests.factories import make_provider
from verifications.services.records import verification_record

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


@pytest.fixture(autouse=True)
def _generous_throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


# --- helpers ------------------------------------------------------------------------------------
def coordinator(tenant):
    return tenant.membership(tenant.coordinator or tenant.owner)


def require_license_and_malpractice(tenant, provider_type="MD"):
    """The organization requires a state license and malpractice insurance (no documents)."""
    with tenant_context(tenant.org):
        requirement_set_for_type(
            org=tenant.org,
            actor=tenant.membership(tenant.owner),
            provider_type=provider_type,
            required={"state_license": False, "malpractice": False},
        )


def add_credential(tenant, provider, kind, *, expiry=None, **extra):
    with tenant_context(tenant.org):
        return credential_create(
            org=tenant.org,
            actor=coordinator(tenant),
            provider=provider,
            kind=kind,
            state="CA" if kind == "state_license" else "",
            issue_date=date(2020, 1, 1),
            expiry_date=expiry or TODAY() + timedelta(days=400),
            **extra,
        )


def verify(tenant, provider, credential, *, days_ago=90, result="verified"):
    """A primary-source verification of the credential, `days_ago` days ago."""
    source = {"state_license": "state_board", "malpractice": "malpractice_carrier"}.get(
        credential.kind, credential.kind
    )
    with tenant_context(tenant.org):
        return verification_record(
            org=tenant.org,
            actor=coordinator(tenant),
            provider=provider,
            credential=credential,
            source=source,
            method="web",
            result=result,
            verified_at=timezone.now() - timedelta(days=days_ago),
        )


def verify_before(tenant, provider, day: date):
    """Verify every credential of the provider ten days before `day` (a past decision)."""
    with tenant_context(tenant.org):
        credentials = list(provider.credentials.all())
    for credential in credentials:
        verify(tenant, provider, credential, days_ago=(TODAY() - day).days + 10)


def ready_provider(tenant, seed=1, **fields):
    """A provider whose file meets the requirements (set up here too), each required
    credential verified at its primary source 90 days ago (inside the 120-day window)."""
    require_license_and_malpractice(tenant)
    provider = make_provider(tenant.org, seed=seed, **fields)
    for kind in ("state_license", "malpractice"):
        verify(tenant, provider, add_credential(tenant, provider, kind))
    return provider


def mark_ready(tenant, provider, **extra):
    with tenant_context(tenant.org):
        return svc.provider_mark_ready_for_committee(
            org=tenant.org, actor=coordinator(tenant), provider=provider, **extra
        )


def decide(tenant, review, decision="approved", decision_date=None, **extra):
    with tenant_context(tenant.org):
        return svc.committee_record_decision(
            org=tenant.org,
            actor=coordinator(tenant),
            review=review,
            decision=decision,
            decision_date=decision_date or TODAY(),
            **extra,
        )


def fresh(tenant, obj):
    with tenant_context(tenant.org):
        obj.refresh_from_db()
    return obj


def reviews(tenant) -> list:
    with tenant_context(tenant.org):
        return list(CommitteeReview.objects.values())


def actions(tenant, prefix="roster.") -> list[str]:
    with tenant_context(tenant.org):
        return list(
            AuditEvent.objects.filter(organization=tenant.org, action__startswith=prefix)
            .order_by("seq")
            .values_list("action", flat=True)
        )


def readiness(tenant, provider):
    with tenant_context(tenant.org):
        return sel.provider_readiness(org=tenant.org, provider=provider)


# --- readiness ----------------------------------------------------------------------------------
def test_a_type_without_requirements_is_not_ready_and_says_an_admin_must_set_them(tenant_a):
    provider = make_provider(tenant_a.org, seed=1)
    result = readiness(tenant_a, provider)
    assert not result.ready
    assert result.reasons[0].startswith("No required credentials are set up for Physician (MD)")


def test_missing_and_expired_required_credentials_are_each_named(tenant_a):
    require_license_and_malpractice(tenant_a)
    provider = make_provider(tenant_a.org, seed=2)
    add_credential(tenant_a, provider, "malpractice", expiry=TODAY() - timedelta(days=1))

    result = readiness(tenant_a, provider)

    assert result.reasons == [
        "No state license on file.",
        "Malpractice insurance expired; add the renewal.",
    ]
    assert result.required == ["State license", "Malpractice insurance"]


def test_a_required_credential_without_a_primary_source_verification_is_not_ready(tenant_a):
    require_license_and_malpractice(tenant_a)
    provider = make_provider(tenant_a.org, seed=71)
    license_ = add_credential(tenant_a, provider, "state_license")
    malpractice = add_credential(tenant_a, provider, "malpractice")
    verify(tenant_a, provider, malpractice)
    result = readiness(tenant_a, provider)
    assert not result.ready
    (reason,) = [r for r in result.reasons if "primary-source" in r]
    assert reason.startswith("State license CA")
    verify(tenant_a, provider, license_)
    assert readiness(tenant_a, provider).ready


def test_a_verification_older_than_the_window_or_not_verified_does_not_count(tenant_a):
    require_license_and_malpractice(tenant_a)
    provider = make_provider(tenant_a.org, seed=72)
    license_ = add_credential(tenant_a, provider, "state_license")
    verify(tenant_a, provider, add_credential(tenant_a, provider, "malpractice"))
    verify(tenant_a, provider, license_, days_ago=121)
    verify(tenant_a, provider, license_, days_ago=5, result="discrepancy")
    assert not readiness(tenant_a, provider).ready
    verify(tenant_a, provider, license_, days_ago=120)  # the window's first day still counts
    assert readiness(tenant_a, provider).ready


def test_an_approval_is_refused_when_a_verification_falls_outside_the_window_of_its_date(
    tenant_a,
):
    provider = ready_provider(tenant_a, seed=73)  # verified 90 days ago
    review = mark_ready(tenant_a, provider)
    with pytest.raises(Conflict) as refused:
        decide(tenant_a, review, decision_date=TODAY() - timedelta(days=91))  # before it
    assert refused.value.code == "verification_outside_window"
    assert len(refused.value.details["verifications"]) == 2
    assert fresh(tenant_a, review).decision == ""
    # A deferral rests on nothing verified; an approval inside the window goes through.
    decide(tenant_a, review, decision_date=TODAY() - timedelta(days=30))
    assert fresh(tenant_a, review).decision == "approved"


def test_marking_a_file_that_is_not_ready_is_refused_with_the_reasons_and_writes_nothing(
    tenant_a,
):
    require_license_and_malpractice(tenant_a)
    provider = make_provider(tenant_a.org, seed=3)
    verify(tenant_a, provider, add_credential(tenant_a, provider, "state_license"))
    before = actions(tenant_a)

    with pytest.raises(Conflict) as refused:
        mark_ready(tenant_a, provider)

    assert refused.value.code == "not_ready"
    assert refused.value.details["reasons"] == ["No malpractice insurance on file."]
    assert reviews(tenant_a) == []
    assert actions(tenant_a) == before


def test_a_required_document_missing_blocks_the_file_too(tenant_a):
    with tenant_context(tenant_a.org):
        requirement_set_for_type(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            provider_type="MD",
            required={"state_license": True},
        )
    provider = make_provider(tenant_a.org, seed=4)
    verify(tenant_a, provider, add_credential(tenant_a, provider, "state_license"))
    assert readiness(tenant_a, provider).reasons == ["State license: no document on file."]


def test_an_excluded_provider_is_not_ready(tenant_a):
    provider = ready_provider(tenant_a, seed=5, excluded=True)
    assert any("excluded" in r for r in readiness(tenant_a, provider).reasons)


def test_a_file_that_meets_the_requirements_goes_into_the_queue_once(tenant_a):
    provider = ready_provider(tenant_a, seed=6)
    meeting = TODAY() + timedelta(days=7)

    review = mark_ready(tenant_a, provider, meeting_date=meeting)

    assert review.cycle == "initial"
    assert review.meeting_date == meeting
    assert review.ready_marked_by == coordinator(tenant_a)
    assert actions(tenant_a)[-1] == "roster.committee.marked_ready"
    with tenant_context(tenant_a.org):
        assert [r.pk for r in sel.committee_queue(org=tenant_a.org)] == [review.pk]
        assert [r.pk for r in sel.committee_agenda(org=tenant_a.org, meeting_date=meeting)] == [
            review.pk
        ]
    with pytest.raises(Conflict) as twice:
        mark_ready(tenant_a, provider)
    assert twice.value.details["reasons"] == [sel.WAITING]
    assert len(reviews(tenant_a)) == 1


def test_the_auditor_cannot_mark_a_file_ready(tenant_a):
    provider = ready_provider(tenant_a, seed=7)
    with tenant_context(tenant_a.org), pytest.raises(Forbidden):
        svc.provider_mark_ready_for_committee(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.auditor), provider=provider
        )
    assert reviews(tenant_a) == []


# --- decisions ----------------------------------------------------------------------------------
def test_an_initial_approval_sets_the_initial_date_the_decision_date_and_the_next_due_date(
    tenant_a,
):
    provider = ready_provider(tenant_a, seed=10)
    review = mark_ready(tenant_a, provider)
    decided_on = TODAY() - timedelta(days=2)

    decide(tenant_a, review, "approved", decided_on, minutes="Unanimous")

    provider = fresh(tenant_a, provider)
    assert provider.initial_credentialing_date == decided_on
    assert provider.committee_decision_date == decided_on
    assert tenant_a.org.recredentialing_cycle_months == 36
    assert provider.recredentialing_due_date == add_months(decided_on, 36)
    assert review.decision == "approved" and review.minutes == "Unanimous"
    # The decision and the provider's new dates are both in the audit trail.
    assert actions(tenant_a)[-2:] == ["roster.committee.decided", "roster.provider.updated"]
    with tenant_context(tenant_a.org):
        update = AuditEvent.objects.filter(action="roster.provider.updated").latest("seq")
    assert update.source == "committee"
    assert set(update.data["changes"]) == {
        "initial_credentialing_date",
        "committee_decision_date",
        "recredentialing_due_date",
    }


def test_a_24_month_organization_gets_the_next_due_date_24_months_after_the_decision(tenant_a):
    with tenant_context(tenant_a.org):
        organization_update_settings(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            recredentialing_cycle_months=24,
        )
    tenant_a.org.refresh_from_db()
    provider = ready_provider(tenant_a, seed=11)
    review = mark_ready(tenant_a, provider)
    verify_before(tenant_a, provider, date(2024, 2, 29))
    decide(tenant_a, review, "approved", date(2024, 2, 29))
    provider = fresh(tenant_a, provider)
    assert provider.recredentialing_due_date == date(2026, 2, 28)  # no 29 Feb in 2026


def test_a_recredentialing_approval_keeps_the_initial_date_and_moves_the_cycle(tenant_a):
    first_approval = date(2023, 5, 10)
    provider = ready_provider(tenant_a, seed=12, initial_credentialing_date=first_approval)
    review = mark_ready(tenant_a, provider)
    assert review.cycle == "recredentialing"
    verify_before(tenant_a, provider, date(2026, 5, 1))

    decide(
        tenant_a,
        review,
        "approved_with_conditions",
        date(2026, 5, 1),
        conditions="Chart review in 6 months",
    )

    provider = fresh(tenant_a, provider)
    assert provider.initial_credentialing_date == first_approval
    assert provider.committee_decision_date == date(2026, 5, 1)
    assert provider.recredentialing_due_date == date(2029, 5, 1)


@pytest.mark.parametrize("decision", ["denied", "deferred"])
def test_a_denial_or_deferral_changes_no_provider_date(tenant_a, decision):
    provider = ready_provider(tenant_a, seed=13)
    with tenant_context(tenant_a.org):
        before = Provider.objects.filter(pk=provider.pk).values().get()
    review = mark_ready(tenant_a, provider)

    decide(tenant_a, review, decision, minutes="Needs peer references")

    with tenant_context(tenant_a.org):
        after = Provider.objects.filter(pk=provider.pk).values().get()
    assert after == before
    assert fresh(tenant_a, review).decision == decision
    # A deferred or denied file can be marked ready again later (a new review).
    again = mark_ready(tenant_a, provider)
    assert again.pk != review.pk


def test_conditions_are_required_for_a_conditional_approval_and_nothing_changes(tenant_a):
    provider = ready_provider(tenant_a, seed=14)
    review = mark_ready(tenant_a, provider)
    before = reviews(tenant_a)

    with pytest.raises(InvalidInput) as refused:
        decide(tenant_a, review, "approved_with_conditions")

    assert "conditions" in refused.value.details
    assert reviews(tenant_a) == before
    assert fresh(tenant_a, provider).initial_credentialing_date is None


def test_a_future_decision_date_or_a_second_decision_is_refused(tenant_a):
    provider = ready_provider(tenant_a, seed=15)
    review = mark_ready(tenant_a, provider)
    with pytest.raises(InvalidInput):
        decide(tenant_a, review, "approved", TODAY() + timedelta(days=1))
    decide(tenant_a, review, "approved")
    before = reviews(tenant_a)
    with pytest.raises(Conflict, match="already decided"):
        decide(tenant_a, review, "denied")
    assert reviews(tenant_a) == before


# --- notification tracking ----------------------------------------------------------------------
def test_the_provider_must_be_notified_within_30_days_and_late_ones_are_overdue(tenant_a):
    late = mark_ready(tenant_a, ready_provider(tenant_a, seed=20))
    due = mark_ready(tenant_a, ready_provider(tenant_a, seed=21))
    decide(tenant_a, late, "approved", TODAY() - timedelta(days=31))
    decide(tenant_a, due, "denied", TODAY() - timedelta(days=30))

    assert sel.notify_due_date(fresh(tenant_a, late)) == TODAY() - timedelta(days=1)
    with tenant_context(tenant_a.org):
        pending = [r.pk for r in sel.committee_notifications_pending(org=tenant_a.org)]
        overdue = [r.pk for r in sel.committee_notifications_overdue(tenant_a.org, TODAY())]
    assert pending == [late.pk, due.pk]
    assert overdue == [late.pk]


def test_marking_the_provider_notified_is_recorded_once_with_how_late_it_was(tenant_a):
    review = mark_ready(tenant_a, ready_provider(tenant_a, seed=22))
    with tenant_context(tenant_a.org), pytest.raises(Conflict, match="no decision"):
        svc.committee_mark_notified(org=tenant_a.org, actor=coordinator(tenant_a), review=review)
    decide(tenant_a, review, "approved", TODAY() - timedelta(days=35))

    with tenant_context(tenant_a.org):
        svc.committee_mark_notified(org=tenant_a.org, actor=coordinator(tenant_a), review=review)
        event = AuditEvent.objects.filter(action="roster.committee.provider_notified").get()
        assert not sel.committee_notifications_pending(org=tenant_a.org).exists()
        with pytest.raises(Conflict, match="already notified"):
            svc.committee_mark_notified(
                org=tenant_a.org, actor=coordinator(tenant_a), review=review
            )
    assert fresh(tenant_a, review).notified_at is not None
    assert event.data["late_by_days"] == 5


def test_a_notification_date_before_the_decision_or_in_the_future_is_refused(tenant_a):
    review = mark_ready(tenant_a, ready_provider(tenant_a, seed=23))
    decide(tenant_a, review, "approved", TODAY() - timedelta(days=3))
    for wrong in (TODAY() - timedelta(days=4), TODAY() + timedelta(days=1)):
        with tenant_context(tenant_a.org), pytest.raises(InvalidInput):
            svc.committee_mark_notified(
                org=tenant_a.org, actor=coordinator(tenant_a), review=review, notified_on=wrong
            )
    assert fresh(tenant_a, review).notified_at is None


def test_scheduling_puts_a_waiting_review_on_a_meetings_agenda_and_is_audited(tenant_a):
    review = mark_ready(tenant_a, ready_provider(tenant_a, seed=24))
    meeting = TODAY() + timedelta(days=3)
    with tenant_context(tenant_a.org):
        svc.committee_schedule(
            org=tenant_a.org, actor=coordinator(tenant_a), review=review, meeting_date=meeting
        )
        with pytest.raises(InvalidInput):
            svc.committee_schedule(
                org=tenant_a.org,
                actor=coordinator(tenant_a),
                review=review,
                meeting_date=TODAY() - timedelta(days=1),
            )
        dates = sel.committee_meeting_dates(org=tenant_a.org)
    assert dates == [{"meeting_date": meeting, "total": 1, "pending": 1}]
    assert actions(tenant_a)[-1] == "roster.committee.scheduled"


def test_demo_seed_marks_ready_files_decides_some_and_is_idempotent(tenant_a):
    for seed in range(6):
        ready_provider(tenant_a, seed=300 + seed)
    with tenant_context(tenant_a.org):
        first = seed_demo_committee(tenant_a.org, coordinator(tenant_a))
        second = seed_demo_committee(tenant_a.org, coordinator(tenant_a))
        late = sel.committee_notifications_overdue(tenant_a.org).count()
    assert first == {"ready": 6, "decided": 4}
    assert second == {"ready": 0, "decided": 0}
    assert late == 1


# --- pages --------------------------------------------------------------------------------------
def url(tenant, name="committee", **kw):
    return reverse(name, kwargs={"org_slug": tenant.org.slug, **kw})


def test_the_committee_page_shows_the_queue_agenda_and_the_notify_tracker(tenant_a, login):
    waiting = mark_ready(
        tenant_a, ready_provider(tenant_a, seed=30), meeting_date=TODAY() + timedelta(days=2)
    )
    decided = mark_ready(tenant_a, ready_provider(tenant_a, seed=31))
    decide(tenant_a, decided, "approved", TODAY() - timedelta(days=33))

    body = login(tenant_a.coordinator).get(url(tenant_a)).content.decode()

    assert waiting.provider.sort_name in body
    assert "Agenda for" in body
    assert "overdue by 3 days" in body  # notify-by was 3 days ago
    assert "1 late" in body


def test_mark_ready_from_the_provider_fragment_shows_the_blocking_reasons(tenant_a, login):
    require_license_and_malpractice(tenant_a)
    provider = make_provider(tenant_a.org, seed=32)
    client = login(tenant_a.coordinator)

    shown = client.get(url(tenant_a, "committee_provider", provider_id=provider.pk))
    assert "No state license on file." in shown.content.decode()

    response = client.post(
        url(tenant_a, "committee_mark_ready"),
        {"provider": str(provider.pk)},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "is not ready for committee" in body and "No malpractice insurance on file." in body
    assert reviews(tenant_a) == []


def test_mark_ready_from_the_committee_page_puts_the_file_in_the_queue(tenant_a, login):
    provider = ready_provider(tenant_a, seed=33)
    client = login(tenant_a.coordinator)
    response = client.post(url(tenant_a, "committee_mark_ready"), {"provider": str(provider.pk)})
    assert response.status_code == 302
    assert len(reviews(tenant_a)) == 1


def test_the_decision_form_records_and_sends_to_the_notify_tracker(tenant_a, login):
    review = mark_ready(tenant_a, ready_provider(tenant_a, seed=34))
    client = login(tenant_a.coordinator)
    form_url = url(tenant_a, "committee_review", review_id=review.pk)
    assert "Record decision" in client.get(form_url).content.decode()

    missing = client.post(
        form_url,
        {
            "decision": "approved_with_conditions",
            "decision_date": TODAY().isoformat(),
            "minutes": "kept",
        },
    )
    assert missing.status_code == 400
    assert "Write the conditions" in missing.content.decode()
    assert "kept" in missing.content.decode()

    done = client.post(form_url, {"decision": "approved", "decision_date": TODAY().isoformat()})
    assert done.status_code == 302 and done["Location"].endswith("#notify")
    assert fresh(tenant_a, review).decision == "approved"


def test_mark_notified_through_htmx_returns_the_updated_tracker_row(tenant_a, login):
    review = mark_ready(tenant_a, ready_provider(tenant_a, seed=35))
    decide(tenant_a, review, "approved")
    response = login(tenant_a.coordinator).post(
        url(tenant_a, "committee_notified", review_id=review.pk), {}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert f'id="notify-{review.pk}"' in response.content.decode()
    assert "Notified" in response.content.decode()


def test_the_auditor_reads_the_committee_but_gets_403_on_writes_and_nothing_changes(
    tenant_a, login
):
    provider = ready_provider(tenant_a, seed=36)
    review = mark_ready(tenant_a, provider)
    before = reviews(tenant_a)
    client = login(tenant_a.auditor)

    assert client.get(url(tenant_a)).status_code == 200
    assert client.get(url(tenant_a, "committee_review", review_id=review.pk)).status_code == 200
    writes = [
        (url(tenant_a, "committee_mark_ready"), {"provider": str(provider.pk)}),
        (
            url(tenant_a, "committee_review", review_id=review.pk),
            {"decision": "approved", "decision_date": TODAY().isoformat()},
        ),
        (
            url(tenant_a, "committee_schedule", review_id=review.pk),
            {"meeting_date": TODAY().isoformat()},
        ),
        (url(tenant_a, "committee_notified", review_id=review.pk), {}),
    ]
    for target, data in writes:
        assert client.post(target, data).status_code == 403, target
    assert reviews(tenant_a) == before


# --- API ----------------------------------------------------------------------------------------
def api(client, method, path, body=None, *, org=None):
    extra = {"HTTP_X_CREDEX_ORGANIZATION": org} if org else {}
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, f"/api/v1/{path}", data, content_type="application/json", **extra)


def test_the_api_marks_ready_decides_and_records_the_notice(tenant_a, login):
    require_license_and_malpractice(tenant_a)
    blocked = make_provider(tenant_a.org, seed=40)
    provider = ready_provider(tenant_a, seed=41)
    client = login(tenant_a.coordinator)

    refused = api(client, "POST", f"providers/{blocked.pk}/committee/ready", {})
    assert refused.status_code == 409
    assert refused.json()["details"]["reasons"] == [
        "No state license on file.",
        "No malpractice insurance on file.",
    ]

    created = api(client, "POST", f"providers/{provider.pk}/committee/ready", {})
    assert created.status_code == 201, created.content
    rid = created.json()["id"]
    assert api(client, "GET", "committee/reviews?state=pending").json()["results"][0]["id"] == rid

    decided = api(
        client,
        "POST",
        f"committee/reviews/{rid}/decision",
        {"decision": "approved", "decision_date": TODAY().isoformat()},
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["notify_due"] == (TODAY() + timedelta(days=30)).isoformat()
    assert fresh(tenant_a, provider).committee_decision_date == TODAY()

    notified = api(client, "POST", f"committee/reviews/{rid}/notified", {})
    assert notified.status_code == 200 and notified.json()["notified_at"]
    assert api(client, "POST", f"committee/reviews/{rid}/notified", {}).status_code == 409
    assert api(client, "GET", "committee/reviews?state=bogus").status_code == 400


def test_the_committee_api_refuses_the_auditor_404s_outsiders_and_401s_anonymous(
    tenant_a, tenant_b, login, client
):
    provider = ready_provider(tenant_a, seed=42)
    review = mark_ready(tenant_a, provider)
    before = reviews(tenant_a)
    writes = [
        ("POST", f"providers/{provider.pk}/committee/ready", {}),
        (
            "POST",
            f"committee/reviews/{review.pk}/decision",
            {"decision": "approved", "decision_date": TODAY().isoformat()},
        ),
        ("POST", f"committee/reviews/{review.pk}/notified", {}),
    ]
    assert api(client, "GET", "committee/reviews").status_code == 401
    for method, path, body in writes:
        assert api(client, method, path, body).status_code == 401
    auditor = login(tenant_a.auditor)
    assert api(auditor, "GET", "committee/reviews").status_code == 200
    for method, path, body in writes:
        assert api(auditor, method, path, body).status_code == 403, path
    outsider = login(tenant_b.owner)
    for method, path, body in writes:
        assert api(outsider, method, path, body).status_code == 404, path
    assert api(outsider, "GET", "committee/reviews", org=tenant_a.org.slug).status_code == 404
    assert reviews(tenant_a) == before


def test_the_committee_page_query_count_does_not_grow_with_the_queue(tenant_a, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(tenant_a.coordinator)
    meeting = TODAY() + timedelta(days=5)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(tenant_a), {"meeting": meeting.isoformat()}).status_code == 200
        return len(captured)

    mark_ready(tenant_a, ready_provider(tenant_a, seed=700), meeting_date=meeting)
    decide(tenant_a, mark_ready(tenant_a, ready_provider(tenant_a, seed=701)), "approved")
    few = queries()
    for seed in range(702, 710):
        review = mark_ready(tenant_a, ready_provider(tenant_a, seed=seed), meeting_date=meeting)
        if seed % 2:
            decide(tenant_a, review, "denied")
    assert queries() == few
