"""Hooks the PSV log calls when a verification fulfils a queue request (filled in by the
queue module; kept apart so records.py has no import cycle with queue.py)."""

from __future__ import annotations

from django.utils import timezone

from verifications.models import RequestStatus


def request_completed(*, org, request, verification) -> None:
    """Mark the request that a new verification answers as completed (and its packet step)."""
    from verifications.services.packets import packet_request_completed

    request.status = RequestStatus.COMPLETED
    request.completed_at = timezone.now()
    request.save(update_fields=["status", "completed_at"])
    packet_request_completed(org=org, request=request, verification=verification)
