"""Which of a provider's credentials lack a primary-source verification that counts for a
decision on a given day (NCQA: verified within the organization's window before the decision).

Used by the committee: a file is ready only when every required credential of a kind that
needs PSV carries a current, verified record inside the window; an approval is refused when a
record would be outside the window on the decision date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from roster.models import Credential, CredentialKind, CredentialStatus
from verifications.selectors.records import valid_verifications

# Kinds verified at a primary source (issuing board, DEA, carrier, school, employer ...).
PSV_KINDS = (
    CredentialKind.STATE_LICENSE,
    CredentialKind.DEA,
    CredentialKind.CDS,
    CredentialKind.BOARD_CERT,
    CredentialKind.MALPRACTICE,
    CredentialKind.EDUCATION,
    CredentialKind.TRAINING,
    CredentialKind.WORK_HISTORY,
    CredentialKind.PRIVILEGES,
)


@dataclass(frozen=True)
class PsvGap:
    credential: Credential
    message: str


def _label(credential: Credential) -> str:
    parts = [credential.get_kind_display()]
    if credential.state:
        parts.append(credential.state)
    if credential.number:
        parts.append(credential.number)
    return " ".join(parts)


def psv_gaps(*, org, provider, kinds, as_of: date) -> list[PsvGap]:
    """Unexpired credentials of `kinds` (PSV kinds only) with no record counting on `as_of`."""
    kinds = [k for k in kinds if k in PSV_KINDS]
    if not kinds:
        return []
    credentials = list(
        Credential.objects.filter(
            organization=org,
            provider=provider,
            kind__in=kinds,
            status__in=(CredentialStatus.ACTIVE, CredentialStatus.PENDING),
        )
        # An expired credential is already named by the requirements check ("add the renewal").
        .filter(Q(expiry_date__isnull=True) | Q(expiry_date__gte=as_of))
        .order_by("kind", "state", "number")
    )
    verified = set(
        valid_verifications(org=org, decision_date=as_of)
        .filter(provider=provider, credential__in=credentials)
        .values_list("credential_id", flat=True)
    )
    days = org.psv_validity_days
    return [
        PsvGap(
            credential=c,
            message=(
                f"{_label(c)}: no primary-source verification in the {days} days before "
                f"{as_of:%d %b %Y} — record one from the PSV queue."
            ),
        )
        for c in credentials
        if c.pk not in verified
    ]
