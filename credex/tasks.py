"""Core Celery tasks."""

from __future__ import annotations

from celery import shared_task

from credex.celery import TenantTask


@shared_task(name="credex.tasks.heartbeat")
def heartbeat() -> str:
    """Beat liveness: proves the scheduler and a worker are connected."""
    return "ok"


@shared_task(
    bind=True, base=TenantTask, name="credex.tasks.count_members", runs_while_read_only=True
)
def count_members(self, *, org_id: str) -> dict:
    """Read tenant data under the task's organization (used by the worker test and /healthz)."""
    from credex.models import Membership
    from credex.tenancy import current_org_id

    return {"org": str(current_org_id()), "members": Membership.objects.count()}


@shared_task(name="jobs.reconcile")
def reconcile_jobs() -> dict:
    """Re-publish or fail job rows whose queue message was lost (see credex/jobs.py)."""
    from credex.jobs import jobs_reconcile

    return jobs_reconcile()
