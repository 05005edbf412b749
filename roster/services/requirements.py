"""What a provider file must hold, per provider type, and what a given file is missing.

An organization says, per provider type, which credential kinds are required and whether
each needs a document on file (CredentialRequirement rows; nothing configured = nothing
required). `provider_missing` compares a provider's credentials and documents with that;
`work_history_gaps` finds gaps of more than six months between positions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, InvalidInput
from roster.models import (
    EXPIRING_KINDS,
    PROVIDER_TYPES,
    Credential,
    CredentialKind,
    CredentialRequirement,
    CredentialStatus,
    CustomProviderType,
    Document,
    DocumentKind,
    DocumentStatus,
    Provider,
)
from roster.services.providers import add_months

# Which uploaded document proves which credential kind (when not linked to the credential).
DOCUMENT_KIND_FOR: dict[str, str] = {
    CredentialKind.STATE_LICENSE: DocumentKind.LICENSE,
    CredentialKind.DEA: DocumentKind.DEA,
    CredentialKind.CDS: DocumentKind.CDS,
    CredentialKind.BOARD_CERT: DocumentKind.BOARD_CERT,
    CredentialKind.MALPRACTICE: DocumentKind.MALPRACTICE,
    CredentialKind.EDUCATION: DocumentKind.DIPLOMA,
    CredentialKind.TRAINING: DocumentKind.DIPLOMA,
    CredentialKind.WORK_HISTORY: DocumentKind.CV,
    CredentialKind.PRIVILEGES: DocumentKind.OTHER,
    CredentialKind.LIFE_SUPPORT: DocumentKind.LIFE_SUPPORT,
}

# A starting point an admin can apply and then adjust (kind -> document required).
_PHYSICIAN = {
    CredentialKind.STATE_LICENSE: True,
    CredentialKind.DEA: True,
    CredentialKind.BOARD_CERT: True,
    CredentialKind.MALPRACTICE: True,
    CredentialKind.EDUCATION: True,
    CredentialKind.TRAINING: True,
    CredentialKind.WORK_HISTORY: True,
}
_PRESCRIBER = {
    CredentialKind.STATE_LICENSE: True,
    CredentialKind.DEA: True,
    CredentialKind.BOARD_CERT: True,
    CredentialKind.MALPRACTICE: True,
    CredentialKind.EDUCATION: True,
    CredentialKind.WORK_HISTORY: True,
}
_DENTAL = {
    CredentialKind.STATE_LICENSE: True,
    CredentialKind.DEA: True,
    CredentialKind.MALPRACTICE: True,
    CredentialKind.EDUCATION: True,
    CredentialKind.WORK_HISTORY: True,
}
_LICENSED = {
    CredentialKind.STATE_LICENSE: True,
    CredentialKind.MALPRACTICE: True,
    CredentialKind.EDUCATION: True,
    CredentialKind.WORK_HISTORY: True,
}
RECOMMENDED: dict[str, dict[str, bool]] = {
    "MD": _PHYSICIAN,
    "DO": _PHYSICIAN,
    "NP": _PRESCRIBER,
    "PA": _PRESCRIBER,
    "CRNA": _PRESCRIBER,
    "CNM": _PRESCRIBER,
    "DDS": _DENTAL,
    "DMD": _DENTAL,
    "DPM": _DENTAL,
}
GAP_MONTHS = 6
# Periods that count as activity for gap detection: positions and residency/fellowship.
ACTIVITY_KINDS = (CredentialKind.WORK_HISTORY, CredentialKind.TRAINING)
CUSTOM_CODE_RE = re.compile(r"^[A-Z][A-Z0-9-]{1,19}$")


def recommended_for(provider_type: str) -> dict[str, bool]:
    """The recommended starting set for a type (licence, malpractice, education, history)."""
    return dict(RECOMMENDED.get(provider_type, _LICENSED))


# --- configuration (reads) -------------------------------------------------------------------
def requirements_by_type(*, org) -> dict[str, dict[str, bool]]:
    """{provider_type: {kind: document_required}} for the organization (one query)."""
    table: dict[str, dict[str, bool]] = {}
    rows = CredentialRequirement.objects.filter(organization=org).values_list(
        "provider_type", "kind", "document_required"
    )
    for provider_type, kind, document_required in rows:
        table.setdefault(provider_type, {})[kind] = document_required
    return table


def requirements_for_type(*, org, provider_type: str) -> dict[str, bool]:
    """{kind: document_required} required of one provider type."""
    return requirements_by_type(org=org).get(provider_type, {})


def custom_types(*, org) -> list[CustomProviderType]:
    """The organization's own provider types, by code."""
    return list(CustomProviderType.objects.filter(organization=org).order_by("code"))


