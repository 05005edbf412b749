"""Re-verification packets: one click per provider (or a bulk job for everyone due).

A packet re-runs the automated checks (NPPES, OIG, SAM), opens a queue item for every
license board, DEA, CDS, board certification and malpractice verification that is due, and
sends the provider a signed upload link for an updated CV, malpractice declarations page and
attestation. Each of these is a PacketStep; the packet completes when every step is done
(or skipped). A step is done only when its record says "verified": a discrepancy or an
"unable to verify" makes it "needs attention" (with the reason), which holds the packet open
until a later verified record (a re-check, a new verification of the queue item) replaces it.
Steps complete from the outside:

- NPPES / OIG / SAM: when the automatic PSV record is written (verifications.services.
  automatic calls `packet_steps_complete_automatic` in the check's transaction);
- a queue item: when a verification answering it is recorded (queue_hooks.request_completed);
- documents: when every requested kind has arrived on the provider's file
  (`packet_document_received`, called by the roster inside the upload's transaction).

Every start, step completion, completion and cancellation is an audit event with its source.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import ActorKind
from audit.services import Actor, audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, DomainError, InvalidInput, NotFound
from credex.models import ApiKey, Membership
from roster.models import Credential, CredentialKind, CredentialStatus, DocumentKind, Provider
from verifications.models import (
    OPEN_REQUEST_STATUSES,
    PacketStatus,
    PacketStep,
    PacketStepKind,
    RequestStatus,
    ReverificationPacket,
    StepStatus,
    Verification,
    VerificationRequest,
    VerificationResult,
    VerificationSource,
)

log = logging.getLogger(__name__)

# Documents a packet asks the provider for.
PACKET_DOCUMENT_KINDS = [DocumentKind.CV, DocumentKind.MALPRACTICE, DocumentKind.ATTESTATION]
# Which primary source verifies each credential kind a packet re-verifies. A CDS registration
# is issued by a state agency: it is verified with that state's board.
CREDENTIAL_SOURCES = {
    CredentialKind.STATE_LICENSE: VerificationSource.STATE_BOARD,
    CredentialKind.DEA: VerificationSource.DEA,
    CredentialKind.CDS: VerificationSource.STATE_BOARD,
    CredentialKind.BOARD_CERT: VerificationSource.BOARD,
    CredentialKind.MALPRACTICE: VerificationSource.MALPRACTICE_CARRIER,
}
# A credential expiring within this many days is re-verified even when a valid verification
# exists: it will be renewed before the next decision, and the renewal must be checked.
EXPIRING_WITHIN_DAYS = 120
# Bulk: providers whose re-credentialing is due within this many days (overdue included).
BULK_DUE_DAYS = 120
# A queue item opened by a packet is due in this many days (sooner if the credential or the
# re-credentialing is due sooner).
REQUEST_DUE_DAYS = 30
TERMINAL_STEPS = (StepStatus.DONE, StepStatus.SKIPPED)
# Steps a new record may still settle (a verified re-check clears "needs attention").
OPEN_STEPS = (StepStatus.PENDING, StepStatus.FAILED, StepStatus.NEEDS_ATTENTION)
STEP_AUDIT_SOURCE = {
    PacketStepKind.NPPES: "NPPES",
    PacketStepKind.OIG: "OIG",
    PacketStepKind.SAM: "SAM",
}
NO_EMAIL = "No e-mail on file — send the link yourself."
BULK_TTL = 24 * 3600


def packet_url(packet: ReverificationPacket) -> str:
    return reverse(
        "packet_detail",
        kwargs={"org_slug": packet.organization.slug, "packet_id": packet.pk},
    )


def _actor_audit(actor) -> Actor:
    return actor if isinstance(actor, Actor) else audit_actor(actor)


# --- which credentials are due -----------------------------------------------------------


def credentials_due(*, org, provider: Provider, today: date | None = None) -> list[Credential]:
    """Active credentials of the re-verified kinds with no valid verification inside the
    organization's window, or expiring within EXPIRING_WITHIN_DAYS."""
    from verifications.selectors.records import valid_verifications

    today = today or timezone.localdate()
    credentials = list(
        Credential.objects.filter(
            organization=org,
            provider=provider,
            kind__in=list(CREDENTIAL_SOURCES),
            status=CredentialStatus.ACTIVE,
        ).order_by("kind", "state", "number")
    )
    verified = set(
        valid_verifications(org=org, decision_date=today)
        .filter(provider=provider, credential__isnull=False)
        .values_list("credential_id", flat=True)
    )
    horizon = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    return [
        c
        for c in credentials
        if c.pk not in verified or (c.expiry_date is not None and c.expiry_date <= horizon)
    ]


