"""Steps completing from the outside (automatic records, answered requests, verifications,
documents) and the packet completing when every step is done."""

from __future__ import annotations

from django.utils import timezone

from audit.models import ActorKind
from audit.services import Actor, audit_record
from verifications.models import (
    PacketStatus,
    PacketStep,
    PacketStepKind,
    ReverificationPacket,
    StepStatus,
    Verification,
    VerificationRequest,
    VerificationResult,
)
from verifications.services.packets.common import OPEN_STEPS, STEP_AUDIT_SOURCE, TERMINAL_STEPS


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
