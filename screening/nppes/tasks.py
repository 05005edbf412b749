"""Celery entry points for the NPPES refresh (discovered as `screening.nppes.tasks`).

- `nppes.refresh.nightly` (beat, 02:00 UTC, credex/celery.py): one `nppes.refresh.org` per
  organization. A day key in the cache keeps a second beat from fanning out twice (the
  refresh is idempotent and locked per organization anyway).
- `nppes.refresh.org` (TenantTask, takes `org_id`): refresh one organization, or one
  provider (`provider_id`); `run_id` names the NppesRun a member queued (its id is the task
  id, so the progress bar reads this task's PROGRESS state).
"""

from __future__ import annotations

import time

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from credex.celery import TenantTask

DAY_LOCK_SECONDS = 20 * 3600
PROGRESS_EVERY_SECONDS = 0.5


@shared_task(name="nppes.refresh.nightly")
def refresh_nightly(force: bool = False) -> int:
    """Fan out one refresh per organization; returns how many were enqueued."""
    from credex.models import Organization

    today = timezone.now().date()
    if not force and not cache.add(f"nppes.refresh.nightly:{today}", 1, DAY_LOCK_SECONDS):
        return 0
    org_ids = [str(pk) for pk in Organization.objects.values_list("pk", flat=True)]
    for org_id in org_ids:
        refresh_org.apply_async(kwargs={"org_id": org_id, "trigger": "nightly"})
    return len(org_ids)


def _progress_reporter(task):
    """Throttled PROGRESS updates in the result backend (Redis), outside the transaction."""
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if task.request.id is None or (
            done not in (0, total) and now - last[0] < PROGRESS_EVERY_SECONDS
        ):
            return
        last[0] = now
        task.update_state(state="PROGRESS", meta={"done": done, "total": total})

    return report


# Runs for a read-only organization too (credex/writes.py): the NPPES check is a primary-source
# check of each clinician, screening's own, whose deactivations (death, retirement, a revoked
# identity) matter for patient safety like an exclusion; it writes only its checks, review
# items and PSV records and never changes the roster (deciding a mismatch is a member's write,
# refused while read-only).
@shared_task(bind=True, base=TenantTask, name="nppes.refresh.org", runs_while_read_only=True)
def refresh_org(
    self,
    *,
    org_id: str,
    run_id: str | None = None,
    provider_id: str | None = None,
    trigger: str = "manual",
) -> dict:
    """Refresh one organization (or one of its providers) from NPPES."""
    from credex.models import Organization
    from screening.nppes.models import NppesRun
    from screening.nppes.services import nppes_refresh

    org = Organization.objects.get(pk=org_id)
    run = NppesRun.objects.filter(organization=org, pk=run_id).first() if run_id else None
    run = nppes_refresh(
        org=org,
        run=run,
        provider_ids=[provider_id] if provider_id else None,
        trigger=trigger,
        on_progress=_progress_reporter(self),
    )
    return {"run": str(run.pk), "status": run.status, **run.counts}
