"""Requesting runs: queue one (the organization or a provider), publish it, fail it."""

from __future__ import annotations

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict
from credex.jobs import RUNNING_STALL_AFTER, job_is_stalled, job_publish
from credex.models import Membership
from roster.models import Provider
from screening.models import (
    OPEN_RUN_STATUSES,
    RunStatus,
    RunTrigger,
    ScreeningRun,
)
from screening.services.runs.base import SYSTEM_ACTOR, RunInProgress, progress_key

# --- requesting -------------------------------------------------------------------------


def screening_run_request(
    *,
    org,
    actor,
    provider: Provider | None = None,
    trigger: str = RunTrigger.ON_DEMAND,
    publish_now: bool = True,
) -> ScreeningRun:
    """Queue a screening run (the organization, or one provider); the worker runs it.

    publish_now (a person asked): the task is published before the row commits, and a queue
    that is down raises QueueUnavailable (503) with nothing left behind. Otherwise (the
    schedule, an import) it is published after commit and the reconciler picks up a run
    whose publish failed.
    """
    if actor is not None:
        require(actor, cap.CHANGE_ROSTER)
    if provider is not None and provider.organization_id != org.pk:
        raise Conflict("The provider is not on this roster.")
    with transaction.atomic():
        _fail_stalled_runs(org)
        try:
            with transaction.atomic():
                run = ScreeningRun.objects.create(
                    organization=org,
                    trigger=trigger,
                    provider=provider,
                    requested_by=actor if isinstance(actor, Membership) else None,
                )
        except IntegrityError:
            raise RunInProgress(
                "A screening run is already in progress for this organization.",
                details={"run": str(_open_org_run_id(org) or "")},
            )
        audit_record(
            org=org,
            actor=audit_actor(actor) if actor is not None else SYSTEM_ACTOR,
            action="screening.run.requested",
            target=run,
            data={
                "trigger": trigger,
                "provider": str(provider.pk) if provider else None,
            },
        )
        if publish_now:
            _enqueue(run)  # QueueUnavailable rolls the run and its audit event back
        else:
            # robust: a broker hiccup must not fail the schedule or the import that asked;
            # the reconciler re-publishes the run (credex/jobs.py).
            transaction.on_commit(lambda: _enqueue(run), robust=True)
    return run


def _open_org_run_id(org):
    return (
        ScreeningRun.objects.filter(
            organization=org, status__in=OPEN_RUN_STATUSES, provider__isnull=True
        )
        .values_list("pk", flat=True)
        .first()
    )


def _fail_stalled_runs(org) -> None:
    """An organization run whose queue message was lost (open past the reconciler's bound,
    no task executing it) must not block a new run: it is failed, audited, and replaced."""
    stalled = [
        run
        for run in ScreeningRun.objects.filter(
            organization=org,
            status__in=OPEN_RUN_STATUSES,
            provider__isnull=True,
            created_at__lt=timezone.now() - RUNNING_STALL_AFTER,
        )
        if job_is_stalled(run)
    ]
    for run in stalled:
        screening_run_fail(
            org=org,
            run_id=run.pk,
            error="No worker took this run for 10 minutes (its queue message was probably "
            "lost); a new run replaced it.",
        )


def _enqueue(run: ScreeningRun) -> None:
    from screening.tasks import run_org, run_provider

    if run.provider_id:
        job_publish(
            run_provider,
            org_id=str(run.organization_id),
            provider_id=str(run.provider_id),
            run_id=str(run.pk),
            trigger=run.trigger,
        )
    else:
        job_publish(run_org, org_id=str(run.organization_id), run_id=str(run.pk))


def screening_request_provider_after_commit(*, org, provider: Provider, trigger: str) -> None:
    """Screen one provider once the current transaction commits (roster create/rename hook)."""
    from screening.tasks import run_provider

    org_id, provider_id = str(org.pk), str(provider.pk)
    # robust: the provider's change stands when the queue is down (the publish fails fast
    # and is logged; the monthly run screens the provider).
    transaction.on_commit(
        lambda: job_publish(run_provider, org_id=org_id, provider_id=provider_id, trigger=trigger),
        robust=True,
    )


def screening_run_fail(*, org, run_id, error: str) -> None:
    """Record that a run's task failed (called after its transaction rolled back)."""
    with transaction.atomic():
        failed = ScreeningRun.objects.filter(pk=run_id, status__in=OPEN_RUN_STATUSES).update(
            status=RunStatus.FAILED, error=error[:2000], finished_at=timezone.now()
        )
        if not failed:  # finished meanwhile, or never committed (its request rolled back)
            return
        audit_record(
            org=org,
            actor=SYSTEM_ACTOR,
            action="screening.run.failed",
            target_type="screening.screeningrun",
            target_id=str(run_id),
            data={"error": error[:500]},
        )
    cache.delete(progress_key(run_id))
