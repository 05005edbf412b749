"""Starting a packet: its steps (checks, queue items, the upload link)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import require
from credex.errors import Conflict, InvalidInput, NotFound
from credex.models import Membership
from roster.models import Credential, Provider
from verifications.models import (
    OPEN_REQUEST_STATUSES,
    PacketStatus,
    PacketStep,
    PacketStepKind,
    RequestStatus,
    ReverificationPacket,
    StepStatus,
    VerificationRequest,
    VerificationSource,
)
from verifications.services.packets.common import (
    CREDENTIAL_SOURCES,
    NO_EMAIL,
    PACKET_DOCUMENT_KINDS,
    REQUEST_DUE_DAYS,
    _actor_audit,
    packet_url,
)
from verifications.services.packets.due import _credential_label, credentials_due


def packet_start(
    *, org, actor, provider: Provider, bulk_key: str = "", run_checks: bool = True
) -> ReverificationPacket:
    """Start a re-verification packet for one provider (409 when one is in progress).

    `run_checks=False` (the bulk job) creates the NPPES/OIG/SAM steps without requesting
    the checks: the bulk job requests one organization-wide run of each instead.
    """
    require(actor, cap.CHANGE_ROSTER)
    if provider.organization_id != org.pk:
        raise NotFound("Not found.")
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                packet = ReverificationPacket.objects.create(
                    organization=org,
                    provider=provider,
                    started_by=actor if isinstance(actor, Membership) else None,
                    started_at=now,
                    bulk_key=bulk_key,
                )
        except IntegrityError:
            current = ReverificationPacket.objects.filter(
                organization=org, provider=provider, status=PacketStatus.IN_PROGRESS
            ).first()
            details = {"packet": str(current.pk), "url": packet_url(current)} if current else {}
            raise Conflict(
                "A re-verification packet is already in progress for this provider.",
                details=details,
                code="packet_in_progress",
            )
        steps = [
            *_check_steps(org, actor, packet, provider, run_checks=run_checks),
            *_verification_steps(org, actor, packet, provider, now),
            _documents_step(org, actor, packet, provider),
        ]
        audit_record(
            org=org,
            actor=_actor_audit(actor),
            action="verifications.packet.started",
            target=packet,
            source="CredEx",
            data={
                "provider": str(provider.pk),
                "bulk": bulk_key,
                "at": now.isoformat(),
                "steps": [
                    {
                        "kind": s.kind,
                        "label": s.label,
                        "status": s.status,
                        "request": str(s.request_id or ""),
                    }
                    for s in steps
                ],
                "upload_link": str(packet.upload_link_id or ""),
            },
        )
    return packet


def _new_step(packet, kind, label, *, status=StepStatus.PENDING, **fields) -> PacketStep:
    return PacketStep.objects.create(
        organization_id=packet.organization_id,
        packet=packet,
        kind=kind,
        label=label,
        status=status,
        **fields,
    )


def _check_steps(org, actor, packet, provider, *, run_checks: bool) -> list[PacketStep]:
    from screening.models import RunTrigger
    from screening.nppes.services import nppes_refresh_request
    from screening.services import screening_run_request

    steps = []
    if provider.npi:
        detail = {}
        if run_checks:
            run = nppes_refresh_request(org=org, actor=actor, provider=provider)
            detail = {"nppes_run": str(run.pk)}
        steps.append(_new_step(packet, PacketStepKind.NPPES, "NPPES re-check", detail=detail))
    else:
        steps.append(
            _new_step(
                packet,
                PacketStepKind.NPPES,
                "NPPES re-check",
                status=StepStatus.SKIPPED,
                detail={"reason": "No NPI on file."},
            )
        )
    detail = {}
    if run_checks:
        run = screening_run_request(
            org=org, actor=actor, provider=provider, trigger=RunTrigger.ON_DEMAND
        )
        detail = {"screening_run": str(run.pk)}
    steps.append(_new_step(packet, PacketStepKind.OIG, "OIG LEIE screening", detail=detail))
    steps.append(_new_step(packet, PacketStepKind.SAM, "SAM.gov screening", detail=detail))
    return steps


def _request_due(credential: Credential, provider: Provider, today: date) -> date:
    candidates = [today + timedelta(days=REQUEST_DUE_DAYS)]
    for day in (credential.expiry_date, provider.recredentialing_due_date):
        if day is not None and day >= today:
            candidates.append(day)
    return min(candidates)


def _open_request(
    org, actor, packet, provider, credential, today
) -> tuple[VerificationRequest, bool]:
    """The open queue item for this credential and source: an existing one (linked to the
    packet when it has none) or a new one. Returns (request, created)."""
    source = CREDENTIAL_SOURCES[credential.kind]
    lookup = {
        "organization": org,
        "provider": provider,
        "credential": credential,
        "source": source,
        "status__in": OPEN_REQUEST_STATUSES,
    }
    existing = VerificationRequest.objects.select_for_update().filter(**lookup).first()
    if existing is None:
        try:
            with transaction.atomic():
                return (
                    VerificationRequest.objects.create(
                        organization=org,
                        provider=provider,
                        credential=credential,
                        source=source,
                        source_state=credential.state
                        if source == VerificationSource.STATE_BOARD
                        else "",
                        status=RequestStatus.OPEN,
                        due_date=_request_due(credential, provider, today),
                        assigned_to=provider.coordinator,
                        packet=packet,
                        created_by=actor if isinstance(actor, Membership) else None,
                        note="Opened by a re-verification packet.",
                    ),
                    True,
                )
        except IntegrityError:  # opened by someone else meanwhile (verif_request_one_open)
            existing = VerificationRequest.objects.select_for_update().filter(**lookup).first()
            if existing is None:  # pragma: no cover - closed again in between
                raise
    if existing.packet_id is None:
        existing.packet = packet
        existing.save(update_fields=["packet"])
    return existing, False


def _verification_steps(org, actor, packet, provider, now) -> list[PacketStep]:
    today = timezone.localdate(now)
    steps = []
    for credential in credentials_due(org=org, provider=provider, today=today):
        request, created = _open_request(org, actor, packet, provider, credential, today)
        steps.append(
            _new_step(
                packet,
                PacketStepKind.VERIFICATION,
                _credential_label(credential),
                request=request,
                detail={
                    "credential": str(credential.pk),
                    "source": request.source,
                    "reused_request": not created,
                },
            )
        )
    return steps


def _documents_step(org, actor, packet, provider) -> PacketStep:
    from roster.services.documents import upload_link_create

    kinds = [str(k) for k in PACKET_DOCUMENT_KINDS]
    label = "Updated CV, malpractice declarations page and attestation"
    detail = {"kinds": kinds, "received": []}
    try:
        link = upload_link_create(
            org=org,
            actor=actor,
            provider=provider,
            kinds=kinds,
            message=(
                "Your re-credentialing is coming up. Please upload an updated CV, your "
                "current malpractice declarations page and a signed attestation."
            ),
        )
    except InvalidInput as exc:
        reason = NO_EMAIL if "email" in exc.details else exc.message
        return _new_step(
            packet,
            PacketStepKind.DOCUMENTS,
            label,
            status=StepStatus.FAILED,
            detail={**detail, "reason": reason},
        )
    packet.upload_link = link
    packet.save(update_fields=["upload_link"])
    return _new_step(
        packet,
        PacketStepKind.DOCUMENTS,
        label,
        detail={**detail, "upload_link": str(link.pk), "sent_to": provider.email},
    )
