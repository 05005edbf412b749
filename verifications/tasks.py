"""Celery discovers `<app>.tasks`; the verification tasks live in verifications/jobs/, one module
per area (extraction, packages, packets)."""

from verifications.jobs.extraction import *  # noqa: F403
from verifications.jobs.packages import *  # noqa: F403
from verifications.jobs.packets import *  # noqa: F403
