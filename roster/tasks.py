"""Celery discovers `<app>.tasks`; the roster's tasks live in roster/jobs/, one module per area."""

from roster.jobs.imports import *  # noqa: F403
from roster.jobs.inbox import *  # noqa: F403
