"""Payer enrollment and contracting: the application state machine, its dates, the overdue
follow-up selector, payers and contracts, the worklist pages and the API, and who may do what.

Real Postgres (RLS on), real services; org A has an owner, admin, coordinator and auditor,
org B an outsider.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from credex.errors import Conflict, Forbidden, InvalidInput
from credex.tenancy import tenant_context
from demo.seeders.enrollment import seed_demo_enrollment
from enrollment import selectors as sel
from enrollment import services as svc
from enrollment.models import Enrollment, EnrollmentStatus, Payer, PayerContract
from tests.factories import make_provider

pytestmark = pytest.mark.django_db

S = EnrollmentStatus
TODAY = timezone.localdate


@pytest.fixture(autouse=True)
def _generous_throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


# --- helpers ------------------------------------------------------------------------------------
def coordinator(tenant):
    return tenant.membership(tenant.coordinator or tenant.owner)


def new_payer(tenant, name="Blue Plan", **extra):
    with tenant_context(tenant.org):
        return svc.payer_create(org=tenant.org, actor=coordinator(tenant), name=name, **extra)


def new_enrollment(tenant, *, seed=1, payer=None, provider=None):
    payer = payer or new_payer(tenant, name=f"Plan {seed}")
    provider = provider or make_provider(tenant.org, seed=seed)
    with tenant_context(tenant.org):
        (enrollment,) = svc.enrollment_request(
            org=tenant.org, actor=coordinator(tenant), provider=provider, payers=[payer]
        )
    return enrollment


# The canonical way to reach each status from "requested".
PATHS = {
    S.REQUESTED: [],
    S.IN_PREPARATION: [S.IN_PREPARATION],
    S.SUBMITTED: [S.IN_PREPARATION, S.SUBMITTED],
    S.IN_FOLLOW_UP: [S.IN_PREPARATION, S.SUBMITTED, S.IN_FOLLOW_UP],
    S.RESUBMITTED: [S.IN_PREPARATION, S.SUBMITTED, S.IN_FOLLOW_UP, S.RESUBMITTED],
    S.APPROVED: [S.IN_PREPARATION, S.SUBMITTED, S.APPROVED],
    S.DENIED: [S.IN_PREPARATION, S.SUBMITTED, S.DENIED],
    S.WITHDRAWN: [S.WITHDRAWN],
}


def step(tenant, enrollment, to, **extra):
    if to == S.APPROVED:
        extra.setdefault("effective_date", TODAY())
    with tenant_context(tenant.org):
        return svc.enrollment_transition(
            org=tenant.org, actor=coordinator(tenant), enrollment=enrollment, to=to, **extra
        )


def walk(tenant, enrollment, status):
    for to in PATHS[status]:
        step(tenant, enrollment, to)
    return enrollment


def state(tenant, enrollment) -> dict:
    """Everything about an application (and its audit trail) a refused change must not touch."""
    with tenant_context(tenant.org):
        row = Enrollment.objects.filter(pk=enrollment.pk).values().get()
        events = AuditEvent.objects.filter(target_id=str(enrollment.pk)).count()
    return {**row, "events": events}


def actions(tenant, prefix="roster.") -> list[str]:
    with tenant_context(tenant.org):
        return list(
            AuditEvent.objects.filter(organization=tenant.org, action__startswith=prefix)
            .order_by("seq")
            .values_list("action", flat=True)
        )


ALLOWED = [(a, b) for a, targets in svc.TRANSITIONS.items() for b in targets]
REFUSED = [(a, b) for a in S.values for b in S.values if b not in svc.TRANSITIONS[a]]


# --- the state machine --------------------------------------------------------------------------
@pytest.mark.parametrize("start,to", ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_every_allowed_transition_moves_the_application_and_is_audited(tenant_a, start, to):
    enrollment = walk(tenant_a, new_enrollment(tenant_a), start)

    step(tenant_a, enrollment, to)

    with tenant_context(tenant_a.org):
        enrollment.refresh_from_db()
        event = AuditEvent.objects.filter(target_id=str(enrollment.pk)).order_by("-seq").first()
    assert enrollment.status == to
    assert event.action == f"roster.enrollment.{to}"
    assert event.data["from"] == start and event.data["to"] == to


@pytest.mark.parametrize("start,to", REFUSED, ids=[f"{a}->{b}" for a, b in REFUSED])
def test_a_transition_the_process_does_not_allow_is_refused_and_nothing_changes(
    tenant_a, start, to
):
    enrollment = walk(tenant_a, new_enrollment(tenant_a), start)
    before = state(tenant_a, enrollment)

    with pytest.raises(Conflict) as refused:
        step(tenant_a, enrollment, to)

    assert state(tenant_a, enrollment) == before
    assert refused.value.code == "transition_not_allowed"
    assert refused.value.details["allowed"] == svc.allowed_transitions(enrollment)


def test_the_refusal_names_the_current_status_and_the_next_steps(tenant_a):
    enrollment = new_enrollment(tenant_a)
    with pytest.raises(Conflict) as refused:
        step(tenant_a, enrollment, S.APPROVED)
    assert refused.value.message == (
        "An application that is requested cannot move to Approved. Next: In preparation, Withdrawn."
    )
    closed = walk(tenant_a, new_enrollment(tenant_a, seed=2), S.DENIED)
    with pytest.raises(Conflict, match="closed and its status cannot change"):
        step(tenant_a, closed, S.SUBMITTED)


def test_submitting_sets_the_submission_date_and_a_follow_up_30_days_later(tenant_a):
    enrollment = walk(tenant_a, new_enrollment(tenant_a), S.IN_PREPARATION)
    on = TODAY() - timedelta(days=3)

    step(tenant_a, enrollment, S.SUBMITTED, on=on)

    assert enrollment.submitted_on == on
    assert enrollment.next_follow_up == on + timedelta(days=30)
    assert f"{on.isoformat()} · Submitted" in enrollment.notes


def test_the_next_follow_up_can_be_chosen_and_edited_later(tenant_a):
    enrollment = walk(tenant_a, new_enrollment(tenant_a), S.IN_PREPARATION)
    chosen = TODAY() + timedelta(days=10)
    step(tenant_a, enrollment, S.SUBMITTED, next_follow_up=chosen)
    assert enrollment.next_follow_up == chosen

    later = TODAY() + timedelta(days=45)
    with tenant_context(tenant_a.org):
        svc.enrollment_update(
            org=tenant_a.org,
            actor=coordinator(tenant_a),
            enrollment=enrollment,
            next_follow_up=later,
        )
        enrollment.refresh_from_db()
    assert enrollment.next_follow_up == later
    assert actions(tenant_a)[-1] == "roster.enrollment.updated"


def test_a_follow_up_and_a_resubmission_each_set_the_next_follow_up_from_their_date(tenant_a):
    enrollment = walk(tenant_a, new_enrollment(tenant_a), S.SUBMITTED)
    first_submission = enrollment.submitted_on
    step(tenant_a, enrollment, S.IN_FOLLOW_UP)
    assert enrollment.next_follow_up == TODAY() + timedelta(days=30)

    step(tenant_a, enrollment, S.RESUBMITTED, next_follow_up=TODAY() + timedelta(days=14))

    assert enrollment.resubmissions == 1
    assert enrollment.next_follow_up == TODAY() + timedelta(days=14)
    assert enrollment.submitted_on == first_submission  # the first filing date is kept


def test_approval_needs_an_effective_date_and_nothing_changes_without_one(tenant_a):
    enrollment = walk(tenant_a, new_enrollment(tenant_a), S.SUBMITTED)
    before = state(tenant_a, enrollment)

    with tenant_context(tenant_a.org), pytest.raises(InvalidInput) as refused:
        svc.enrollment_transition(
            org=tenant_a.org, actor=coordinator(tenant_a), enrollment=enrollment, to=S.APPROVED
        )

    assert "effective_date" in refused.value.details
    assert state(tenant_a, enrollment) == before


def test_approval_records_the_effective_date_and_ends_the_follow_ups(tenant_a):
    enrollment = walk(tenant_a, new_enrollment(tenant_a), S.IN_FOLLOW_UP)
    effective = TODAY() + timedelta(days=15)

    step(tenant_a, enrollment, S.APPROVED, effective_date=effective)

    assert enrollment.effective_date == effective
    assert enrollment.next_follow_up is None


@pytest.mark.parametrize(
    "start", [S.REQUESTED, S.IN_PREPARATION, S.SUBMITTED, S.IN_FOLLOW_UP, S.RESUBMITTED]
)
def test_an_application_can_be_withdrawn_from_any_open_state(tenant_a, start):
    enrollment = walk(tenant_a, new_enrollment(tenant_a), start)
    step(tenant_a, enrollment, S.WITHDRAWN, note="Provider left")
    assert enrollment.status == S.WITHDRAWN
    assert enrollment.next_follow_up is None
    assert "Withdrawn: Provider left" in enrollment.notes


def test_only_one_resubmission_is_allowed(tenant_a):
    enrollment = walk(tenant_a, new_enrollment(tenant_a), S.RESUBMITTED)
    step(tenant_a, enrollment, S.IN_FOLLOW_UP)
    assert S.RESUBMITTED not in svc.allowed_transitions(enrollment)
    before = state(tenant_a, enrollment)

    with pytest.raises(Conflict, match="already resubmitted once"):
        step(tenant_a, enrollment, S.RESUBMITTED)

    assert state(tenant_a, enrollment) == before
    # The payer can still decide, or the coordinator withdraws and requests again.
    step(tenant_a, enrollment, S.DENIED)


def test_a_step_dated_in_the_future_or_before_the_submission_is_refused(tenant_a):
    enrollment = walk(tenant_a, new_enrollment(tenant_a), S.IN_PREPARATION)
    before = state(tenant_a, enrollment)
    with pytest.raises(InvalidInput) as future:
        step(tenant_a, enrollment, S.SUBMITTED, on=TODAY() + timedelta(days=1))
    assert "on" in future.value.details
    assert state(tenant_a, enrollment) == before

    step(tenant_a, enrollment, S.SUBMITTED, on=TODAY() - timedelta(days=5))
    with pytest.raises(InvalidInput):
        step(tenant_a, enrollment, S.IN_FOLLOW_UP, on=TODAY() - timedelta(days=9))


def test_an_unknown_status_is_invalid_input(tenant_a):
    enrollment = new_enrollment(tenant_a)
    with pytest.raises(InvalidInput):
        step(tenant_a, enrollment, "teleported")


def test_the_auditor_cannot_move_an_application_and_nothing_changes(tenant_a):
    enrollment = new_enrollment(tenant_a)
    before = state(tenant_a, enrollment)
    with tenant_context(tenant_a.org), pytest.raises(Forbidden):
        svc.enrollment_transition(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.auditor),
            enrollment=enrollment,
            to=S.IN_PREPARATION,
        )
    assert state(tenant_a, enrollment) == before


# --- requests -----------------------------------------------------------------------------------
def test_requesting_opens_one_application_per_payer_and_audits_each(tenant_a):
    provider = make_provider(tenant_a.org, seed=3)
    payers = [new_payer(tenant_a, "Plan A"), new_payer(tenant_a, "Plan B")]
    with tenant_context(tenant_a.org):
        created = svc.enrollment_request(
            org=tenant_a.org,
            actor=coordinator(tenant_a),
            provider=provider,
            payers=payers,
            note="New hire",
        )
    assert {e.payer.name for e in created} == {"Plan A", "Plan B"}
    assert all(e.status == S.REQUESTED for e in created)
    assert actions(tenant_a).count("roster.enrollment.requested") == 2


def test_a_second_open_application_with_the_same_payer_is_refused(tenant_a):
    payer = new_payer(tenant_a)
    provider = make_provider(tenant_a.org, seed=4)
    new_enrollment(tenant_a, payer=payer, provider=provider)
    with tenant_context(tenant_a.org), pytest.raises(Conflict, match="already has an open"):
        svc.enrollment_request(
            org=tenant_a.org, actor=coordinator(tenant_a), provider=provider, payers=[payer]
        )
    with tenant_context(tenant_a.org):
        assert Enrollment.objects.filter(provider=provider).count() == 1


def test_after_a_denial_the_provider_can_apply_to_the_payer_again(tenant_a):
    payer = new_payer(tenant_a)
    provider = make_provider(tenant_a.org, seed=5)
    walk(tenant_a, new_enrollment(tenant_a, payer=payer, provider=provider), S.DENIED)
    again = new_enrollment(tenant_a, payer=payer, provider=provider)
    assert again.status == S.REQUESTED


# --- selectors for the dashboard ----------------------------------------------------------------
def submitted_days_ago(tenant, days, *, seed):
    """An application submitted `days` ago (its follow-up falls due 30 days after)."""
    enrollment = walk(tenant, new_enrollment(tenant, seed=seed), S.IN_PREPARATION)
    step(tenant, enrollment, S.SUBMITTED, on=TODAY() - timedelta(days=days))
    return enrollment


def test_overdue_follow_ups_are_open_applications_whose_follow_up_date_has_passed(
    tenant_a, tenant_b
):
    late = submitted_days_ago(tenant_a, 34, seed=10)  # follow-up was 4 days ago
    submitted_days_ago(tenant_a, 30, seed=11)  # due today: not overdue yet
    closed = submitted_days_ago(tenant_a, 40, seed=12)
    step(tenant_a, closed, S.WITHDRAWN)
    submitted_days_ago(tenant_b, 50, seed=13)  # another organization's

    with tenant_context(tenant_a.org):
        overdue = list(sel.enrollments_overdue(tenant_a.org, TODAY()))
        counts = sel.enrollment_status_counts(org=tenant_a.org, today=TODAY())
        tomorrow = sel.enrollments_overdue(tenant_a.org, TODAY() + timedelta(days=1)).count()

    assert [e.pk for e in overdue] == [late.pk]
    assert late.next_follow_up == TODAY() - timedelta(days=4)
    assert counts["overdue"] == 1
    assert tomorrow == 2


def test_new_requests_since_a_moment_are_listed_for_the_dashboard(tenant_a):
    old = new_enrollment(tenant_a, seed=20)
    with tenant_context(tenant_a.org):
        Enrollment.objects.filter(pk=old.pk).update(requested_at=timezone.now() - timedelta(days=3))
    fresh = new_enrollment(tenant_a, seed=21)
    started = walk(tenant_a, new_enrollment(tenant_a, seed=22), S.IN_PREPARATION)

    with tenant_context(tenant_a.org):
        since_yesterday = list(
            sel.enrollment_requests_new(tenant_a.org, timezone.now() - timedelta(days=1))
        )
        since_date = list(sel.enrollment_requests_new(tenant_a.org, TODAY() - timedelta(days=7)))

    assert [e.pk for e in since_yesterday] == [fresh.pk]
    assert started.pk not in {e.pk for e in since_date}
    assert {e.pk for e in since_date} == {fresh.pk, old.pk}


# --- payers and contracts -----------------------------------------------------------------------
def test_payers_are_created_and_changed_with_audit_and_a_duplicate_name_is_refused(tenant_a):
    payer = new_payer(tenant_a, "Cascade", contact_email="net@cascade.example")
    with tenant_context(tenant_a.org):
        svc.payer_update(
            org=tenant_a.org, actor=coordinator(tenant_a), payer=payer, contact_phone="555-0100"
        )
        with pytest.raises(Conflict):
            svc.payer_create(org=tenant_a.org, actor=coordinator(tenant_a), name="Cascade")
        with pytest.raises(InvalidInput) as bad:
            svc.payer_create(
                org=tenant_a.org, actor=coordinator(tenant_a), name="X", contact_email="nope"
            )
        assert Payer.objects.count() == 1
    assert "contact_email" in bad.value.details
    assert actions(tenant_a, "roster.payer") == ["roster.payer.created", "roster.payer.updated"]


def test_a_contract_renewal_must_follow_its_effective_date(tenant_a):
    payer = new_payer(tenant_a)
    with tenant_context(tenant_a.org):
        with pytest.raises(InvalidInput) as bad:
            svc.contract_create(
                org=tenant_a.org,
                actor=coordinator(tenant_a),
                payer=payer,
                effective_date=date(2026, 1, 1),
                renewal_date=date(2025, 12, 31),
            )
        assert "renewal_date" in bad.value.details
        assert not PayerContract.objects.exists()
        contract = svc.contract_create(
            org=tenant_a.org,
            actor=coordinator(tenant_a),
            payer=payer,
            effective_date=date(2026, 1, 1),
            renewal_date=date(2027, 1, 1),
            fee_schedule_ref="FS-2026",
        )
        svc.contract_update(
            org=tenant_a.org,
            actor=coordinator(tenant_a),
            contract=contract,
            renewal_date=date(2028, 1, 1),
        )
        contract.refresh_from_db()
    assert contract.renewal_date == date(2028, 1, 1)
    assert actions(tenant_a, "roster.contract") == [
        "roster.contract.created",
        "roster.contract.updated",
    ]


def test_renewals_within_90_days_and_passed_ones_are_the_renewing_contracts(tenant_a):
    today = TODAY()
    payer = new_payer(tenant_a)
    with tenant_context(tenant_a.org):

        def contract(renewal):
            return svc.contract_create(
                org=tenant_a.org,
                actor=coordinator(tenant_a),
                payer=payer,
                effective_date=today - timedelta(days=400),
                renewal_date=renewal,
            )

        soon, passed = contract(today + timedelta(days=60)), contract(today - timedelta(days=2))
        contract(today + timedelta(days=120))
        contract(None)
        renewing = [c.pk for c in sel.contracts_renewing(tenant_a.org, today)]
        listed = sel.payer_list(org=tenant_a.org, today=today).get(pk=payer.pk)
    assert renewing == [passed.pk, soon.pk]
    assert listed.next_renewal == today + timedelta(days=60)
    assert listed.lapsed_renewal == today - timedelta(days=2)


def test_demo_seed_adds_payers_contracts_and_varied_enrollments_once(tenant_a):
    for seed in range(10):
        make_provider(tenant_a.org, seed=100 + seed)
    with tenant_context(tenant_a.org):
        first = seed_demo_enrollment(tenant_a.org, coordinator(tenant_a))
        second = seed_demo_enrollment(tenant_a.org, coordinator(tenant_a))
        statuses = set(Enrollment.objects.values_list("status", flat=True))
        overdue = sel.enrollments_overdue(tenant_a.org).count()
    assert first == {"payers": 4, "contracts": 4, "enrollments": 10}
    assert second == {"payers": 0, "contracts": 0, "enrollments": 0}
    assert statuses == set(S.values)
    assert overdue >= 2


# --- pages --------------------------------------------------------------------------------------
def url(tenant, name="", **kw):
    from django.urls import reverse

    return reverse(name or "enrollments", kwargs={"org_slug": tenant.org.slug, **kw})


def test_the_worklist_shows_status_counts_overdue_and_filters_from_the_url(tenant_a, login):
    late = submitted_days_ago(tenant_a, 36, seed=30)
    new_enrollment(tenant_a, seed=31)
    client = login(tenant_a.coordinator)

    page = client.get(url(tenant_a)).content.decode()
    assert "overdue by 6 days" in page
    assert "2 applications" in page

    filtered = client.get(url(tenant_a), {"overdue": "1"}).content.decode()
    assert "1 application" in filtered and late.provider.sort_name in filtered

    by_status = client.get(url(tenant_a), {"status": "requested"}).content.decode()
    assert "1 application" in by_status and late.provider.sort_name not in by_status


def test_the_worklist_answers_htmx_with_the_results_fragment_and_pages_keep_filters(
    tenant_a, login
):
    payer = new_payer(tenant_a)
    for seed in range(52):
        new_enrollment(tenant_a, seed=200 + seed, payer=payer)
    client = login(tenant_a.coordinator)

    response = client.get(url(tenant_a), {"payer": str(payer.pk)}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert f"payer={payer.pk}&amp;page=2" in body
    assert response["Vary"].find("HX-Request") >= 0


def test_an_empty_worklist_says_what_to_do_next(tenant_a, login):
    body = login(tenant_a.coordinator).get(url(tenant_a)).content.decode()
    assert "No payers yet" in body and "Add the payers" in body


def test_coordinator_advances_a_row_through_htmx_and_the_row_comes_back(tenant_a, login):
    enrollment = new_enrollment(tenant_a)
    client = login(tenant_a.coordinator)

    response = client.post(
        url(tenant_a, "enrollment_transition", enrollment_id=enrollment.pk),
        {"to": "in_preparation", "note": "Collecting the W-9"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="enr-{enrollment.pk}"' in body and "In preparation" in body
    assert state(tenant_a, enrollment)["status"] == S.IN_PREPARATION


def test_an_invalid_step_through_the_page_says_why_and_changes_nothing(tenant_a, login):
    enrollment = new_enrollment(tenant_a)
    before = state(tenant_a, enrollment)
    client = login(tenant_a.coordinator)

    response = client.post(
        url(tenant_a, "enrollment_transition", enrollment_id=enrollment.pk),
        {"to": "approved", "effective_date": "2026-01-01", "note": "typed"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "cannot move to Approved" in body
    assert 'value="typed"' in body  # what was typed is kept
    assert state(tenant_a, enrollment) == before


def test_approval_without_an_effective_date_shows_the_error_next_to_the_field(tenant_a, login):
    enrollment = walk(tenant_a, new_enrollment(tenant_a), S.SUBMITTED)
    client = login(tenant_a.coordinator)
    response = client.post(
        url(tenant_a, "enrollment_transition", enrollment_id=enrollment.pk),
        {"to": "approved"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert f'id="enr-{enrollment.pk}-eff-error"' in response.content.decode()


def test_notes_and_follow_up_dates_are_set_from_the_row(tenant_a, login):
    enrollment = walk(tenant_a, new_enrollment(tenant_a), S.SUBMITTED)
    client = login(tenant_a.coordinator)
    follow = (TODAY() + timedelta(days=9)).isoformat()

    client.post(
        url(tenant_a, "enrollment_edit", enrollment_id=enrollment.pk),
        {"next_follow_up": follow, "reference_number": "APP-77"},
        HTTP_HX_REQUEST="true",
    )
    client.post(
        url(tenant_a, "enrollment_note", enrollment_id=enrollment.pk),
        {"note_text": "Called; in review"},
        HTTP_HX_REQUEST="true",
    )

    after = state(tenant_a, enrollment)
    assert after["next_follow_up"].isoformat() == follow
    assert after["reference_number"] == "APP-77"
    assert "Note: Called; in review" in after["notes"]
    assert actions(tenant_a)[-2:] == ["roster.enrollment.updated", "roster.enrollment.noted"]


def test_new_enrollment_form_requests_several_payers_and_keeps_values_on_error(tenant_a, login):
    provider = make_provider(tenant_a.org, seed=40)
    a, b = new_payer(tenant_a, "Plan A"), new_payer(tenant_a, "Plan B")
    client = login(tenant_a.coordinator)

    missing = client.post(url(tenant_a, "enrollment_new"), {"provider": str(provider.pk)})
    assert missing.status_code == 400
    assert "Tick at least one payer" in missing.content.decode()
    assert f'value="{provider.pk}" selected' in missing.content.decode()

    done = client.post(
        url(tenant_a, "enrollment_new"),
        {"provider": str(provider.pk), "payers": [str(a.pk), str(b.pk)]},
    )
    assert done.status_code == 302
    with tenant_context(tenant_a.org):
        assert Enrollment.objects.filter(provider=provider).count() == 2


def test_payer_and_contract_pages_add_and_edit_with_errors_next_to_fields(tenant_a, login):
    client = login(tenant_a.coordinator)
    bad = client.post(url(tenant_a, "payer_new"), {"name": "", "contact_email": "x"})
    assert bad.status_code == 400
    assert "Enter the payer" in bad.content.decode()

    client.post(url(tenant_a, "payer_new"), {"name": "Summit PPO"})
    with tenant_context(tenant_a.org):
        payer = Payer.objects.get(name="Summit PPO")
    renewal = (TODAY() + timedelta(days=30)).isoformat()
    created = client.post(
        url(tenant_a, "payer_contract_new", payer_id=payer.pk),
        {"effective_date": "2025-01-01", "renewal_date": renewal, "fee_schedule_ref": "FS-1"},
    )
    assert created.status_code == 302
    page = client.get(url(tenant_a, "payer_detail", payer_id=payer.pk)).content.decode()
    assert "FS-1" in page and "in 30 days" in page
    listing = client.get(url(tenant_a, "payers")).content.decode()
    assert "Contract renewals due within 90 days" in listing


def test_the_provider_fragment_is_served_alone_and_loads_itself_when_included(tenant_a, login, rf):
    enrollment = new_enrollment(tenant_a)
    client = login(tenant_a.coordinator)
    fragment_url = url(tenant_a, "enrollment_provider", provider_id=enrollment.provider_id)

    partial = client.get(fragment_url, HTTP_HX_REQUEST="true")
    page = client.get(fragment_url)

    assert "<html" not in partial.content.decode()
    assert enrollment.payer.name in partial.content.decode()
    assert "<html" in page.content.decode()
    included = render_to_string(
        "roster/enrollment/_provider_enrollments.html",
        {"org": tenant_a.org, "provider": enrollment.provider},
    )
    assert f'hx-get="{fragment_url}"' in included and 'hx-trigger="load"' in included


def test_the_auditor_reads_the_pages_but_gets_403_on_every_write_and_nothing_changes(
    tenant_a, login
):
    enrollment = new_enrollment(tenant_a)
    payer = enrollment.payer
    before = state(tenant_a, enrollment)
    client = login(tenant_a.auditor)

    assert client.get(url(tenant_a)).status_code == 200
    assert client.get(url(tenant_a, "payers")).status_code == 200
    assert (
        client.get(url(tenant_a, "enrollment_detail", enrollment_id=enrollment.pk)).status_code
        == 200
    )
    writes = [
        (url(tenant_a, "enrollment_transition", enrollment_id=enrollment.pk), {"to": "withdrawn"}),
        (url(tenant_a, "enrollment_edit", enrollment_id=enrollment.pk), {"reference_number": "x"}),
        (url(tenant_a, "enrollment_note", enrollment_id=enrollment.pk), {"note_text": "x"}),
        (url(tenant_a, "enrollment_new"), {"provider": str(enrollment.provider_id)}),
        (url(tenant_a, "payer_new"), {"name": "Sneaky"}),
        (url(tenant_a, "payer_detail", payer_id=payer.pk), {"name": "Renamed"}),
        (url(tenant_a, "payer_contract_new", payer_id=payer.pk), {"effective_date": "2026-01-01"}),
    ]
    for target, data in writes:
        assert client.post(target, data).status_code == 403, target
    assert state(tenant_a, enrollment) == before
    with tenant_context(tenant_a.org):
        assert list(Payer.objects.values_list("name", flat=True)) == [payer.name]
        assert not PayerContract.objects.exists()


def test_an_id_of_another_organization_is_404_inside_ones_own(tenant_a, tenant_b, login):
    theirs = new_enrollment(tenant_b)
    client = login(tenant_a.coordinator)
    assert (
        client.get(url(tenant_a, "enrollment_detail", enrollment_id=theirs.pk)).status_code == 404
    )
    assert client.get(url(tenant_a, "payer_detail", payer_id=theirs.payer_id)).status_code == 404


# --- API ----------------------------------------------------------------------------------------
def api(client, method, path, body=None, *, org=None):
    extra = {"HTTP_X_CREDEX_ORGANIZATION": org} if org else {}
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, f"/api/v1/{path}", data, content_type="application/json", **extra)


def test_the_api_runs_an_application_from_request_to_approval(tenant_a, login):
    provider = make_provider(tenant_a.org, seed=50)
    client = login(tenant_a.coordinator)
    payer = api(client, "POST", "payers", {"name": "Cascade MA", "payer_id": "CMA"}).json()

    created = api(
        client, "POST", "enrollments", {"provider": str(provider.pk), "payer": payer["id"]}
    )
    assert created.status_code == 201, created.content
    eid = created.json()["id"]
    assert created.json()["allowed_transitions"] == ["in_preparation", "withdrawn"]

    refused = api(client, "POST", f"enrollments/{eid}/transition", {"to": "approved"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "transition_not_allowed"

    for to in ("in_preparation", "submitted"):
        assert api(client, "POST", f"enrollments/{eid}/transition", {"to": to}).status_code == 200
    no_date = api(client, "POST", f"enrollments/{eid}/transition", {"to": "approved"})
    assert no_date.status_code == 400 and "effective_date" in no_date.json()["details"]
    approved = api(
        client,
        "POST",
        f"enrollments/{eid}/transition",
        {"to": "approved", "effective_date": "2026-07-01", "note": "Welcome letter"},
    )
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["effective_date"] == "2026-07-01"

    detail = api(client, "GET", f"enrollments/{eid}").json()
    assert "Welcome letter" in detail["notes"]


def test_the_api_lists_with_filters_and_cursor_pages(tenant_a, login):
    payer = new_payer(tenant_a)
    for seed in range(5):
        new_enrollment(tenant_a, seed=60 + seed, payer=payer)
    walk(tenant_a, new_enrollment(tenant_a, seed=70), S.IN_PREPARATION)
    client = login(tenant_a.coordinator)

    first = api(client, "GET", "enrollments?page_size=2&status=requested").json()
    assert len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert {r["id"] for r in second["results"]}.isdisjoint({r["id"] for r in first["results"]})
    assert len(api(client, "GET", f"enrollments?payer={payer.pk}").json()["results"]) == 5
    assert api(client, "GET", "enrollments?status=bogus").status_code == 400
    assert api(client, "GET", "enrollments?overdue=true").json()["results"] == []


def test_the_api_patches_an_application_and_a_payer_and_records_contracts(tenant_a, login):
    enrollment = walk(tenant_a, new_enrollment(tenant_a), S.SUBMITTED)
    client = login(tenant_a.coordinator)
    follow = (TODAY() + timedelta(days=12)).isoformat()

    patched = api(
        client,
        "PATCH",
        f"enrollments/{enrollment.pk}",
        {"next_follow_up": follow, "note": "Portal shows pending"},
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["next_follow_up"] == follow
    assert "Portal shows pending" in patched.json()["notes"]

    payer_url = f"payers/{enrollment.payer_id}"
    assert (
        api(client, "PATCH", payer_url, {"contact_name": "Dana"}).json()["contact_name"] == "Dana"
    )
    contract = api(
        client,
        "POST",
        f"{payer_url}/contracts",
        {"effective_date": "2026-01-01", "renewal_date": "2027-01-01"},
    )
    assert contract.status_code == 201
    assert len(api(client, "GET", f"{payer_url}/contracts").json()) == 1
    bad = api(
        client,
        "POST",
        f"{payer_url}/contracts",
        {"effective_date": "2026-01-01", "renewal_date": "2025-01-01"},
    )
    assert bad.status_code == 400


def test_the_api_refuses_the_auditor_writes_404s_outsiders_and_401s_anonymous(
    tenant_a, tenant_b, login, client
):
    enrollment = new_enrollment(tenant_a)
    before = state(tenant_a, enrollment)

    assert api(client, "GET", "enrollments").status_code == 401
    auditor = login(tenant_a.auditor)
    assert api(auditor, "GET", "enrollments").status_code == 200
    writes = [
        ("POST", f"enrollments/{enrollment.pk}/transition", {"to": "withdrawn"}),
        ("PATCH", f"enrollments/{enrollment.pk}", {"reference_number": "x"}),
        ("POST", "payers", {"name": "Sneaky"}),
        ("PATCH", f"payers/{enrollment.payer_id}", {"name": "Renamed"}),
        ("POST", f"payers/{enrollment.payer_id}/contracts", {"effective_date": "2026-01-01"}),
    ]
    for method, path, body in writes:
        response = api(auditor, method, path, body)
        assert response.status_code == 403, (path, response.content)
    assert state(tenant_a, enrollment) == before

    outsider = login(tenant_b.owner)
    assert api(outsider, "GET", f"enrollments/{enrollment.pk}").status_code == 404
    assert (
        api(
            outsider, "POST", f"enrollments/{enrollment.pk}/transition", {"to": "withdrawn"}
        ).status_code
        == 404
    )
    assert api(outsider, "GET", "enrollments", org=tenant_a.org.slug).status_code == 404
    assert state(tenant_a, enrollment) == before


def test_a_request_naming_another_organizations_provider_is_a_field_error(
    tenant_a, tenant_b, login
):
    theirs = make_provider(tenant_b.org, seed=80)
    payer = new_payer(tenant_a)
    client = login(tenant_a.coordinator)
    response = api(
        client, "POST", "enrollments", {"provider": str(theirs.pk), "payer": str(payer.pk)}
    )
    assert response.status_code == 400
    assert "provider" in response.json()["details"]


def test_a_contract_is_edited_on_its_own_page_and_a_bad_date_keeps_the_typed_values(
    tenant_a, login
):
    payer = new_payer(tenant_a)
    with tenant_context(tenant_a.org):
        contract = svc.contract_create(
            org=tenant_a.org,
            actor=coordinator(tenant_a),
            payer=payer,
            effective_date=date(2026, 1, 1),
            renewal_date=date(2027, 1, 1),
        )
    client = login(tenant_a.coordinator)
    edit_url = url(tenant_a, "payer_contract_edit", payer_id=payer.pk, contract_id=contract.pk)
    assert 'value="2027-01-01"' in client.get(edit_url).content.decode()

    bad = client.post(
        edit_url,
        {
            "effective_date": "2026-01-01",
            "renewal_date": "2025-06-01",
            "terms_notes": "typed terms",
        },
    )
    assert bad.status_code == 400
    assert "must be after the effective date" in bad.content.decode()
    assert "typed terms" in bad.content.decode()

    ok = client.post(edit_url, {"effective_date": "2026-01-01", "renewal_date": "2028-01-01"})
    assert ok.status_code == 302
    with tenant_context(tenant_a.org):
        contract.refresh_from_db()
    assert contract.renewal_date == date(2028, 1, 1)
    other = new_payer(tenant_a, "Other Plan")
    wrong_payer = url(tenant_a, "payer_contract_edit", payer_id=other.pk, contract_id=contract.pk)
    assert client.get(wrong_payer).status_code == 404


def test_the_worklist_query_count_does_not_grow_with_the_number_of_applications(tenant_a, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    payer = new_payer(tenant_a)
    client = login(tenant_a.coordinator)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(tenant_a)).status_code == 200
        return len(captured)

    for seed in range(3):
        new_enrollment(tenant_a, seed=500 + seed, payer=payer)
    few = queries()
    for seed in range(12):
        walk(tenant_a, new_enrollment(tenant_a, seed=600 + seed, payer=payer), S.SUBMITTED)
    assert queries() == few


def test_a_provider_filter_naming_an_unknown_provider_lists_nothing_and_says_so(tenant_a, login):
    new_enrollment(tenant_a)
    body = (
        login(tenant_a.coordinator)
        .get(url(tenant_a), {"provider": "00000000-0000-4000-8000-000000000000"})
        .content.decode()
    )
    assert "0 applications" in body and "No such provider" in body
