"""Celery tasks: re-verification packets.

- `verifications.packets.bulk_start` (TenantTask, org_id): start a packet for every provider
  due (verifications.services.packets.packets_bulk_run); progress in the cache, polled by
  the packets page;
- `verifications.screening_records` (TenantTask, org_id + run_id): the PSV records of a large
  screening run, written after the run commits (verifications.services.automatic).
"""

from __future__ import annotations

from celery import shared_task

from credex.celery import TenantTask

__all__ = ["packets_bulk_start", "screening_records"]


class BulkPacketTask(TenantTask):
    abstract = True

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        from verifications.services.packets import bulk_job_failed

        if kwargs.get("bulk_key") and kwargs.get("org_id"):
            bulk_job_failed(
                org_id=kwargs["org_id"],
                bulk_key=kwargs["bulk_key"],
                error=f"{type(exc).__name__}: {exc}",
            )

    def skipped_read_only(self, *, org, kwargs):
        """The progress bar says why nothing started (the cache, not the database)."""
        from credex.writes import MESSAGE
        from verifications.services.packets import bulk_job_failed

        if kwargs.get("bulk_key"):
            bulk_job_failed(org_id=str(org.pk), bulk_key=kwargs["bulk_key"], error=MESSAGE)


@shared_task(bind=True, base=BulkPacketTask, name="verifications.packets.bulk_start")
def packets_bulk_start(
    self, *, org_id: str, bulk_key: str, actor_kind: str, actor_id: str, days: int = 120
) -> dict:
    from credex.models import Organization
    from verifications.services.packets import actor_from_ref, packets_bulk_run

    org = Organization.objects.get(pk=org_id)
    actor = actor_from_ref(org=org, actor_kind=actor_kind, actor_id=actor_id)
    return packets_bulk_run(org=org, actor=actor, bulk_key=bulk_key, days=days)


# The PSV records of a screening run are the run's results: written for a read-only
# organization too, like the run itself (credex/writes.py).
@shared_task(
    bind=True,
    base=TenantTask,
    name="verifications.screening_records",
    runs_while_read_only=True,
)
def screening_records(self, *, org_id: str, run_id: str) -> dict:
    from credex.models import Organization
    from verifications.services.automatic import screening_verifications_record_deferred

    org = Organization.objects.get(pk=org_id)
    return screening_verifications_record_deferred(org=org, run_id=run_id)
