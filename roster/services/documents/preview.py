"""A picture of a document's first page, for review pages that show the document beside what
was read from it: a PDF's page 1 rendered with pdftoppm (poppler-utils), an image re-encoded
as PNG. Bounded work: page 1 only, a size cap, a render timeout, a pixel cap; cached per
document (id and content hash) so a review page does not render again on every load."""

from __future__ import annotations

import io
import logging
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.cache import cache

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import NotFound
from roster.models import Document

logger = logging.getLogger(__name__)

# Pixels along the longer side of the picture: sharp in the review column at 2x, and bounded
# whatever the page's shape (a page 1 pt wide and 10,000 pt tall stays 1200 px tall).
PREVIEW_SIZE = 1200
RENDER_TIMEOUT = 15  # seconds pdftoppm may take for page 1
MAX_PIXELS = 40_000_000  # an image larger than this is not decoded
CACHE_SECONDS = 7 * 24 * 3600
NO_PREVIEW = "No preview of this document is available; open the document instead."


def _cache_key(document: Document) -> str:
    return f"document-preview:v1:{document.pk}:{document.sha256}"


def _max_bytes() -> int:
    return getattr(settings, "DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)


def _read(document: Document) -> bytes:
    if document.size > _max_bytes():
        raise NotFound(NO_PREVIEW)
    with document.file.open("rb") as fh:
        data = fh.read(_max_bytes() + 1)
    if len(data) > _max_bytes():
        raise NotFound(NO_PREVIEW)
    return data


def render_pdf_first_page(data: bytes) -> bytes:
    """Page 1 of a PDF as PNG, its longer side PREVIEW_SIZE; NotFound when poppler cannot."""
    with tempfile.TemporaryDirectory(prefix="credex-preview-") as tmp:
        source = Path(tmp) / "document.pdf"
        source.write_bytes(data)
        out = Path(tmp) / "page"
        try:
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-singlefile",
                    "-scale-to",
                    str(PREVIEW_SIZE),
                    str(source),
                    str(out),
                ],
                check=True,
                capture_output=True,
                timeout=RENDER_TIMEOUT,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            logger.warning("document preview: pdftoppm failed (%s)", type(exc).__name__)
            raise NotFound(NO_PREVIEW) from None
        png = out.with_suffix(".png")
        if not png.exists():
            raise NotFound(NO_PREVIEW)
        return png.read_bytes()


def render_image(data: bytes) -> bytes:
    """A PNG or JPEG re-encoded as PNG, its longer side at most PREVIEW_SIZE (no metadata)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise NotFound(NO_PREVIEW)
            image.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
            if image.mode not in ("RGB", "RGBA", "L", "LA"):
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=False)
            return out.getvalue()
    except NotFound:
        raise
    except Exception as exc:  # a file Pillow cannot decode has no preview
        logger.warning("document preview: image could not be decoded (%s)", type(exc).__name__)
        raise NotFound(NO_PREVIEW) from None


def _render(document: Document) -> bytes:
    data = _read(document)
    if document.content_type == "application/pdf":
        return render_pdf_first_page(data)
    if document.content_type in ("image/png", "image/jpeg"):
        return render_image(data)
    raise NotFound(NO_PREVIEW)


def document_preview(*, org, actor, document: Document) -> bytes:
    """The first page of `document` as PNG bytes; the view is audited like a download."""
    require(actor, cap.VIEW_ROSTER)
    if document.organization_id != org.pk:
        raise NotFound("Not found.")
    key = _cache_key(document)
    png = cache.get(key)
    cached = png is not None
    if not cached:
        png = _render(document)
        cache.set(key, png, CACHE_SECONDS)
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action="roster.document.previewed",
        target=document,
        data={
            "provider": str(document.provider_id),
            "kind": document.kind,
            "sha256": document.sha256,
            "cached": cached,
        },
    )
    return png
