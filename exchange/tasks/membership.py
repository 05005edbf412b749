"""Exchange background work: membership standing.

- `exchange.standing.daily` (beat, 04:30 UTC): one `exchange.standing.refresh` per approved
  member (from the global member directory). A day lock in the cache keeps a second beat from
  fanning out twice (the refresh is idempotent anyway).
- `exchange.standing.refresh`: a TenantTask (takes `org_id`): standing_refresh(org).
"""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from credex.celery import TenantTask

DAY_LOCK_SECONDS = 20 * 3600


@shared_task(name="exchange.standing.daily")
def standing_daily(force: bool = False) -> int:
    """Fan out one standing refresh per approved member; returns how many were enqueued."""
    from exchange.models import MemberDirectory, MembershipStatus

    today = timezone.localdate()
    if not force and not cache.add(f"exchange.standing.daily:{today}", 1, DAY_LOCK_SECONDS):
        return 0
    org_ids = [
        str(pk)
        for pk in MemberDirectory.objects.filter(status=MembershipStatus.APPROVED).values_list(
            "member_id", flat=True
        )
    ]
    for org_id in org_ids:
        standing_refresh_task.apply_async(kwargs={"org_id": org_id})
    return len(org_ids)


@shared_task(bind=True, base=TenantTask, name="exchange.standing.refresh")
def standing_refresh_task(self, *, org_id: str) -> dict:
    """Pause (lapsed) or resume (renewed) one member's listings."""
    from credex.models import Organization
    from exchange.services.standing import standing_refresh

    return standing_refresh(org=Organization.objects.get(pk=org_id))
