"""Screening runs: request (queue), execute (worker), lock, write hits and results.

A run executes inside the organization's scope in ONE transaction (the Celery TenantTask
opens it), so a crash leaves nothing half-written and the redelivered task starts over.
Hits are inserted with ON CONFLICT on their unique key, results on (run, provider, source):
a run repeated (a redelivery after the commit, or a second run) writes no duplicates.

Two runs of one organization never interleave: the run takes a transaction-level advisory
lock keyed by the organization. An organization-wide run only tries it ("a run is already
in progress" when taken); a one-provider run (new hire, rename) waits for it, briefly.
Progress is published in the cache (the run's row is committed only at the end).

Audit: one event per dataset version screened per run (source OIG/SAM, version, counts,
and a digest of the per-provider results), one per new hit, and the per-provider results
themselves in ScreeningResult (the provider's screening history). One audit event per
provider per dataset was measured at ~115 µs each through audit_record_many (23 s for
100,000 providers x 2 lists), far over the 10 s budget for a full screening.

Split by responsibility: `base` (the system actor, RunInProgress, progress), `requesting`
(queue, publish, fail), `executing` (lock, the run's transaction, matching) and `writing`
(hits, results, reinstatements, audit). Import from here.
"""

from screening.services.runs.base import (
    PROGRESS_EVERY,
    SYSTEM_ACTOR,
    RunInProgress,
    _publish,
    progress_key,
)
from screening.services.runs.executing import (
    _lock,
    screening_run_execute,
    screening_run_now,
    screening_run_provider,
)
from screening.services.runs.requesting import (
    _enqueue,
    screening_request_provider_after_commit,
    screening_run_fail,
    screening_run_request,
)

__all__ = [
    "PROGRESS_EVERY",
    "SYSTEM_ACTOR",
    "RunInProgress",
    "_enqueue",
    "_lock",
    "_publish",
    "progress_key",
    "screening_request_provider_after_commit",
    "screening_run_execute",
    "screening_run_fail",
    "screening_run_now",
    "screening_run_provider",
    "screening_run_request",
]
