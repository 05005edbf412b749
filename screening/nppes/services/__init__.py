"""NPPES actions: lookup for pre-fill, the refresh of an organization, mismatch decisions.

- lookup.py: `nppes_lookup` (one audited call, normalized values for the provider form);
- refresh.py: `nppes_refresh` (the nightly/on-demand refresh), `nppes_refresh_request`;
- decisions.py: `nppes_mismatch_accept`, `nppes_mismatch_dismiss`, `nppes_mismatches_dismiss`.
"""

from screening.nppes.services.decisions import (
    nppes_mismatch_accept,
    nppes_mismatch_dismiss,
    nppes_mismatches_dismiss,
)
from screening.nppes.services.lookup import Lookup, nppes_lookup, prefill_from
from screening.nppes.services.refresh import (
    evaluate,
    nppes_refresh,
    nppes_refresh_request,
    record_results,
)

__all__ = [
    "Lookup",
    "evaluate",
    "nppes_lookup",
    "nppes_mismatch_accept",
    "nppes_mismatch_dismiss",
    "nppes_mismatches_dismiss",
    "nppes_refresh",
    "nppes_refresh_request",
    "prefill_from",
    "record_results",
]
