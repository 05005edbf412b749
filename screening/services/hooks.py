"""Screening's receivers of the roster's hook points (registered in ScreeningConfig.ready()).
Each runs inside the roster's transaction and enqueues its screening on commit."""

from __future__ import annotations

from contextlib import suppress

from screening.models import RunTrigger
from screening.services.runs import (
    RunInProgress,
    screening_request_provider_after_commit,
    screening_run_request,
)


def provider_screening_due(*, org, provider, trigger: str) -> None:
    """roster.provider_screening_due: screen the one provider once the change commits."""
    screening_request_provider_after_commit(org=org, provider=provider, trigger=trigger)


def roster_imported(*, org) -> None:
    """roster.roster_imported: new hires and renamed providers from a file are screened like
    single edits, by one organization run after commit (a run already in progress is left
    to finish)."""
    with suppress(RunInProgress):
        screening_run_request(org=org, actor=None, trigger=RunTrigger.NEW_HIRE, publish_now=False)
