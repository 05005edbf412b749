"""Background jobs whose state lives in a row (screening runs, package builds, imports):
publishing their task, and the one reconciler for jobs whose queue message is gone.

Publishing. A request that starts a job writes the row and publishes the task inside one
savepoint (`job_publish`): the publish is tried once, with short timeouts (settings), and a
broker that does not take it raises `QueueUnavailable` (503, "the job queue is unavailable;
nothing was started"), which rolls the row and its audit event back. The message may reach a
worker before the request commits: the job tasks retry for a few seconds when their row is
not visible yet.

Reconciling. A message can still be lost after the row committed (Redis restarted without
persistence, a worker killed while Redis redelivers only after the visibility timeout, a
publish after commit that failed). `jobs.reconcile` (beat, every few minutes, and once when
a worker starts) finds rows still open past a short bound whose task is not executing them,
and publishes their task again (idempotent: each job task does nothing for a finished row),
at most MAX_ATTEMPTS times; then it fails the row with a reason. Each step is audited.

"Executing" is asked of Postgres, not of a heartbeat: every job task holds a lock for as
long as it runs (the row lock of `select_for_update`, or an advisory lock), in a transaction
that Postgres ends when the worker dies. A long task is therefore never taken for stalled,
and a killed worker's job is found on the next pass. Each app registers its job kind in its
AppConfig.ready() (credex imports none of them).

Billing read-only (credex/writes.py). A job of a read-only organization waits: its task skips
it and writes nothing, and the reconciler neither re-publishes nor fails it (its attempts are
not spent on waiting), except for kinds that run while read-only (screening). When writes are
restored, `jobs_resume` publishes every waiting job of the organization at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from credex.errors import DomainError

log = logging.getLogger(__name__)

QUEUE_DOWN_MESSAGE = "The job queue is unavailable; nothing was started, try again in a minute."
# A queued row nobody took for this long, or a running row whose task holds no lock any more.
QUEUED_STALL_AFTER = timedelta(minutes=10)
RUNNING_STALL_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 3
RECONCILE_EVERY_SECONDS = 180.0
STALLED_REASON = (
    "The job queue lost this job {attempts} times (no worker ever ran it); "
    "nothing was written. Start it again."
)

_BROKER_ERRORS = (KombuOperationalError, RedisError, OSError)


class QueueUnavailable(DomainError):
    code = "queue_unavailable"
    status = 503


def job_publish(task, **kwargs) -> None:
    """Publish a job's task once, now; QueueUnavailable (503) if the broker does not take it.

    retry=False: no publish retries inside a request. ignore_result: the job's row is its
    result, and subscribing to the Redis result channel retries for ~20 s when Redis is down.
    """
    try:
        task.apply_async(kwargs=kwargs, retry=False, ignore_result=True)
    except _BROKER_ERRORS as exc:
        log.warning("job queue unavailable: %s not published (%s)", task.name, type(exc).__name__)
        raise QueueUnavailable(QUEUE_DOWN_MESSAGE) from exc


ROW_WAIT_SECONDS = 2
ROW_WAIT_RETRIES = 5


def job_row_or_retry(task, model, pk):
    """The job's row, for its task. The task may arrive before the request that published it
    commits (the row is not visible yet): it retries shortly; None once it gives up."""
    row = model.objects.filter(pk=pk).first()
    if row is not None or task.request.called_directly:
        return row
    try:
        raise task.retry(countdown=ROW_WAIT_SECONDS, max_retries=ROW_WAIT_RETRIES)
    except task.MaxRetriesExceededError:
        log.warning("%s: job row %s never appeared", task.name, pk)
        return None


# --- job kinds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobKind:
    """One kind of job row. `publish(row)` sends its task (via job_publish); `fail(org, row,
    reason)` marks it failed and audits; `advisory_key(row)` names the advisory lock its task
    holds while running, or None when the task holds the row lock (select_for_update).
    `runs_while_read_only`: its task runs for a read-only organization (screening), so the
    reconciler keeps looking after its rows then too."""

    name: str
    model: type
    queued: tuple[str, ...]
    running: tuple[str, ...]
    publish: Callable
    fail: Callable
    advisory_key: Callable | None = None
    runs_while_read_only: bool = False

    @property
    def open_statuses(self) -> tuple[str, ...]:
        return (*self.queued, *self.running)


_kinds: dict[str, JobKind] = {}


def job_kind_register(kind: JobKind) -> None:
    """Declare a job kind to the reconciler (called from an AppConfig.ready())."""
    _kinds[kind.name] = kind


def job_kinds() -> list[JobKind]:
    return list(_kinds.values())


def job_kind_for(model) -> JobKind | None:
    return next((k for k in _kinds.values() if k.model is model), None)


def job_is_executing(kind: JobKind, row) -> bool:
    """Is a task executing this row now? Asked of Postgres' locks, without taking one."""
    with connection.cursor() as cursor:
        if kind.advisory_key is not None:
            cursor.execute(_ADVISORY_HELD_SQL, [kind.advisory_key(row)])
            return bool(cursor.fetchone()[0])
        # FOR KEY SHARE conflicts only with the task's FOR UPDATE and blocks nobody's UPDATE.
        cursor.execute(
            f"SELECT 1 FROM {kind.model._meta.db_table} WHERE id = %s FOR KEY SHARE SKIP LOCKED",
            [row.pk],
        )
        return cursor.fetchone() is None


