"""Cancelling a packet."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import require
from credex.errors import Conflict
from verifications.models import (
    PacketStatus,
    PacketStep,
    ReverificationPacket,
    StepStatus,
)
from verifications.services.packets.common import OPEN_STEPS, _actor_audit


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
