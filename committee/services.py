"""Committee review: mark a provider file ready, schedule it, record the decision, track that
the provider was told.

Decisions where the issue was silent:
- A deferral closes that review; the file is marked ready again (a new review, re-checked)
  when the committee is to see it again. The history keeps both.
- Approval (with or without conditions) sets the provider's committee decision date and the
  next re-credentialing due date (decision date + the organization's cycle); the initial
  credentialing date is set only on the first approval. A denial or a deferral changes no
  provider field (the decision and its date live on the review): the provider's committee
  decision date is the one that re-credentialing counts from, and a denied applicant has no
  re-credentialing cycle. What a denial does to the provider's status is left to the
  coordinator.
- Decision dates cannot be in the future; conditions are required for "approved with
  conditions".
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from committee.models import CommitteeDecision, CommitteeReview
from committee.selectors import APPROVALS, notify_due_date, provider_readiness
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, InvalidInput
from credex.models import Membership
from roster.models import Provider
from roster.services.providers import provider_update, recredentialing_due_from
from roster.services.requirements import requirements_for_type
from verifications.selectors.readiness import psv_gaps


def provider_mark_ready_for_committee(
    *, org, actor, provider: Provider, meeting_date: date | None = None
) -> CommitteeReview:
    """Put a provider file in the committee queue; refused with the reasons when not ready."""
    require(actor, cap.CHANGE_ROSTER)
    today = timezone.localdate()
    if meeting_date is not None and meeting_date < today:
        raise InvalidInput(
            "The meeting date has passed.", details={"meeting_date": "Choose today or later."}
        )
    with transaction.atomic():
        # One review at a time per provider: lock the provider while checking.
        Provider.objects.select_for_update().filter(pk=provider.pk).first()
        readiness = provider_readiness(org=org, provider=provider, today=today)
        if not readiness.ready:
            raise Conflict(
                f"{provider.full_name} is not ready for committee.",
                details={"reasons": readiness.blocking},
                code="not_ready",
            )
        cycle = "recredentialing" if provider.initial_credentialing_date else "initial"
        review = CommitteeReview.objects.create(
            organization=org,
            provider=provider,
            cycle=cycle,
            ready_marked_by=actor if isinstance(actor, Membership) else None,
            meeting_date=meeting_date,
        )
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.committee.marked_ready",
            target=review,
            data={
                "provider": str(provider.pk),
                "cycle": cycle,
                "required": readiness.required,
                "meeting_date": meeting_date.isoformat() if meeting_date else None,
            },
        )
    return review


def committee_schedule(
    *, org, actor, review: CommitteeReview, meeting_date: date | None
) -> CommitteeReview:
    """Put a waiting review on a meeting's agenda (or take it off with None)."""
    require(actor, cap.CHANGE_ROSTER)
    if meeting_date is not None and meeting_date < timezone.localdate():
        raise InvalidInput(
            "The meeting date has passed.", details={"meeting_date": "Choose today or later."}
        )
    with transaction.atomic():
        locked = CommitteeReview.objects.select_for_update().get(pk=review.pk)
        if locked.decision:
            raise Conflict(
                "This review is already decided; its meeting date is part of the record."
            )
        if locked.meeting_date == meeting_date:
            return locked
        before = locked.meeting_date
        locked.meeting_date = meeting_date
        locked.save(update_fields=["meeting_date"])
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.committee.scheduled",
            target=locked,
            data={
                "provider": str(locked.provider_id),
                "from": before.isoformat() if before else None,
                "to": meeting_date.isoformat() if meeting_date else None,
            },
        )
    review.meeting_date = locked.meeting_date
    return review


EARLIEST_DECISION = date(1900, 1, 1)
MINUTES_MAX, CONDITIONS_MAX = 10_000, 2_000


def _decision_errors(decision, decision_date, conditions) -> dict[str, str]:
    errors = {}
    if decision not in CommitteeDecision.values:
        errors["decision"] = "Choose the committee's decision."
    if not isinstance(decision_date, date):
        errors["decision_date"] = "Enter the date the committee decided."
    elif decision_date > timezone.localdate():
        errors["decision_date"] = "The decision date cannot be in the future."
    elif decision_date < EARLIEST_DECISION:
        # Year 1 was an OverflowError (a 500) in the window and cycle date arithmetic.
        errors["decision_date"] = f"Enter a decision date after {EARLIEST_DECISION:%Y}."
    if decision == CommitteeDecision.APPROVED_WITH_CONDITIONS and not conditions.strip():
        errors["conditions"] = "Write the conditions the committee set."
    return errors