# pg_try_advisory_xact_lock(hashtextextended(key, 0)) shows in pg_locks as classid = the high
# 32 bits and objid = the low 32 bits of the key, objsubid = 1.
_ADVISORY_HELD_SQL = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks, (SELECT hashtextextended(%s, 0) AS k) AS key "
    "WHERE locktype = 'advisory' AND objsubid = 1 AND granted "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND classid = ((key.k >> 32) & 4294967295)::oid AND objid = (key.k & 4294967295)::oid)"
)


def job_is_stalled(row, *, now=None) -> bool:
    """An open job row past its bound whose task is not executing it (the page says
    "stalled — retry" instead of "in progress"). A job waiting for a read-only organization's
    writes to be restored is not stalled (`job_is_waiting_for_writes`)."""
    kind = job_kind_for(type(row))
    if kind is None or row.status not in kind.open_statuses:
        return False
    now = now or timezone.now()
    bound = QUEUED_STALL_AFTER if row.status in kind.queued else RUNNING_STALL_AFTER
    if row.created_at > now - bound:
        return False
    return not job_is_executing(kind, row) and not job_is_waiting_for_writes(row)


def job_is_waiting_for_writes(row) -> bool:
    """An open job of a read-only organization whose task skips it until writes are restored
    (credex/writes.py)."""
    from credex.models import Organization

    kind = job_kind_for(type(row))
    if kind is None or kind.runs_while_read_only or row.status not in kind.open_statuses:
        return False
    return Organization.objects.filter(
        pk=row.organization_id, writes_paused_at__isnull=False
    ).exists()


# --- the reconciler -------------------------------------------------------------------------


def jobs_reconcile(*, now=None) -> dict:
    """Re-publish (or, after MAX_ATTEMPTS, fail) every stalled job row of every organization."""
    from credex.models import Organization
    from credex.tenancy import tenant_context

    now = now or timezone.now()
    summary = {"requeued": [], "failed": [], "queue_down": False}
    for org in Organization.objects.order_by("created_at"):
        for kind in job_kinds():
            if org.writes_paused_at is not None and not kind.runs_while_read_only:
                continue  # waits for writes to be restored (jobs_resume), attempts unspent
            try:
                with tenant_context(org):
                    _reconcile_kind(org, kind, now, summary)
            except QueueUnavailable:
                summary["queue_down"] = True
                return summary  # the next pass tries again
    return summary


def _reconcile_kind(org, kind: JobKind, now, summary: dict) -> None:
    from audit.services import Actor, audit_record

    with connection.cursor() as cursor:  # two beats, or a beat and a starting worker
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"jobs.reconcile:{kind.name}:{org.pk}"],
        )
        if not cursor.fetchone()[0]:
            return
    oldest_running = now - RUNNING_STALL_AFTER
    candidates = kind.model.objects.filter(
        organization=org, status__in=kind.open_statuses, created_at__lt=oldest_running
    ).order_by("created_at")
    for row in candidates:
        if not job_is_stalled(row, now=now):
            continue
        # Taken only now, and skipped if a task took it meanwhile.
        row = (
            kind.model.objects.select_for_update(skip_locked=True)
            .filter(pk=row.pk, status__in=kind.open_statuses)
            .first()
        )
        if row is None:
            continue
        if row.attempts >= MAX_ATTEMPTS:
            kind.fail(org, row, STALLED_REASON.format(attempts=row.attempts))
            summary["failed"].append(f"{kind.name}:{row.pk}")
            continue
        with transaction.atomic():
            row.attempts += 1
            row.save(update_fields=["attempts"])
            audit_record(
                org=org,
                actor=Actor.system("job reconciler"),
                action=f"{kind.name}.requeued",
                target=row,
                data={
                    "attempt": row.attempts,
                    "status": row.status,
                    "reason": "open past its bound and no task executing it",
                },
            )
            kind.publish(row)  # QueueUnavailable rolls this row's attempt back
        summary["requeued"].append(f"{kind.name}:{row.pk}")


def jobs_resume(*, org) -> list[str]:
    """Publish every open job of `org` that waited while it was read-only (credex/writes.py),
    once writes are restored: after the caller's transaction commits (on_commit), so the tasks
    see the organization writable. Jobs a task is executing are left alone; each job task does
    nothing for a finished row, so a job that was not waiting costs one no-op. Returns the jobs
    it will publish ("kind:id")."""
    waiting = []
    for kind in job_kinds():
        if kind.runs_while_read_only:
            continue
        rows = kind.model.objects.filter(organization=org, status__in=kind.open_statuses)
        waiting += [(kind, row) for row in rows.order_by("created_at")]
    waiting = [(kind, row) for kind, row in waiting if not job_is_executing(kind, row)]

    def publish():
        for kind, row in waiting:
            try:
                kind.publish(row)
            except QueueUnavailable:  # the reconciler's next pass publishes the rest
                log.warning("jobs_resume: %s %s not published", kind.name, row.pk)
                return

    publish.__qualname__ = publish.__name__ = "publish jobs that waited for writes"
    transaction.on_commit(publish, robust=True)
    return [f"{kind.name}:{row.pk}" for kind, row in waiting]