# --- configuration (writes) ------------------------------------------------------------------
def requirement_set_for_type(
    *, org, actor, provider_type: str, required: dict[str, bool]
) -> dict[str, bool]:
    """Replace what one provider type requires ({kind: document_required}); audited."""
    require(actor, cap.CHANGE_SETTINGS)
    from roster.services.providers import provider_types

    if provider_type not in provider_types(org):
        raise InvalidInput("Unknown provider type.", details={"provider_type": "unknown"})
    unknown = [k for k in required if k not in CredentialKind.values]
    if unknown:
        raise InvalidInput(
            f"Unknown credential type: {', '.join(unknown)}.", details={"kinds": "unknown"}
        )
    required = {k: bool(v) for k, v in required.items()}
    with transaction.atomic():
        rows = CredentialRequirement.objects.select_for_update().filter(
            organization=org, provider_type=provider_type
        )
        before = {r.kind: r.document_required for r in rows}
        if before == required:
            return required
        rows.exclude(kind__in=list(required)).delete()
        for kind, document_required in required.items():
            CredentialRequirement.objects.update_or_create(
                organization=org,
                provider_type=provider_type,
                kind=kind,
                defaults={"document_required": document_required},
            )
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.requirements.changed",
            target_type="roster.providertype",
            target_id=provider_type,
            data={"provider_type": provider_type, "from": before, "to": required},
        )
    return required


def requirements_apply_recommended(*, org, actor, provider_types: Iterable[str]) -> list[str]:
    """Give each listed type with nothing configured the recommended set; returns those set."""
    configured = requirements_by_type(org=org)
    done = []
    for provider_type in provider_types:
        if provider_type in configured:
            continue
        requirement_set_for_type(
            org=org,
            actor=actor,
            provider_type=provider_type,
            required=recommended_for(provider_type),
        )
        done.append(provider_type)
    return done


def custom_provider_type_create(*, org, actor, code: str, name: str) -> CustomProviderType:
    """Add an organization-specific provider type (e.g. RN, LAc); audited."""
    require(actor, cap.CHANGE_SETTINGS)
    code = (code or "").strip().upper()
    name = " ".join((name or "").split())
    errors = {}
    if not CUSTOM_CODE_RE.match(code):
        errors["code"] = "Use 2 to 20 letters, digits or hyphens, starting with a letter."
    elif code in PROVIDER_TYPES:
        errors["code"] = f"{code} is already a built-in type ({PROVIDER_TYPES[code]})."
    if not name:
        errors["name"] = "Give the type a name, e.g. Registered nurse."
    elif len(name) > 100:
        errors["name"] = "At most 100 characters."
    if errors:
        raise InvalidInput("Some fields need attention.", details=errors)
    try:
        with transaction.atomic():
            custom = CustomProviderType.objects.create(organization=org, code=code, name=name)
            audit_record(
                org=org,
                actor=audit_actor(actor),
                action="roster.provider_type.created",
                target=custom,
                data={"code": code, "name": name},
            )
    except IntegrityError:
        message = f"{code} is already one of your types."
        raise Conflict(message, details={"code": message})
    return custom


# --- a provider's file: what is missing -------------------------------------------------------
@dataclass(frozen=True)
class Missing:
    kind: str
    problem: str  # "missing" | "expired" | "revoked" | "document" | "review" | "state"
    message: str
    document_id: str = ""  # "review": the waiting document to review

    @property
    def label(self) -> str:
        return CredentialKind(self.kind).label


def _usable(credential: Credential, today: date) -> bool:
    if credential.status in (CredentialStatus.INACTIVE, CredentialStatus.REVOKED):
        return False
    if credential.status == CredentialStatus.EXPIRED:
        return False
    return not (
        credential.kind in EXPIRING_KINDS
        and credential.expiry_date is not None
        and credential.expiry_date < today
    )


