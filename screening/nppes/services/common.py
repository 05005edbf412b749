"""Shared constants and helpers of the NPPES services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.utils import timezone

from audit.services import Actor

SOURCE = "NPPES"
SYSTEM = Actor.system("nppes")
STALE_QUEUED_AFTER = timedelta(hours=6)
WRITE_CHUNK = 500

ProgressFn = Callable[[int, int], None]


def request_summary(npi: str) -> dict:
    """What the audit log says was asked of the registry."""
    return {"npi": npi, "request": f"GET /api/?version=2.1&number={npi}"}


def next_nightly_run(now: datetime | None = None) -> datetime:
    """When the nightly refresh runs next (the beat entry in credex/celery.py)."""
    now = now or timezone.now()
    try:
        from credex.celery import app

        schedule = app.conf.beat_schedule["nppes-refresh-nightly"]["schedule"]
        when = now + schedule.remaining_estimate(now)
        # The estimate lands a little before the minute; say "02:00", not "01:59".
        if when.second or when.microsecond:
            when = when.replace(second=0, microsecond=0) + timedelta(minutes=1)
        return when
    except Exception:  # a schedule without an estimate: say "about a day"
        return now + timedelta(days=1)


def smart_title(value: str) -> str:
    """NPPES shouts ('MCDONALD-O'NEIL'); the roster does not ('McDonald-O'Neil')."""
    if not value or value != value.upper():
        return value
    out = []
    for word in value.title().split(" "):
        if word.startswith("Mc") and len(word) > 2:
            word = "Mc" + word[2:].capitalize()
        out.append(word)
    return " ".join(out)
