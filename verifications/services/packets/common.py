"""Shared by the packet modules: the constants, the packet's URL, the audit actor."""

from __future__ import annotations

from django.urls import reverse

from audit.services import Actor
from credex.actors import audit_actor
from roster.models import CredentialKind, DocumentKind
from verifications.models import (
    PacketStepKind,
    ReverificationPacket,
    StepStatus,
    VerificationSource,
)

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
