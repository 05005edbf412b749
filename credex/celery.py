"""The Celery app. Tasks that touch tenant data subclass TenantTask and take `org_id`."""

from __future__ import annotations

import logging
import os

from celery import Celery, Task
from celery.signals import worker_ready
from django.db import DatabaseError, transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credex.settings")

app = Celery("credex")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Scheduled jobs are defined here, in code (later issues add NPPES refresh, exclusion
# screening, the expiry inbox). Each entry is a task that iterates organizations and
# enqueues one TenantTask per organization.
from celery.schedules import crontab  # noqa: E402

app.conf.beat_schedule = {
    "heartbeat": {"task": "credex.tasks.heartbeat", "schedule": 300.0},
    # Job rows whose queue message is gone are re-published or failed (credex/jobs.py).
    "jobs-reconcile": {"task": "jobs.reconcile", "schedule": 180.0},
    # Each of these fans out one TenantTask per organization.
    "expiry-inbox-daily": {"task": "roster.inbox.daily", "schedule": crontab(hour=5, minute=0)},
    "nppes-refresh-nightly": {
        "task": "nppes.refresh.nightly",
        "schedule": crontab(hour=2, minute=0),
    },
    "exclusion-screening-monthly": {
        "task": "screening.monthly",
        "schedule": crontab(day_of_month=2, hour=3, minute=0),
    },
    # The exchange: members whose accreditation lapsed (or was renewed) have their listings
    # paused (or resumed); listings past the maximum age expire.
    "exchange-standing-daily": {
        "task": "exchange.standing.daily",
        "schedule": crontab(hour=4, minute=30),
    },
    "exchange-listings-expire-daily": {
        "task": "exchange.listings.expire_daily",
        "schedule": crontab(hour=4, minute=45),
    },
    # The exchange: approved members whose membership year ran out are charged the next year.
    "exchange-membership-fees-daily": {
        "task": "exchange.membership.fees_daily",
        "schedule": crontab(hour=4, minute=50),
    },
    # Billing: trials that ended without a card, dunning e-mails, grace periods that ran out.
    "billing-lifecycle-daily": {
        "task": "billing.lifecycle.daily",
        "schedule": crontab(hour=6, minute=0),
    },
    # Billing, offline only: last month's invoice for every organization.
    "billing-invoices-monthly": {
        "task": "billing.invoices.issue_monthly",
        "schedule": crontab(day_of_month=1, hour=7, minute=0),
    },
    # Billing: each organization's seat count checked against Stripe, drift corrected.
    "billing-seats-reconcile-nightly": {
        "task": "billing.seats.reconcile",
        "schedule": crontab(hour=3, minute=30),
    },
    # Billing: sellers' scheduled payouts (weekly on Mondays, monthly on the 1st) and retries.
    "billing-payouts-daily": {
        "task": "billing.payouts.daily",
        "schedule": crontab(hour=7, minute=0),
    },
}


@worker_ready.connect
def _reconcile_when_a_worker_starts(sender=None, **kwargs):
    """A worker that starts (after a crash, a deploy, a Redis restart) first looks for jobs
    whose message was lost, instead of waiting for the next beat."""
    from credex.tasks import reconcile_jobs

    try:
        reconcile_jobs.apply_async(retry=False, ignore_result=True)
    except Exception:  # the broker went away again: beat's next pass does it
        logging.getLogger(__name__).warning("jobs.reconcile not published at worker start")


class TenantTask(Task):
    """Base task: takes `org_id`, enters that organization's scope for the whole run.

    Billing read-only (credex/writes.py): a tenant task writes on the organization's behalf,
    so it does nothing for a read-only organization (logged, not an error, not retried) and
    answers `{"skipped": "billing_past_due"}`; so does a run whose service finds the
    organization read-only midway (WritesPaused: its transaction rolls back). A task that must
    keep running says so with `runs_while_read_only=True` on its decorator (screening: patient
    safety does not wait for payment; billing's own tasks; reads and reminders).
    """

    abstract = True
    acks_late = True
    autoretry_for = (ConnectionError, TimeoutError)
    retry_backoff = True
    retry_backoff_max = 600
    max_retries = 5
    runs_while_read_only = False

    def __call__(self, *args, **kwargs):
        from credex.errors import WritesPaused
        from credex.models import Organization
        from credex.tenancy import tenant_context
        from credex.writes import writes_paused

        org_id = kwargs.get("org_id")
        if not org_id:
            raise ValueError(f"{self.name} is a tenant task: pass org_id=")
        org = Organization.objects.get(pk=org_id)
        if not self.runs_while_read_only and writes_paused(org):
            return self._skip_read_only(org, kwargs)
        try:
            with tenant_context(org):
                return super().__call__(*args, **kwargs)
        except WritesPaused:
            return self._skip_read_only(org, kwargs)
        except DatabaseError as exc:
            # A deadlock or serialization failure rolled the whole transaction back: nothing
            # of this attempt is left, so running the task again is safe.
            if not is_transient_conflict(exc) or self.request.retries >= self.max_retries:
                raise
            raise self.retry(exc=exc, countdown=min(2**self.request.retries, 30)) from exc

    def _skip_read_only(self, org, kwargs: dict) -> dict:
        from credex.writes import log_skipped

        log_skipped(self.name, org, task_id=getattr(self.request, "id", None))
        self.skipped_read_only(org=org, kwargs=kwargs)
        return {"skipped": "billing_past_due", "org": str(org.pk)}

    def skipped_read_only(self, *, org, kwargs: dict) -> None:
        """Override to tell whoever waits on this run that it did not run (outside the
        database: the organization is read-only). The job row itself is left as it was."""

    def enqueue_on_commit(self, *, org, fail_fast: bool = False, **kwargs) -> None:
        """Send this task for `org` (an Organization or its id) once the caller's transaction
        commits, so a rollback sends nothing (STYLE.md 3).

        robust: a broker that refuses the message after the commit is logged and the committed
        work stands (the reconciler, credex/jobs.py, or the next schedule catches up); it never
        turns a saved change into an error page. `fail_fast` publishes through
        credex.jobs.job_publish (one try, short timeouts) instead of `.delay()`.
        """
        kwargs = {"org_id": str(getattr(org, "pk", org)), **kwargs}

        def enqueue():
            if fail_fast:
                from credex.jobs import job_publish

                job_publish(self, **kwargs)
            else:
                self.delay(**kwargs)

        # The callback names the task it sends (on_commit logs and test captures show it).
        enqueue.__qualname__ = enqueue.__name__ = f"enqueue {self.name}"
        transaction.on_commit(enqueue, robust=True)


def is_transient_conflict(exc: BaseException) -> bool:
    """Postgres' deadlock_detected (40P01) or serialization_failure (40001)."""
    cause = exc.__cause__ or exc
    return getattr(getattr(cause, "diag", None), "sqlstate", None) in {"40P01", "40001"} or (
        getattr(cause, "sqlstate", None) in {"40P01", "40001"}
    )