def _credential_label(credential: Credential) -> str:
    parts = [credential.get_kind_display()]
    if credential.state:
        parts.append(credential.state)
    if credential.number:
        parts.append(credential.number)
    return " ".join(parts)[:200]


# --- starting -------------------------------------------------------------------------------


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


# --- steps completing ----------------------------------------------------------------------


def _step_done(org, step: PacketStep, *, actor: Actor, source: str, **fields) -> None:
    """Mark one step done (the caller holds the packet's row lock) and audit it."""
    now = timezone.now()
    for name, value in fields.items():
        setattr(step, name, value)
    step.status = StepStatus.DONE
    step.updated_at = now
    step.save()
    audit_record(
        org=org,
        actor=actor,
        action="verifications.packet.step_done",
        target=step.packet,
        source=source,
        data={
            "step": str(step.pk),
            "kind": step.kind,
            "label": step.label,
            "verification": str(step.verification_id or ""),
            "request": str(step.request_id or ""),
            "at": now.isoformat(),
        },
    )


def _attention_reason(step: PacketStep, verification) -> str:
    result = VerificationResult(verification.result).label.lower()
    what = {
        PacketStepKind.NPPES: "The NPPES check",
        PacketStepKind.OIG: "The OIG LEIE screening",
        PacketStepKind.SAM: "The SAM.gov screening",
    }.get(step.kind, "The verification")
    reason = f"{what} came back as “{result}”"
    details = (getattr(verification, "details", "") or "").strip()
    return (f"{reason}: {details}" if details else f"{reason}.")[:500]


def _step_outcome(org, step: PacketStep, *, verification, actor: Actor, source: str, **fields):
    """A record answered the step: done when it says verified, otherwise needs attention
    (reason and record kept on the step, audited); the caller holds the packet's lock."""
    if verification.result == VerificationResult.VERIFIED:
        fields["detail"] = {
            k: v for k, v in fields.get("detail", step.detail).items() if k != "attention"
        }
        _step_done(org, step, actor=actor, source=source, verification=verification, **fields)
        return
    now = timezone.now()
    for name, value in fields.items():
        setattr(step, name, value)
    reason = _attention_reason(step, verification)
    step.verification = verification
    step.detail = {**step.detail, "result": verification.result, "attention": reason}
    step.status = StepStatus.NEEDS_ATTENTION
    step.updated_at = now
    step.save()
    audit_record(
        org=org,
        actor=actor,
        action="verifications.packet.step_needs_attention",
        target=step.packet,
        source=source,
        data={
            "step": str(step.pk),
            "kind": step.kind,
            "label": step.label,
            "result": verification.result,
            "reason": reason,
            "verification": str(verification.pk),
            "request": str(step.request_id or ""),
            "at": now.isoformat(),
        },
    )


def _complete_if_done(org, packet: ReverificationPacket, *, actor: Actor) -> bool:
    if packet.status != PacketStatus.IN_PROGRESS:
        return False
    if PacketStep.objects.filter(packet=packet).exclude(status__in=TERMINAL_STEPS).exists():
        return False
    now = timezone.now()
    packet.status = PacketStatus.COMPLETE
    packet.completed_at = now
    packet.save(update_fields=["status", "completed_at"])
    counts = dict.fromkeys(StepStatus.values, 0)
    for status in PacketStep.objects.filter(packet=packet).values_list("status", flat=True):
        counts[status] += 1
    audit_record(
        org=org,
        actor=actor,
        action="verifications.packet.completed",
        target=packet,
        source="CredEx",
        data={
            "provider": str(packet.provider_id),
            "at": now.isoformat(),
            "steps": counts,
        },
    )
    return True


def _locked_packets(org, packet_ids) -> dict:
    # Row locks in id order: two steps of one packet completing at once cannot both miss
    # that the other is done (and two transactions cannot deadlock on the order).
    return {
        p.pk: p
        for p in ReverificationPacket.objects.select_for_update()
        .filter(organization=org, pk__in=sorted(set(packet_ids)))
        .order_by("pk")
    }