def committee_record_decision(
    *,
    org,
    actor,
    review: CommitteeReview,
    decision: str,
    decision_date: date,
    minutes: str = "",
    conditions: str = "",
) -> CommitteeReview:
    """Record the committee's decision; an approval sets the provider's credentialing dates."""
    require(actor, cap.CHANGE_ROSTER)
    minutes, conditions = str(minutes or "").strip(), str(conditions or "").strip()
    errors = _decision_errors(decision, decision_date, conditions)
    # Unbounded, 100 KB of minutes went into the review (and conditions into the audit data).
    for name, text, limit in (
        ("minutes", minutes, MINUTES_MAX),
        ("conditions", conditions, CONDITIONS_MAX),
    ):
        if len(text) > limit:
            errors[name] = f"Keep the {name} under {limit:,} characters."
    if errors:
        raise InvalidInput("Some fields need attention.", details=errors)
    with transaction.atomic():
        locked = CommitteeReview.objects.select_for_update().get(pk=review.pk)
        if locked.decision:
            raise Conflict(
                f"The committee already decided this review ({locked.get_decision_display()}, "
                f"{locked.decision_date:%d %b %Y}).",
                code="already_decided",
            )
        if decision in (
            CommitteeDecision.APPROVED,
            CommitteeDecision.APPROVED_WITH_CONDITIONS,
        ):
            _refuse_stale_verifications(org, locked, decision_date)
        locked.decision = decision
        locked.decision_date = decision_date
        locked.minutes = minutes
        locked.conditions = conditions
        locked.decided_by = actor if isinstance(actor, Membership) else None
        if locked.meeting_date is None:
            locked.meeting_date = decision_date
        locked.save()
        provider = Provider.objects.select_for_update().get(pk=locked.provider_id)
        changes = _provider_dates(org, provider, locked)
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.committee.decided",
            target=locked,
            data={
                "provider": str(provider.pk),
                "decision": decision,
                "decision_date": decision_date.isoformat(),
                "cycle": locked.cycle,
                "conditions": conditions[:500],
                "notify_by": notify_due_date(locked).isoformat(),
                "provider_dates": {k: v.isoformat() for k, v in changes.items()},
            },
        )
        if changes:
            provider_update(
                org=org,
                actor=actor,
                provider=provider,
                source="committee",
                **changes,
            )
    review.__dict__.update(
        {f.attname: getattr(locked, f.attname) for f in CommitteeReview._meta.concrete_fields}
    )
    return review


def _refuse_stale_verifications(org, review: CommitteeReview, decision_date: date) -> None:
    """NCQA: an approval rests on verifications made within the organization's window before
    the decision; name each required credential whose record is missing or too old."""
    provider = review.provider
    required = requirements_for_type(org=org, provider_type=provider.provider_type)
    gaps = psv_gaps(org=org, provider=provider, kinds=required, as_of=decision_date)
    if gaps:
        raise Conflict(
            "The committee cannot approve on verifications outside the "
            f"{org.psv_validity_days}-day window: re-verify first.",
            code="verification_outside_window",
            details={"verifications": [g.message for g in gaps]},
        )


def _provider_dates(org, provider: Provider, review: CommitteeReview) -> dict[str, date]:
    """The provider fields an approval sets (see the module docstring); none otherwise."""
    if review.decision not in APPROVALS:
        return {}
    changes = {
        "committee_decision_date": review.decision_date,
        "recredentialing_due_date": recredentialing_due_from(org, review.decision_date),
    }
    if provider.initial_credentialing_date is None:
        changes["initial_credentialing_date"] = review.decision_date
    return changes


def committee_mark_notified(
    *, org, actor, review: CommitteeReview, notified_on: date | None = None
) -> CommitteeReview:
    """Record that the provider was told the decision (NCQA: within 30 days)."""
    require(actor, cap.CHANGE_ROSTER)
    today = timezone.localdate()
    with transaction.atomic():
        locked = CommitteeReview.objects.select_for_update().get(pk=review.pk)
        if not locked.decision:
            raise Conflict("There is no decision to notify the provider of yet.")
        if locked.notified_at:
            raise Conflict(
                f"The provider was already notified on "
                f"{timezone.localtime(locked.notified_at):%d %b %Y}.",
                code="already_notified",
            )
        if notified_on is not None and (notified_on > today or notified_on < locked.decision_date):
            raise InvalidInput(
                "Some fields need attention.",
                details={"notified_on": "Between the decision date and today."},
            )
        if notified_on is None or notified_on == today:
            locked.notified_at = timezone.now()
        else:
            locked.notified_at = timezone.make_aware(datetime.combine(notified_on, time(12)))
        locked.save(update_fields=["notified_at"])
        due = notify_due_date(locked)
        on = timezone.localtime(locked.notified_at).date()
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.committee.provider_notified",
            target=locked,
            data={
                "provider": str(locked.provider_id),
                "decision": locked.decision,
                "notified_on": on.isoformat(),
                "due": due.isoformat(),
                "late_by_days": max((on - due).days, 0),
            },
        )
    review.notified_at = locked.notified_at
    return review
