"""Documents on a provider's file: upload (sniffed, size-limited, stored under a random
name), review (accept / reject with a reason), and the authorized, audited download."""

from __future__ import annotations

import hashlib
import logging
import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, InvalidInput, NotFound
from credex.models import Membership
from roster import hooks as roster_hooks
from roster.models import Credential, Document, DocumentKind, DocumentStatus, Provider, UploadLink
from roster.services.documents.sniffing import Sniffed, read_limited, sniff

logger = logging.getLogger(__name__)


def clean_kind(kind: str, allowed=None) -> str:
    allowed = list(allowed) if allowed is not None else DocumentKind.values
    if kind not in allowed:
        raise InvalidInput(
            "Choose which document this is.", details={"kind": "Choose which document this is."}
        )
    return kind


def clean_filename(name: str) -> str:
    """The uploaded name as a label only: no folders, no control characters (it ends up in a
    Content-Disposition header), at most 255 characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return (name or "document")[-255:]


def store_file(
    *,
    org,
    provider: Provider,
    kind: str,
    upload,
    filename: str,
    credential: Credential | None = None,
    uploaded_by: Membership | None = None,
    upload_link: UploadLink | None = None,
) -> tuple[Document, Sniffed]:
    """Sniff, then write the file and the row. Nothing is stored when the file is refused."""
    data = read_limited(upload)
    sniffed = sniff(data)
    document = Document(
        id=uuid.uuid4(),
        organization_id=org.pk,
        provider=provider,
        credential=credential,
        kind=kind,
        original_name=clean_filename(filename),
        content_type=sniffed.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        status=DocumentStatus.PENDING_REVIEW,
        uploaded_by=uploaded_by,
        upload_link=upload_link,
    )
    # roster.models.document_path names the object by organization / provider / document id;
    # the uploaded name is kept only as a column.
    document.file.save("upload", ContentFile(data), save=False)
    return document, sniffed


def discard_file(document: Document) -> None:
    """Remove a stored file whose row was not committed."""
    try:
        if document.file.name:
            document.file.storage.delete(document.file.name)
    except Exception:  # pragma: no cover - best effort; the row never existed
        logger.exception("could not remove orphaned document file %s", document.file.name)


def document_audit_data(document: Document, sniffed: Sniffed, source: str) -> dict:
    data = {
        "provider": str(document.provider_id),
        "kind": document.kind,
        "original_name": document.original_name,
        "content_type": document.content_type,
        "size": document.size,
        "sha256": document.sha256,
        "source": source,
    }
    if sniffed.pages is not None:
        data["pages"] = sniffed.pages
    if document.credential_id:
        data["credential"] = str(document.credential_id)
    return data


def document_upload(
    *,
    org,
    actor,
    provider: Provider,
    kind: str,
    file,
    filename: str = "",
    credential: Credential | None = None,
    accept: bool = False,
) -> Document:
    """A member (or API key) adds a document to a provider's file; it waits for review
    unless `accept` says the uploader has checked it."""
    require(actor, cap.CHANGE_ROSTER)
    kind = clean_kind(kind)
    if provider.organization_id != org.pk:
        raise NotFound("Not found.")
    if credential is not None and credential.provider_id != provider.pk:
        raise InvalidInput(
            "That credential belongs to another provider.",
            details={"credential": "Choose one of this provider's credentials."},
        )
    filename = filename or getattr(file, "name", "") or "document"
    member = actor if isinstance(actor, Membership) else None
    document, sniffed = store_file(
        org=org,
        provider=provider,
        kind=kind,
        upload=file,
        filename=filename,
        credential=credential,
        uploaded_by=member,
    )
    source = "member" if member else "api_key"
    try:
        with transaction.atomic():
            if accept:
                document.status = DocumentStatus.ACCEPTED
                document.reviewed_by = member
                document.reviewed_at = timezone.now()
            document.save(force_insert=True)
            audit_record(
                org=org,
                actor=audit_actor(actor),
                action="roster.document.uploaded",
                target=document,
                data=document_audit_data(document, sniffed, source) | {"accepted": bool(accept)},
            )
            roster_hooks.document_received.run(org=org, document=document)
    except BaseException:
        discard_file(document)
        raise
    return document


# --- review ---------------------------------------------------------------------------------
DECISIONS = {"accept": DocumentStatus.ACCEPTED, "reject": DocumentStatus.REJECTED}


REASON_MAX = 2000


def document_review(*, org, actor, document: Document, decision: str, reason: str = "") -> Document:
    """Accept or reject a document (a rejection says why, and the provider sees the reason)."""
    require(actor, cap.CHANGE_ROSTER)
    if decision not in DECISIONS:
        raise InvalidInput(
            "Choose accept or reject.", details={"decision": "Choose accept or reject."}
        )
    reason = (reason or "").strip()
    if decision == "reject" and not reason:
        raise InvalidInput(
            "Say why the document is rejected.",
            details={"reason": "Say why, e.g. “expired” or “unreadable scan”."},
        )
    if len(reason) > REASON_MAX:
        # The provider sees it; the API's serializer stops at 2,000, the review form did not.
        raise InvalidInput(
            "Keep the reason under 2,000 characters.", details={"reason": "Too long."}
        )
    with transaction.atomic():
        locked = Document.objects.select_for_update().filter(pk=document.pk).first()
        if locked is None:
            raise NotFound("Not found.")
        _decide(org, actor, locked, decision, reason)
    return locked


def _decide(org, actor, document: Document, decision: str, reason: str) -> None:
    target = DECISIONS[decision]
    if document.status == target:
        raise Conflict(f"This document is already {document.get_status_display().lower()}.")
    before = document.status
    document.status = target
    document.reviewed_by = actor if isinstance(actor, Membership) else None
    document.reviewed_at = timezone.now()
    document.review_note = reason[:2000]
    document.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action=f"roster.document.{target}",
        target=document,
        data={
            "provider": str(document.provider_id),
            "kind": document.kind,
            "from": before,
            "to": target,
            "reason": reason,
        },
    )


def documents_bulk_accept(*, org, actor, document_ids) -> tuple[int, int]:
    """Accept every listed document still waiting for review; returns (accepted, skipped)."""
    require(actor, cap.CHANGE_ROSTER)
    ids = []
    for raw in document_ids:
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            continue
    accepted = 0
    with transaction.atomic():
        pending = (
            Document.objects.select_for_update()
            .filter(organization=org, pk__in=ids, status=DocumentStatus.PENDING_REVIEW)
            .order_by("created_at")
        )
        for document in pending:
            _decide(org, actor, document, "accept", "")
            accepted += 1
    return accepted, len(set(ids)) - accepted


# --- download -------------------------------------------------------------------------------
def document_download(*, org, actor, document: Document, inline: bool = False):
    """Record the download and open the stored file (the caller streams it)."""
    require(actor, cap.VIEW_ROSTER)
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action="roster.document.downloaded",
        target=document,
        data={
            "provider": str(document.provider_id),
            "kind": document.kind,
            "sha256": document.sha256,
            "disposition": "inline" if inline else "attachment",
        },
    )
    return document.file.open("rb")


def document_viewed(*, org, actor, document: Document) -> None:
    """Record a read of one document's metadata."""
    require(actor, cap.VIEW_ROSTER)
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action="roster.document.viewed",
        target=document,
        data={"provider": str(document.provider_id), "kind": document.kind},
    )


def provider_documents_viewed(*, org, actor, provider: Provider, via: str) -> None:
    """Record a read of a provider's document list (item 10: reads of provider files)."""
    require(actor, cap.VIEW_ROSTER)
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action="roster.provider.documents_viewed",
        target=provider,
        data={"via": via},
    )