def packet_steps_complete_automatic(
    *, org, kinds: dict, provider_ids=None, reference: str = ""
) -> int:
    """Complete pending NPPES/OIG/SAM steps from the automatic records a check just wrote
    (`kinds`: step kind -> verification source; `reference`: the run id). Returns how many."""
    steps = PacketStep.objects.filter(
        organization=org,
        kind__in=list(kinds),
        status__in=[StepStatus.PENDING, StepStatus.NEEDS_ATTENTION],
        packet__status=PacketStatus.IN_PROGRESS,
    ).select_related("packet")
    if provider_ids is not None:
        steps = steps.filter(packet__provider_id__in=list(provider_ids))
    steps = list(steps)
    if not steps:
        return 0
    records = {}
    rows = Verification.objects.filter(
        organization=org,
        reference=reference,
        source__in=list(kinds.values()),
        provider_id__in={s.packet.provider_id for s in steps},
    ).only("id", "provider_id", "source", "result", "verifier_label", "details")
    for row in rows:
        records[(row.provider_id, row.source)] = row
    packets = _locked_packets(org, [s.packet_id for s in steps])
    done = 0
    for step in steps:
        record = records.get((step.packet.provider_id, kinds[step.kind]))
        packet = packets.get(step.packet_id)
        if record is None or packet is None or packet.status != PacketStatus.IN_PROGRESS:
            continue
        step.packet = packet
        actor = Actor.system(record.verifier_label or "system")
        _step_outcome(
            org,
            step,
            actor=actor,
            source=STEP_AUDIT_SOURCE.get(step.kind, ""),
            verification=record,
            detail={**step.detail, "result": record.result, "run": reference},
        )
        done += step.status == StepStatus.DONE
    for packet in packets.values():
        _complete_if_done(org, packet, actor=Actor.system("re-verification packet"))
    return done


def _verifier_actor(verification: Verification) -> Actor:
    if verification.verifier_user_id:
        return Actor(
            kind=ActorKind.MEMBER,
            id=str(verification.verifier_user_id),
            label=verification.verifier_label,
        )
    if verification.verifier_kind == "api_key":
        return Actor(kind=ActorKind.API_KEY, id="", label=verification.verifier_label)
    return Actor.system(verification.verifier_label or "system")


def packet_request_completed(*, org, request: VerificationRequest, verification) -> None:
    """A queue item a packet opened was answered: its step is done (and maybe the packet)."""
    steps = list(
        PacketStep.objects.filter(organization=org, request=request, status__in=list(OPEN_STEPS))
    )
    if not steps:
        return
    packets = _locked_packets(org, [s.packet_id for s in steps])
    actor = _verifier_actor(verification)
    for step in steps:
        packet = packets.get(step.packet_id)
        if packet is None or packet.status != PacketStatus.IN_PROGRESS:
            continue
        step.packet = packet
        _step_outcome(
            org,
            step,
            actor=actor,
            source=verification.source,
            verification=verification,
            detail={**step.detail, "result": verification.result},
        )
        _complete_if_done(org, packet, actor=actor)


def packet_verification_recorded(*, org, verification: Verification) -> None:
    """A new record for a credential settles the packet steps of that credential and source
    that need attention (a verified record makes them done; another failure updates the
    reason)."""
    steps = [
        s
        for s in PacketStep.objects.filter(
            organization=org,
            kind=PacketStepKind.VERIFICATION,
            status=StepStatus.NEEDS_ATTENTION,
            packet__provider_id=verification.provider_id,
            packet__status=PacketStatus.IN_PROGRESS,
        ).exclude(verification=verification)
        if s.detail.get("credential") == str(verification.credential_id)
        and s.detail.get("source") == verification.source
    ]
    if not steps:
        return
    packets = _locked_packets(org, [s.packet_id for s in steps])
    actor = _verifier_actor(verification)
    for step in steps:
        packet = packets.get(step.packet_id)
        if packet is None or packet.status != PacketStatus.IN_PROGRESS:
            continue
        step.packet = packet
        _step_outcome(
            org,
            step,
            actor=actor,
            source=verification.source,
            verification=verification,
            detail={**step.detail, "result": verification.result},
        )
        _complete_if_done(org, packet, actor=actor)


