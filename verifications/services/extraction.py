"""Stub: document extraction (filled in by the extraction work)."""


def extraction_document_received(*, org, document) -> None:
    """Queue extraction for a newly stored document (on commit)."""
