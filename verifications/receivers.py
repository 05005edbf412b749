"""Verifications' receivers for hook points declared upstream (registered in
VerificationsConfig.ready()).

Member removal (credex/member_hooks.py): the removed member's open PSV requests (to verify,
or requested and awaiting a reply) go to the remover or unassigned through the queue's
service, one audit event per request. Packets have no assignee (`started_by` records who
started one; their open requests are what moves), and completed or cancelled requests,
extraction decisions, packages and shares keep naming the member.
"""

from __future__ import annotations

from credex.member_hooks import OpenWork
from verifications.models import OPEN_REQUEST_STATUSES, VerificationRequest
from verifications.services.queue import requests_reassign_from_member

REASON = "member removed"


def open_work(*, org, removed) -> list[OpenWork]:
    count = VerificationRequest.objects.filter(
        organization=org, assigned_to=removed, status__in=OPEN_REQUEST_STATUSES
    ).count()
    return [
        OpenWork.counted("verifications.request", count, "open PSV request", "open PSV requests")
    ]


def reassign(*, org, removed, actor, reassign_to) -> None:
    requests_reassign_from_member(
        org=org, actor=actor, removed=removed, to=reassign_to, reason=REASON
    )
