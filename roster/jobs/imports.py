"""Celery task for CSV imports too large to run inside a request (owned by the import area)."""

from __future__ import annotations

import logging

from celery import shared_task

from credex.celery import TenantTask

__all__ = ["import_run_task"]
logger = logging.getLogger(__name__)


@shared_task(bind=True, base=TenantTask, name="roster.import.run")
def import_run_task(self, *, org_id: str, job_id: str, api_key_id: str | None = None) -> dict:
    """Run one queued import job under its organization, as the member (or key) who sent it.

    Idempotent: a finished job is not run again. A redelivery after a crash re-runs a job
    left "validating" or "importing": the run is one transaction, so nothing of the crashed
    run was kept but its progress counts. An advisory lock on the job id keeps two
    deliveries of the same job from running at once.
    """
    from django.db import connection, transaction

    from credex.errors import DomainError, WritesPaused
    from credex.jobs import job_row_or_retry
    from credex.models import ApiKey, Membership, Organization
    from roster.models import ImportJob
    from roster.services.imports import RUNNING, import_job_fail, import_run

    org = Organization.objects.get(pk=org_id)
    job = job_row_or_retry(self, ImportJob, job_id)
    if job is None:
        return {"job": job_id, "status": "missing"}
    if job.status not in RUNNING:
        return {"job": job_id, "status": job.status}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [f"import:{job_id}"]
        )
        if not cursor.fetchone()[0]:
            return {"job": job_id, "status": "running elsewhere"}
    if api_key_id:
        actor = ApiKey.objects.filter(pk=api_key_id, revoked_at=None).first()
    else:
        actor = (
            Membership.objects.select_related("user").filter(pk=job.created_by_id).first()
            if job.created_by_id
            else None
        )
    if actor is None:
        job = import_job_fail(
            org=org, job=job, reason="Whoever started this import no longer has access."
        )
    else:
        actor.organization = org
        try:
            with transaction.atomic():
                job = import_run(org=org, actor=actor, job=job, report_progress=True)
        except WritesPaused:
            # Read-only for billing (credex/writes.py): nothing written, the job stays open and
            # is published again when writes are restored (credex.jobs.jobs_resume).
            raise
        except DomainError as exc:  # e.g. the member's role no longer allows imports
            job.refresh_from_db()
            job = import_job_fail(org=org, job=job, reason=exc.message)
        except (ConnectionError, TimeoutError):
            raise  # retried with backoff by TenantTask
        except Exception:
            logger.exception("import job %s failed", job_id)
            job.refresh_from_db()
            job = import_job_fail(
                org=org, job=job, reason="Something went wrong on our side; nothing was written."
            )
    return {"job": job_id, "status": job.status}