def packet_document_received(*, org, document) -> None:
    """Mark a packet's documents step when the provider's requested documents arrive."""
    steps = list(
        PacketStep.objects.filter(
            organization=org,
            kind=PacketStepKind.DOCUMENTS,
            status__in=[StepStatus.PENDING, StepStatus.FAILED],
            packet__provider_id=document.provider_id,
            packet__status=PacketStatus.IN_PROGRESS,
        )
    )
    steps = [s for s in steps if document.kind in s.detail.get("kinds", [])]
    if not steps:
        return
    packets = _locked_packets(org, [s.packet_id for s in steps])
    if document.upload_link_id:
        source, actor = (
            "provider upload link",
            Actor(kind=ActorKind.PROVIDER_LINK, id=str(document.upload_link_id), label="provider"),
        )
    else:
        source = "member upload"
        user = getattr(getattr(document, "uploaded_by", None), "user", None)
        actor = Actor.member(user) if user else Actor.system("document upload")
    for step in steps:
        packet = packets.get(step.packet_id)
        if packet is None or packet.status != PacketStatus.IN_PROGRESS:
            continue
        step.packet = packet
        received = sorted({*step.detail.get("received", []), document.kind})
        step.detail = {**step.detail, "received": received}
        if set(step.detail.get("kinds", [])) <= set(received):
            _step_done(org, step, actor=actor, source=source)
            _complete_if_done(org, packet, actor=actor)
        else:
            step.updated_at = timezone.now()
            step.save(update_fields=["detail", "updated_at"])


# --- cancelling -----------------------------------------------------------------------------


def packet_cancel(
    *, org, actor, packet: ReverificationPacket, reason: str = ""
) -> ReverificationPacket:
    """Stop a packet in progress; its pending steps are skipped (queue items stay open)."""
    require(actor, cap.CHANGE_ROSTER)
    with transaction.atomic():
        packet = ReverificationPacket.objects.select_for_update().get(pk=packet.pk)
        if packet.status != PacketStatus.IN_PROGRESS:
            raise Conflict(
                f"This packet is {packet.get_status_display().lower()}; only a packet in "
                "progress can be cancelled."
            )
        now = timezone.now()
        packet.status = PacketStatus.CANCELLED
        packet.completed_at = now
        packet.save(update_fields=["status", "completed_at"])
        skipped = PacketStep.objects.filter(packet=packet, status__in=list(OPEN_STEPS)).update(
            status=StepStatus.SKIPPED, updated_at=now
        )
        audit_record(
            org=org,
            actor=_actor_audit(actor),
            action="verifications.packet.cancelled",
            target=packet,
            source="CredEx",
            data={
                "provider": str(packet.provider_id),
                "reason": (reason or "")[:500],
                "steps_skipped": skipped,
                "at": now.isoformat(),
            },
        )
    return packet


# --- bulk: everyone due ---------------------------------------------------------------------


def bulk_progress_key(org_id, bulk_key: str) -> str:
    # The organization is part of the key: a job id from another organization reads nothing.
    return f"credex.packets.bulk:{org_id}:{bulk_key}"


def last_bulk_key(org_id) -> str:
    """The cache key naming the organization's latest bulk job (the packets page shows it)."""
    return f"credex.packets.bulk.last:{org_id}"


def _publish_bulk(org_id, bulk_key: str, **state) -> None:
    cache.set(bulk_progress_key(org_id, bulk_key), state, BULK_TTL)


def _actor_ref(actor) -> dict:
    if isinstance(actor, Membership):
        return {"actor_kind": "member", "actor_id": str(actor.pk)}
    if isinstance(actor, ApiKey):
        return {"actor_kind": "api_key", "actor_id": str(actor.pk)}
    raise InvalidInput("Unknown actor.")


def actor_from_ref(*, org, actor_kind: str, actor_id: str):
    """The member or API key a bulk job acts for (re-read in the worker)."""
    model = Membership if actor_kind == "member" else ApiKey
    actor = model.objects.filter(organization=org, pk=actor_id).first()
    if actor is None:
        raise NotFound("The member who started the job is no longer in the organization.")
    if isinstance(actor, Membership):
        actor.organization = org
    return actor


