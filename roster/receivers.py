"""Roster's receivers for hook points declared upstream (registered in RosterConfig.ready()).

Member removal (credex/member_hooks.py): the open work a removed member holds on the roster,
their providers (as coordinator) and their open or snoozed inbox items (which include the
enrollment follow-ups and contract renewals), goes to the remover or unassigned through
roster's services, one audit event per object. Enrollments, payer contracts and committee
reviews have no assignee: nothing of theirs moves, and committee decisions keep `decided_by`.

Writes restored (credex/org_hooks.py writes_resumed): the inbox skipped its daily generation
while the organization was read-only; it is generated at once (on commit) instead of at the
next 05:00. Queued imports are published again by credex.jobs.jobs_resume.
"""

from __future__ import annotations

from credex.member_hooks import OpenWork
from roster.models import InboxItem, Provider
from roster.services.inbox import ACTIVE, inbox_items_reassign_from_member
from roster.services.providers import providers_reassign_from_member

REASON = "member removed"


def open_work(*, org, removed) -> list[OpenWork]:
    providers = Provider.objects.filter(organization=org, coordinator=removed).count()
    items = InboxItem.objects.filter(
        organization=org, assigned_to=removed, status__in=ACTIVE
    ).count()
    return [
        OpenWork.counted(
            "roster.provider", providers, "provider they coordinate", "providers they coordinate"
        ),
        OpenWork.counted("roster.inbox_item", items, "open inbox item", "open inbox items"),
    ]


def reassign(*, org, removed, actor, reassign_to) -> None:
    providers_reassign_from_member(
        org=org, actor=actor, removed=removed, to=reassign_to, reason=REASON
    )
    inbox_items_reassign_from_member(
        org=org, actor=actor, removed=removed, to=reassign_to, reason=REASON
    )


def writes_resumed(*, org, paused_at=None) -> None:
    from roster.jobs.inbox import inbox_generate_task

    inbox_generate_task.enqueue_on_commit(org=org)
