"""Celery tasks for the expiry inbox (owned by the inbox area).

- `roster.inbox.daily` (beat, 05:00 UTC): one `roster.inbox.generate` per organization, followed
  by `roster.inbox.digest` when INBOX_DIGEST_ENABLED. A day lock in the cache keeps a second
  beat from fanning out twice (the generation is idempotent anyway). A read-only organization
  (billing past due, credex/writes.py) gets the digest only: no items are generated for it.
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
    from credex.writes import log_skipped

    today = timezone.localdate()
    if not force and not cache.add(f"roster.inbox.daily:{today}", 1, DAY_LOCK_SECONDS):
        return 0
    orgs = list(Organization.objects.values_list("pk", "writes_paused_at"))
    for pk, paused_at in orgs:
        org_id = str(pk)
        if paused_at is not None:
            # Read-only for billing (credex/writes.py): no items are written, the reminder of
            # those it already has still goes out.
            log_skipped("roster.inbox.generate", org_id)
            if settings.INBOX_DIGEST_ENABLED:
                inbox_digest.apply_async(kwargs={"org_id": org_id})
        elif settings.INBOX_DIGEST_ENABLED:
            # the digest reads what the generation wrote
            chain(inbox_generate_task.si(org_id=org_id), inbox_digest.si(org_id=org_id))()
        else:
            inbox_generate_task.apply_async(kwargs={"org_id": org_id})
    return len(orgs)


@shared_task(bind=True, base=TenantTask, name="roster.inbox.generate")
def inbox_generate_task(self, *, org_id: str) -> dict:
    """Generate one organization's inbox items for today."""
    from credex.models import Organization
    from roster.services.inbox import inbox_generate

    return inbox_generate(org=Organization.objects.get(pk=org_id))


# A reminder keeps going out for a read-only organization (credex/writes.py): it reads the
# items that exist and records only that it was sent, and a coordinator must still hear that
# a clinician's license is about to lapse, payment or not.
@shared_task(bind=True, base=TenantTask, name="roster.inbox.digest", runs_while_read_only=True)
def inbox_digest(self, *, org_id: str) -> int:
    """E-mail each coordinator of one organization their items due within 30 days."""
    from credex.models import Organization
    from roster.services.inbox import inbox_digest_send

    if not settings.INBOX_DIGEST_ENABLED:
        return 0
    return inbox_digest_send(org=Organization.objects.get(pk=org_id))
