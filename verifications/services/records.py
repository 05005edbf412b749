"""The PSV log: record a verification (with evidence files), correct one by superseding it.

Records are immutable (database triggers refuse UPDATE and DELETE). A correction is a new
record whose `supersedes` names the old one; the one-to-one key means a record is corrected
at most once, so the log is a set of straight chains and "current" is the chain's head.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import Actor, audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, InvalidInput, NotFound
from credex.models import ApiKey, Membership
from roster import hooks as roster_hooks
from roster.models import Credential, Provider, ProviderStatus
from roster.services.documents.files import clean_filename
from roster.services.documents.sniffing import read_limited, sniff
from verifications.hooks import verification_superseded
from verifications.models import (
    Verification,
    VerificationEvidence,
    VerificationMethod,
    VerificationRequest,
    VerificationResult,
    VerificationSource,
    VerifierKind,
)

logger = logging.getLogger(__name__)

# Sources checked per provider rather than per credential.
PROVIDER_LEVEL_SOURCES = {
    VerificationSource.NPPES,
    VerificationSource.OIG,
    VerificationSource.SAM,
    VerificationSource.NPDB,
}

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP".split()
)


def _verifier(actor) -> dict:
    if isinstance(actor, Membership):
        return {
            "verifier_kind": VerifierKind.MEMBER,
            "verifier_user": actor.user,
            "verifier_label": actor.user.email,
        }
    if isinstance(actor, ApiKey):
        return {
            "verifier_kind": VerifierKind.API_KEY,
            "verifier_user": None,
            "verifier_label": f"API key {actor.name} ({actor.prefix})",
        }
    if isinstance(actor, Actor):  # a system job
        return {
            "verifier_kind": VerifierKind.SYSTEM,
            "verifier_user": None,
            "verifier_label": actor.label or "system",
        }
    raise InvalidInput("Unknown verifier.")


def _clean(
    *,
    provider: Provider,
    credential: Credential | None,
    source: str,
    source_state: str,
    method: str,
    result: str,
    verified_at: datetime | None,
) -> dict:
    errors = {}
    if source not in VerificationSource.values:
        errors["source"] = "Choose the primary source you checked."
    if method not in VerificationMethod.values:
        errors["method"] = "Choose how you verified (web lookup, phone, e-mail ...)."
    if result not in VerificationResult.values:
        errors["result"] = "Choose verified, discrepancy or unable to verify."
    source_state = (source_state or "").strip().upper()
    if credential is not None and credential.provider_id != provider.pk:
        errors["credential"] = "That credential belongs to another provider."
    if credential is None and source and source not in PROVIDER_LEVEL_SOURCES:
        errors["credential"] = "Choose the credential this verification is for."
    if source == VerificationSource.STATE_BOARD:
        source_state = source_state or (credential.state if credential else "")
        if source_state not in US_STATES:
            errors["source_state"] = "Give the state of the licensing board (two letters)."
    elif source_state and source_state not in US_STATES:
        errors["source_state"] = "Use a two-letter state code."
    now = timezone.now()
    verified_at = verified_at or now
    if verified_at > now + timezone.timedelta(minutes=5):
        errors["verified_at"] = "A verification cannot be dated in the future."
    if errors:
        raise InvalidInput(
            "The verification was not saved: " + " ".join(errors.values()), details=errors
        )
    return {"source_state": source_state, "verified_at": verified_at}


def _store_evidence(org, verification: Verification, files) -> list[VerificationEvidence]:
    # Read and sniff every file before storing any, so a bad second file leaves no first one
    # behind on disk.
    checked = []
    for upload in files or ():
        data = read_limited(upload)
        checked.append((upload, data, sniff(data)))  # PDF, PNG or JPEG only, from the bytes
    stored = []
    try:
        for upload, data, sniffed in checked:
            evidence = VerificationEvidence(
                id=uuid.uuid4(),
                organization_id=org.pk,
                verification=verification,
                original_name=clean_filename(getattr(upload, "name", "") or "evidence"),
                content_type=sniffed.content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            )
            evidence.file.save("evidence", ContentFile(data), save=False)
            stored.append(evidence)
    except BaseException:
        _discard(stored)
        raise
    return stored


def _discard(evidence: list[VerificationEvidence]) -> None:
    for item in evidence:
        try:
            item.file.storage.delete(item.file.name)
        except Exception:  # pragma: no cover - best effort; the rows never existed
            logger.exception("could not remove orphaned evidence file %s", item.file.name)


def verification_record(
    *,
    org,
    actor,
    provider: Provider,
    source: str,
    method: str,
    result: str,
    credential: Credential | None = None,
    source_state: str = "",
    source_name: str = "",
    verified_at: datetime | None = None,
    details: str = "",
    reference: str = "",
    data: dict | None = None,
    evidence_files=(),
    request: VerificationRequest | None = None,
    supersedes: Verification | None = None,
    correction_reason: str = "",
) -> Verification:
    """Append one verification to the PSV log (members, API keys, or a system job's Actor)."""
    if not isinstance(actor, Actor):
        require(actor, cap.CHANGE_ROSTER)
    if provider.organization_id != org.pk:
        raise NotFound("Not found.")
    cleaned = _clean(
        provider=provider,
        credential=credential,
        source=source,
        source_state=source_state,
        method=method,
        result=result,
        verified_at=verified_at,
    )
    verification = Verification(
        id=uuid.uuid4(),
        organization_id=org.pk,
        provider=provider,
        credential=credential,
        source=source,
        source_state=cleaned["source_state"],
        source_name=source_name[:200],
        method=method,
        result=result,
        verified_at=cleaned["verified_at"],
        details=details or "",
        reference=reference[:300],
        data=data or {},
        supersedes=supersedes,
        correction_reason=correction_reason,
        request=request,
        **_verifier(actor),
    )
    evidence = _store_evidence(org, verification, evidence_files)
    try:
        with transaction.atomic():
            if request is None and supersedes is None:
                # Recording a verification answers the element's open queue request, whatever
                # page or API call it came from.
                request = _open_request(org, provider, credential, source)
                verification.request = request
            verification.save(force_insert=True)
            for item in evidence:
                item.save(force_insert=True)
            if request is not None:
                from verifications.services.queue_hooks import request_completed

                request_completed(org=org, request=request, verification=verification)
            if credential is not None:
                from verifications.services.packets import packet_verification_recorded

                # A step that needs attention (its queue item came back as a discrepancy) is
                # settled by the next record of the same credential and source, even when
                # no queue item is open any more, or when it corrects the earlier record.
                packet_verification_recorded(org=org, verification=verification)
            if supersedes is not None:
                verification_superseded.run(
                    org=org, verification=verification, superseded=supersedes
                )
            if provider.status == ProviderStatus.APPLICANT:
                # An applicant is a seat from its first verification (billing counts seats).
                roster_hooks.provider_seats_changed.run(org=org)
            audit_record(
                org=org,
                actor=actor if isinstance(actor, Actor) else audit_actor(actor),
                action="verifications.verification.corrected"
                if supersedes
                else "verifications.verification.recorded",
                target=verification,
                source=source,
                data=_audit_data(verification, evidence),
            )
    except IntegrityError:
        _discard(evidence)
        raise Conflict("That verification was already corrected; correct the newest record.")
    except BaseException:
        _discard(evidence)
        raise
    return verification


def _open_request(org, provider, credential, source) -> VerificationRequest | None:
    from verifications.models import OPEN_REQUEST_STATUSES

    return (
        VerificationRequest.objects.select_for_update()
        .filter(
            organization=org,
            provider=provider,
            credential=credential,
            source=source,
            status__in=OPEN_REQUEST_STATUSES,
        )
        .first()
    )


def _audit_data(verification: Verification, evidence) -> dict:
    data = {
        "provider": str(verification.provider_id),
        "credential": str(verification.credential_id or ""),
        "source": verification.source,
        "source_state": verification.source_state,
        "method": verification.method,
        "result": verification.result,
        "verified_at": verification.verified_at.isoformat(),
        "evidence": [{"sha256": e.sha256, "size": e.size} for e in evidence],
    }
    if verification.supersedes_id:
        data["supersedes"] = str(verification.supersedes_id)
        data["reason"] = verification.correction_reason
    if verification.request_id:
        data["request"] = str(verification.request_id)
    return data


def verification_correct(
    *, org, actor, verification: Verification, reason: str, evidence_files=(), **changes
) -> Verification:
    """A correction: a new record, copied from the old with `changes`, that supersedes it."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            "Say why the record is being corrected.",
            details={"reason": "Say why the record is being corrected."},
        )
    with transaction.atomic():
        # No row lock: the application role has no UPDATE grant on the log, so FOR UPDATE is
        # refused. The one-to-one `supersedes` key is the guard: of two concurrent corrections
        # the second insert fails and verification_record answers Conflict.
        current = Verification.objects.get(organization=org, pk=verification.pk)
        if Verification.objects.filter(supersedes=current).exists():
            raise Conflict("That verification was already corrected; correct the newest record.")
        fields = {
            "provider": current.provider,
            "credential": current.credential,
            "source": current.source,
            "source_state": current.source_state,
            "source_name": current.source_name,
            "method": current.method,
            "result": current.result,
            "verified_at": current.verified_at,
            "details": current.details,
            "reference": current.reference,
            "data": current.data,
        }
        unknown = set(changes) - set(fields)
        if unknown:
            raise InvalidInput(f"Cannot change {', '.join(sorted(unknown))}.")
        fields.update({k: v for k, v in changes.items() if v is not None})
        return verification_record(
            org=org,
            actor=actor,
            supersedes=current,
            correction_reason=reason,
            evidence_files=evidence_files,
            **fields,
        )
