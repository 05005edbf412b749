"""Screening services (writes). Split by area; import from here."""

from screening.services.hits import CLEAR_REASONS, hit_clear, hit_confirm
from screening.services.runs import (
    RunInProgress,
    screening_request_provider_after_commit,
    screening_run_execute,
    screening_run_fail,
    screening_run_now,
    screening_run_provider,
    screening_run_request,
)
from screening.services.sam_check import SamCheck, sam_check_provider

__all__ = [
    "CLEAR_REASONS",
    "RunInProgress",
    "SamCheck",
    "hit_clear",
    "hit_confirm",
    "sam_check_provider",
    "screening_request_provider_after_commit",
    "screening_run_execute",
    "screening_run_fail",
    "screening_run_now",
    "screening_run_provider",
    "screening_run_request",
]
