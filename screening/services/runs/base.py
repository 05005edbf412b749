"""Shared by the run modules: the system actor, the in-progress error, progress in the cache."""

from __future__ import annotations

from django.core.cache import cache

from audit.services import Actor
from credex.errors import Conflict
from screening.models import (
    RunStatus,
    ScreeningRun,
)

PROGRESS_EVERY = 500
PROGRESS_TTL = 3600
PROVIDER_RUN_LOCK_WAIT = "30s"
SYSTEM_ACTOR = Actor.system("screening")


class RunInProgress(Conflict):
    code = "run_in_progress"


def progress_key(run_id) -> str:
    return f"credex.screening.progress:{run_id}"


def _publish(run: ScreeningRun, phase: str, processed: int = 0, total: int = 0) -> None:
    cache.set(
        progress_key(run.pk),
        {"status": RunStatus.RUNNING, "phase": phase, "processed": processed, "total": total},
        PROGRESS_TTL,
    )
