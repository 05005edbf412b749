"""Celery entry points for exclusion screening (thin: they call services).

- `screening.monthly` (beat, see credex/celery.py): loads the newest lists from the
  configured URLs when set (OIG_LEIE_URL, SAM_EXTRACT_URL; a failed download keeps the
  active version and is logged), then queues one `screening.run_org` per organization;
- `screening.run_org` (TenantTask, org_id + run_id): executes a queued run;
- `screening.run_provider` (TenantTask, org_id + provider_id): screens one provider (new
  hire, rename, or an on-demand request with its run_id).

A failed run is marked failed by `on_failure`, outside the task's rolled-back transaction.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from credex.celery import TenantTask

log = logging.getLogger(__name__)


class ScreeningTask(TenantTask):
    abstract = True
    # Exclusion screening keeps running for a read-only organization (billing past due):
    # patient safety does not wait for payment (credex/writes.py).
    runs_while_read_only = True

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        run_id = kwargs.get("run_id")
        org_id = kwargs.get("org_id")
        if not (run_id and org_id):
            return
        from credex.models import Organization
        from credex.tenancy import tenant_context
        from screening.services import screening_run_fail

        org = Organization.objects.filter(pk=org_id).first()
        if org is None:
            return
        with tenant_context(org):
            screening_run_fail(org=org, run_id=run_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(name="screening.monthly")
def monthly(load: bool = True) -> dict:
    """Refresh the lists (when URLs are configured) and queue a run for every organization."""
    from credex.models import Organization
    from credex.tenancy import tenant_context
    from screening.loaders import DatasetError, load_dataset
    from screening.models import RunTrigger, Source
    from screening.services import RunInProgress, screening_run_request

    loaded = {}
    if load:
        for source, url in (
            (Source.LEIE, settings.OIG_LEIE_URL),
            (Source.SAM, settings.SAM_EXTRACT_URL),
        ):
            if not url:
                continue
            try:
                result = load_dataset(source=source, origin=url, loaded_by="screening.monthly")
                loaded[source] = str(result.version.pk)
                for warning in result.warnings:
                    log.warning("screening.monthly: %s: %s", source, warning)
            except DatasetError as exc:
                log.warning("screening.monthly: %s not loaded: %s", source, exc.message)
                loaded[source] = f"error: {exc.message}"
    queued, skipped = [], []
    for org in Organization.objects.order_by("created_at"):
        with tenant_context(org):
            try:
                run = screening_run_request(
                    org=org, actor=None, trigger=RunTrigger.SCHEDULE, publish_now=False
                )
            except RunInProgress:
                skipped.append(str(org.pk))
                continue
        queued.append(str(run.pk))
    return {"loaded": loaded, "queued": queued, "skipped": skipped}


@shared_task(bind=True, base=ScreeningTask, name="screening.run_org")
def run_org(self, *, org_id: str, run_id: str) -> dict:
    from credex.jobs import job_row_or_retry
    from credex.models import Organization
    from screening.models import ScreeningRun
    from screening.services import screening_run_execute

    if job_row_or_retry(self, ScreeningRun, run_id) is None:
        return {"run": run_id, "status": "missing"}
    run = screening_run_execute(org=Organization.objects.get(pk=org_id), run_id=run_id)
    return {"run": str(run.pk), "status": run.status, "counts": run.counts}


@shared_task(bind=True, base=ScreeningTask, name="screening.run_provider")
def run_provider(
    self, *, org_id: str, provider_id: str, trigger: str = "on_demand", run_id: str | None = None
) -> dict:
    from credex.jobs import job_row_or_retry
    from credex.models import Organization
    from screening.models import ScreeningRun
    from screening.services import screening_run_provider

    if run_id and job_row_or_retry(self, ScreeningRun, run_id) is None:
        return {"run": run_id, "status": "missing"}
    run = screening_run_provider(
        org=Organization.objects.get(pk=org_id),
        provider_id=provider_id,
        trigger=trigger,
        run_id=run_id,
    )
    return {"run": str(run.pk), "status": run.status, "counts": run.counts}
