"""The committee demo (synthetic): files marked ready, some decided in the past, all through
the committee services."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from committee.models import CommitteeDecision, CommitteeReview
from committee.selectors import provider_readiness
from committee.services import (
    committee_mark_notified,
    committee_record_decision,
    committee_schedule,
    provider_mark_ready_for_committee,
)
from roster.models import Provider


def seed_demo_committee(org, actor, *, limit: int = 8) -> dict:
    """Committee demo: mark ready up to `limit` providers whose files pass the check, decide
    some (in the past, so the notification tracker has late and due items) and schedule the
    rest for the next meeting. Idempotent: providers with any review are skipped."""
    today = timezone.localdate()
    reviewed = set(
        CommitteeReview.objects.filter(organization=org).values_list("provider_id", flat=True)
    )
    candidates = [
        p
        for p in Provider.objects.filter(organization=org, excluded=False).order_by("last_name")
        if p.pk not in reviewed
    ]
    ready = [p for p in candidates if provider_readiness(org=org, provider=p, today=today).ready]
    next_meeting = today + timedelta(days=(3 - today.weekday()) % 7 or 7)  # next Thursday
    plan = [
        (CommitteeDecision.APPROVED, 41, False),
        (CommitteeDecision.APPROVED, 12, False),
        (CommitteeDecision.APPROVED_WITH_CONDITIONS, 6, True),
        (CommitteeDecision.DEFERRED, 20, True),
    ]
    counts = {"ready": 0, "decided": 0}
    for index, provider in enumerate(ready[:limit]):
        review = provider_mark_ready_for_committee(
            org=org, actor=actor, provider=provider, meeting_date=next_meeting
        )
        counts["ready"] += 1
        if index >= len(plan):
            continue
        decision, days_ago, notified = plan[index]
        # Held in the past: off the coming agenda; the decision date becomes its meeting.
        committee_schedule(org=org, actor=actor, review=review, meeting_date=None)
        decided_on = today - timedelta(days=days_ago)
        committee_record_decision(
            org=org,
            actor=actor,
            review=review,
            decision=decision,
            decision_date=decided_on,
            minutes="Demo: file reviewed; verifications current; no adverse history.",
            conditions="Focused review of the first 20 charts within 6 months."
            if decision == CommitteeDecision.APPROVED_WITH_CONDITIONS
            else "",
        )
        counts["decided"] += 1
        if notified:
            committee_mark_notified(
                org=org, actor=actor, review=review, notified_on=decided_on + timedelta(days=3)
            )
    return counts
