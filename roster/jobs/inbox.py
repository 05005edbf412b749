"""Celery tasks for the expiry inbox (owned by the inbox area).

- `roster.inbox.daily` (beat, 05:00 UTC): one `roster.inbox.generate` per organization, followed
  by `roster.inbox.digest` when INBOX_DIGEST_ENABLED. A day lock in the cache keeps a second
  beat from fanning out twice (the generation is idempotent anyway).
- `roster.inbox.generate` / `roster.inbox.digest`: TenantTasks, take `org_id`.
"""

from __future__ import annotations

from celery import chain, shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from credex.celery import TenantTask

__all__ = ["inbox_daily", "inbox_digest", "inbox_generate_task"]

DAY_LOCK_SECONDS = 20 * 3600


@shared_task(name="roster.inbox.daily")
def inbox_daily(force: bool = False) -> int:
    """Fan out one generation task per organization; returns how many were enqueued."""
    from credex.models import Organization

    today = timezone.localdate()
    if not force and not cache.add(f"roster.inbox.daily:{today}", 1, DAY_LOCK_SECONDS):
        return 0
    org_ids = [str(pk) for pk in Organization.objects.values_list("pk", flat=True)]
    for org_id in org_ids:
        if settings.INBOX_DIGEST_ENABLED:
            # the digest reads what the generation wrote
            chain(inbox_generate_task.si(org_id=org_id), inbox_digest.si(org_id=org_id))()
        else:
            inbox_generate_task.apply_async(kwargs={"org_id": org_id})
    return len(org_ids)


@shared_task(bind=True, base=TenantTask, name="roster.inbox.generate")
def inbox_generate_task(self, *, org_id: str) -> dict:
    """Generate one organization's inbox items for today."""
    from credex.models import Organization
    from roster.services.inbox import inbox_generate

    return inbox_generate(org=Organization.objects.get(pk=org_id))


@shared_task(bind=True, base=TenantTask, name="roster.inbox.digest")
def inbox_digest(self, *, org_id: str) -> int:
    """E-mail each coordinator of one organization their items due within 30 days."""
    from credex.models import Organization
    from roster.services.inbox import inbox_digest_send

    if not settings.INBOX_DIGEST_ENABLED:
        return 0
    return inbox_digest_send(org=Organization.objects.get(pk=org_id))
