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

Modules: common (constants, packet_url), due (credentials_due), starting (packet_start),
steps (completion from the outside), cancelling (packet_cancel), bulk (everyone due). Import
from the package: the names below are re-exported.
"""

from verifications.services.packets.bulk import (
    _publish_bulk,
    actor_from_ref,
    bulk_job_failed,
    bulk_progress_key,
    last_bulk_key,
    packets_bulk_request,
    packets_bulk_run,
)
from verifications.services.packets.cancelling import (
    packet_cancel,
)
from verifications.services.packets.common import (
    BULK_DUE_DAYS,
    BULK_TTL,
    CREDENTIAL_SOURCES,
    EXPIRING_WITHIN_DAYS,
    NO_EMAIL,
    OPEN_STEPS,
    PACKET_DOCUMENT_KINDS,
    REQUEST_DUE_DAYS,
    STEP_AUDIT_SOURCE,
    TERMINAL_STEPS,
    packet_url,
)
from verifications.services.packets.due import (
    credentials_due,
)
from verifications.services.packets.starting import (
    packet_start,
)
from verifications.services.packets.steps import (
    packet_document_received,
    packet_request_completed,
    packet_steps_complete_automatic,
    packet_verification_recorded,
)

__all__ = [
    "BULK_DUE_DAYS",
    "BULK_TTL",
    "CREDENTIAL_SOURCES",
    "EXPIRING_WITHIN_DAYS",
    "NO_EMAIL",
    "OPEN_STEPS",
    "PACKET_DOCUMENT_KINDS",
    "REQUEST_DUE_DAYS",
    "STEP_AUDIT_SOURCE",
    "TERMINAL_STEPS",
    "_publish_bulk",
    "actor_from_ref",
    "bulk_job_failed",
    "bulk_progress_key",
    "credentials_due",
    "last_bulk_key",
    "packet_cancel",
    "packet_document_received",
    "packet_request_completed",
    "packet_start",
    "packet_steps_complete_automatic",
    "packet_url",
    "packet_verification_recorded",
    "packets_bulk_request",
    "packets_bulk_run",
]