def packets_bulk_request(*, org, actor, days: int = BULK_DUE_DAYS) -> dict:
    """Queue one job that starts a packet for every provider due within `days` (no packet
    in progress). Returns {"job", "due"}; the progress is read with `bulk_progress`."""
    from verifications.selectors.packets import providers_due

    require(actor, cap.CHANGE_ROSTER)
    if not isinstance(days, int) or not 1 <= days <= 730:
        raise InvalidInput(
            "Choose from 1 to 730 days.", details={"days": "Choose from 1 to 730 days."}
        )
    due = providers_due(org=org, days=days).count()
    if not due:
        raise InvalidInput(
            f"No provider's re-credentialing is due within {days} days without a packet "
            "in progress.",
            details={"days": "nobody due"},
        )
    bulk_key = uuid.uuid4().hex
    with transaction.atomic():
        audit_record(
            org=org,
            actor=_actor_audit(actor),
            action="verifications.packet.bulk_requested",
            target_type="verifications.reverificationpacket",
            target_id=bulk_key,
            source="CredEx",
            data={"job": bulk_key, "days": days, "due": due},
        )
        _publish_bulk(
            org.pk, bulk_key, status="queued", processed=0, total=due, started=0, skipped=0
        )
        cache.set(last_bulk_key(org.pk), bulk_key, BULK_TTL)
        from verifications.jobs.packets import packets_bulk_start

        packets_bulk_start.enqueue_on_commit(
            org=org, bulk_key=bulk_key, days=days, **_actor_ref(actor)
        )
    return {"job": bulk_key, "due": due}


def packets_bulk_run(*, org, actor, bulk_key: str, days: int = BULK_DUE_DAYS) -> dict:
    """The bulk job's body: a packet per provider due, then one organization-wide NPPES
    refresh and one exclusion screening run that complete their check steps. Audited once
    with the counts (and once per packet)."""
    from verifications.selectors.packets import providers_due

    providers = list(providers_due(org=org, days=days).order_by("recredentialing_due_date"))
    total = len(providers)
    started, skipped = [], []
    _publish_bulk(
        org.pk, bulk_key, status="running", processed=0, total=total, started=0, skipped=0
    )
    for position, provider in enumerate(providers, 1):
        try:
            packet = packet_start(
                org=org, actor=actor, provider=provider, bulk_key=bulk_key, run_checks=False
            )
            started.append(str(packet.pk))
        except DomainError as exc:
            skipped.append({"provider": str(provider.pk), "reason": exc.message})
        if position % 5 == 0 or position == total:
            _publish_bulk(
                org.pk,
                bulk_key,
                status="running",
                processed=position,
                total=total,
                started=len(started),
                skipped=len(skipped),
            )
    checks = _bulk_checks(org, actor) if started else {}
    with transaction.atomic():
        audit_record(
            org=org,
            actor=_actor_audit(actor),
            action="verifications.packet.bulk_completed",
            target_type="verifications.reverificationpacket",
            target_id=bulk_key,
            source="CredEx",
            data={
                "job": bulk_key,
                "days": days,
                "due": total,
                "started": len(started),
                "skipped": skipped[:50],
                **checks,
            },
        )
    state = {
        "status": "done",
        "processed": total,
        "total": total,
        "started": len(started),
        "skipped": len(skipped),
    }
    # Published when the job's transaction commits: the packets are visible by then.
    transaction.on_commit(lambda: _publish_bulk(org.pk, bulk_key, **state))
    return state


def _bulk_checks(org, actor) -> dict:
    from screening.models import RunTrigger
    from screening.nppes.services import nppes_refresh_request
    from screening.services import RunInProgress, screening_run_request

    out = {}
    try:
        with transaction.atomic():
            run = screening_run_request(org=org, actor=actor, trigger=RunTrigger.ON_DEMAND)
        out["screening_run"] = str(run.pk)
    except RunInProgress as exc:
        # The run in progress writes results (and PSV records) for every provider too.
        out["screening_run"] = exc.details.get("run", "in progress")
    with transaction.atomic():
        out["nppes_run"] = str(nppes_refresh_request(org=org, actor=actor).pk)
    return out


def bulk_job_failed(*, org_id, bulk_key: str, error: str) -> None:
    """Say on the progress bar that the job failed (its transaction rolled back)."""
    state = cache.get(bulk_progress_key(org_id, bulk_key)) or {}
    _publish_bulk(org_id, bulk_key, **{**state, "status": "failed", "error": error[:500]})
