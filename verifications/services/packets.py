"""Stub: re-verification packets (filled in by the packets work)."""


def packet_document_received(*, org, document) -> None:
    """Mark a packet's documents step when the provider's requested documents arrive."""
