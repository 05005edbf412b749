"""Reads of the PSV log: current records (not superseded) and the validity window."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from verifications.models import Verification, VerificationResult

# Only a "verified" result satisfies an element for a decision; a discrepancy or an
# "unable to verify" keeps the element in the queue until someone resolves it.
COUNTING_RESULTS = (VerificationResult.VERIFIED,)


def current_verifications(*, org) -> QuerySet[Verification]:
    """Records of the organization that no correction supersedes."""
    corrected = Verification.objects.filter(supersedes=OuterRef("pk"))
    return (
        Verification.objects.filter(organization=org)
        .annotate(is_superseded=Exists(corrected))
        .filter(is_superseded=False)
    )


def provider_verifications(*, org, provider, include_superseded: bool = True) -> list[Verification]:
    """A provider's PSV log, newest first, each marked current or superseded."""
    corrected = Verification.objects.filter(supersedes=OuterRef("pk"))
    rows = (
        Verification.objects.filter(organization=org, provider=provider)
        .annotate(is_superseded=Exists(corrected))
        .select_related("credential", "verifier_user", "supersedes")
        .prefetch_related("evidence")
        .order_by("-verified_at", "-created_at")
    )
    return [v for v in rows if include_superseded or not v.is_superseded]


def validity_window(*, org, decision_date: date) -> tuple[date, date]:
    """The first and last day a verification may be dated to count for this decision."""
    return decision_date - timedelta(days=org.psv_validity_days), decision_date


def verification_counts_for(*, org, verification: Verification, decision_date: date) -> bool:
    """True when the record is current, verified, and inside the window for the decision."""
    if getattr(verification, "is_superseded", None) is None:
        superseded = Verification.objects.filter(supersedes=verification).exists()
    else:
        superseded = verification.is_superseded
    if superseded or verification.result not in COUNTING_RESULTS:
        return False
    first, last = validity_window(org=org, decision_date=decision_date)
    day = timezone.localtime(verification.verified_at).date()
    return first <= day <= last


def valid_verifications(*, org, decision_date: date | None = None) -> QuerySet[Verification]:
    """Current, verified records that count for a decision on `decision_date` (today by default)."""
    decision_date = decision_date or timezone.localdate()
    first, last = validity_window(org=org, decision_date=decision_date)
    return current_verifications(org=org).filter(
        result__in=COUNTING_RESULTS,
        verified_at__date__gte=first,
        verified_at__date__lte=last,
    )
