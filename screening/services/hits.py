"""Reviewing hits: confirm an exclusion (flags the provider everywhere) or clear a false
positive (reviewer, reason, evidence). A decision persists across re-screens: the hit is
unique per record content, so the same record is never raised again once decided.

Reinstatement items ("the exclusion of a confirmed hit ended") use the same two actions:
confirming one lifts the provider's exclusion flag (unless another confirmed exclusion is
still current); clearing it dismisses the notice and keeps the flag.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, InvalidInput
from credex.models import Membership
from roster.models import Provider
from roster.services.providers import provider_set_exclusion
from screening.hooks import exclusion_confirmed
from screening.models import HitKind, HitStatus, ScreeningHit

REASON_MAX = 200
EVIDENCE_MAX = 4000
# Offered in the form; any other short reason is accepted too.
CLEAR_REASONS = [
    "Different date of birth",
    "Different NPI",
    "Different person: identity verified",
    "Different middle name or address history",
    "Entity, not this individual",
]


def _locked(hit: ScreeningHit) -> ScreeningHit:
    locked = ScreeningHit.objects.select_for_update().get(pk=hit.pk)
    if locked.status != HitStatus.NEW:
        raise Conflict(
            f"This hit was already reviewed ({locked.get_status_display().lower()}).",
            details={"status": locked.status},
        )
    return locked


def _review(hit: ScreeningHit, actor, status: str, *, reason: str, evidence: str) -> None:
    hit.status = status
    hit.reviewed_by = actor if isinstance(actor, Membership) else None
    hit.reviewed_at = timezone.now()
    hit.review_reason = reason
    hit.evidence_note = evidence
    hit.save(
        update_fields=["status", "reviewed_by", "reviewed_at", "review_reason", "evidence_note"]
    )


def hit_confirm(*, org, actor, hit: ScreeningHit, note: str = "") -> ScreeningHit:
    """Confirm a hit: the provider is flagged as excluded (or, for a reinstatement, unflagged)."""
    require(actor, cap.CHANGE_ROSTER)
    note = (note or "").strip()
    if len(note) > EVIDENCE_MAX:
        raise InvalidInput("Keep the note under 4,000 characters.", details={"note": "too long"})
    with transaction.atomic():
        hit = _locked(hit)
        _review(hit, actor, HitStatus.CONFIRMED, reason="", evidence=note)
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="screening.hit.confirmed",
            target=hit,
            source=hit.audit_source,
            data={"provider": str(hit.provider_id), "kind": hit.kind, "note": note[:500]},
        )
        provider = Provider.objects.select_for_update().get(pk=hit.provider_id)
        if hit.kind == HitKind.REINSTATEMENT:
            _lift_if_no_current_exclusion(org, actor, hit, provider)
        else:
            provider_set_exclusion(
                org=org,
                provider=provider,
                excluded=True,
                source=hit.audit_source,
                actor=actor,
                detail=_detail(hit),
            )
            exclusion_confirmed.run(org=org, provider=provider, hit=hit)
    return hit


def _lift_if_no_current_exclusion(org, actor, hit, provider) -> None:
    current = (
        ScreeningHit.objects.filter(
            provider_id=provider.pk, status=HitStatus.CONFIRMED, ended_on__isnull=True
        )
        .exclude(kind=HitKind.REINSTATEMENT)
        .exclude(pk=hit.related_hit_id)
        .exists()
    )
    if provider.excluded and not current:
        provider_set_exclusion(
            org=org,
            provider=provider,
            excluded=False,
            source=hit.audit_source,
            actor=actor,
            detail={**_detail(hit), "reinstatement_of": str(hit.related_hit_id)},
        )


def _detail(hit: ScreeningHit) -> dict:
    return {
        "hit": str(hit.pk),
        "kind": hit.kind,
        "source_record_key": hit.source_record_key,
        "dataset_version": str(hit.dataset_version_id),
    }


def hit_clear(*, org, actor, hit: ScreeningHit, reason: str, evidence: str = "") -> ScreeningHit:
    """Clear a hit as a false positive; it is not raised again unless the record changes."""
    require(actor, cap.CHANGE_ROSTER)
    reason = " ".join((reason or "").split())
    evidence = (evidence or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = "Say why this is not the same person or entity."
    elif len(reason) > REASON_MAX:
        errors["reason"] = f"Keep the reason under {REASON_MAX} characters."
    if len(evidence) > EVIDENCE_MAX:
        errors["evidence"] = "Keep the evidence note under 4,000 characters."
    if errors:
        raise InvalidInput(next(iter(errors.values())), details=errors)
    with transaction.atomic():
        hit = _locked(hit)
        _review(hit, actor, HitStatus.CLEARED, reason=reason, evidence=evidence)
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="screening.hit.cleared",
            target=hit,
            source=hit.audit_source,
            data={
                "provider": str(hit.provider_id),
                "kind": hit.kind,
                "reason": reason,
                "evidence": evidence[:500],
            },
        )
    return hit
