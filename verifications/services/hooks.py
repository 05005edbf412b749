"""What the roster calls when a document arrives (a member's upload or a provider's upload
link): extraction of credential fields for review, and packet tracking. Called inside the
upload's transaction; anything slow is enqueued on commit."""

from __future__ import annotations


def document_received(*, org, document) -> None:
    """A document was stored on a provider's file."""
    from verifications.services import extraction, packets

    extraction.extraction_document_received(org=org, document=document)
    packets.packet_document_received(org=org, document=document)