def provider_missing(
    *,
    provider: Provider,
    required: dict[str, bool],
    credentials: Iterable[Credential],
    documents: Iterable[Document] = (),
    today: date | None = None,
    waiting: bool = False,
) -> list[Missing]:
    """What the file lacks against `required` ({kind: document_required}), in kind order.

    A kind is satisfied by a credential that is not inactive, revoked or expired; its
    document by an accepted or waiting document linked to such a credential, or by a
    document of the matching document kind not linked to any credential. A required state
    license must exist for every practice state.

    With `waiting` (the provider file), a document requirement met only by documents still
    waiting for review is listed as problem "review" with the document to review, rather
    than passing silently; readiness and packages count a waiting document as on file.
    """
    today = today or timezone.localdate()
    credentials = list(credentials)
    documents = [d for d in documents if d.status != DocumentStatus.REJECTED]
    by_kind: dict[str, list[Credential]] = {}
    for c in credentials:
        by_kind.setdefault(c.kind, []).append(c)
    missing: list[Missing] = []
    for kind in CredentialKind.values:
        if kind not in required:
            continue
        label = CredentialKind(kind).label
        on_file = by_kind.get(kind, [])
        usable = [c for c in on_file if _usable(c, today)]
        if not on_file:
            missing.append(Missing(kind, "missing", f"No {label.lower()} on file."))
            continue
        if not usable:
            if any(c.status == CredentialStatus.REVOKED for c in on_file):
                missing.append(Missing(kind, "revoked", f"{label} revoked or restricted."))
            else:
                missing.append(Missing(kind, "expired", f"{label} expired; add the renewal."))
            continue
        if kind == CredentialKind.STATE_LICENSE:
            licensed = {c.state for c in usable}
            for st in provider.practice_states:
                if st not in licensed:
                    missing.append(Missing(kind, "state", f"No current state license for {st}."))
        if required[kind] and not _has_document(kind, usable, documents):
            missing.append(Missing(kind, "document", f"{label}: no document on file."))
        elif required[kind] and waiting:
            accepted = [d for d in documents if d.status == DocumentStatus.ACCEPTED]
            if not _has_document(kind, usable, accepted):
                pending = _matching(kind, usable, documents)
                missing.append(
                    Missing(
                        kind,
                        "review",
                        f"{label}: document waiting for review.",
                        document_id=str(pending[0].pk) if pending else "",
                    )
                )
    return missing


def _matching(kind: str, usable: list[Credential], documents: list[Document]) -> list[Document]:
    ids = {c.pk for c in usable}
    wanted = DOCUMENT_KIND_FOR.get(kind)
    return [
        d
        for d in documents
        if d.credential_id in ids or (d.credential_id is None and d.kind == wanted)
    ]


def _has_document(kind: str, usable: list[Credential], documents: list[Document]) -> bool:
    return bool(_matching(kind, usable, documents))


# --- work history gaps ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Gap:
    start: date  # first day without a position
    end: date  # last day without a position
    trailing: bool = False  # from the last position's end until today

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def months(self) -> int:
        """Whole months in the gap (for the sentence shown)."""
        after = self.end + timedelta(days=1)
        m = (after.year - self.start.year) * 12 + after.month - self.start.month
        return m if add_months(self.start, m) <= after else m - 1


def work_history_gaps(
    credentials: Iterable[Credential], *, today: date | None = None, months: int = GAP_MONTHS
) -> list[Gap]:
    """Gaps longer than `months` between work-history (and residency/fellowship) periods.

    Overlapping periods merge; an open period (no end date) runs until today. A gap after
    the last period counts too when that period ended more than `months` ago.
    """
    today = today or timezone.localdate()
    periods = sorted(
        (c.start_date, c.end_date or today)
        for c in credentials
        if c.kind in ACTIVITY_KINDS and c.start_date
    )
    gaps: list[Gap] = []
    if not periods:
        return gaps
    covered_until = periods[0][1]
    for start, end in periods[1:]:
        gap_start = covered_until + timedelta(days=1)
        # More than `months`: the next period starts after gap_start + months.
        if start > add_months(gap_start, months):
            gaps.append(Gap(gap_start, start - timedelta(days=1)))
        covered_until = max(covered_until, end)
    gap_start = covered_until + timedelta(days=1)
    if today >= add_months(gap_start, months):
        gaps.append(Gap(gap_start, today, trailing=True))
    return gaps
