"""The purchase packet of a buyer on another system: a PDF with the signed receipt (cover),
the record's details and provenance, and its evidence (images embedded in the rendered pages,
PDF evidence appended page by page with pypdf), following the credential package's
conventions (verifications/packages/builder.py).

Pure with respect to the database: it takes the rows the view read and returns bytes.
"""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import timezone
from pypdf import PdfReader, PdfWriter

from verifications.packages.builder import css_string

logger = logging.getLogger(__name__)

IMAGE_TYPES = ("image/png", "image/jpeg")


@dataclass
class PacketEvidence:
    item: object
    kind: str  # "pdf", "image" or "excluded"
    pages: int = 0
    reader: PdfReader | None = None
    data_uri: str = ""
    problem: str = ""


def _load(item) -> PacketEvidence:
    try:
        with item.file.open("rb") as fh:
            data = fh.read()
        if item.content_type == "application/pdf":
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise ValueError("the PDF is password-protected")
            for page in reader.pages:
                page.mediabox  # noqa: B018 - a broken page tree fails here, not in the merge
            if not reader.pages:
                raise ValueError("the PDF has no pages")
            return PacketEvidence(item, "pdf", pages=len(reader.pages), reader=reader)
        if item.content_type in IMAGE_TYPES:
            encoded = base64.b64encode(data).decode()
            return PacketEvidence(
                item, "image", data_uri=f"data:{item.content_type};base64,{encoded}"
            )
        raise ValueError(f"unsupported file type {item.content_type}")
    except Exception as exc:  # an unreadable file is reported in the packet, never fatal
        logger.warning("purchase packet: evidence %s not included: %s", item.pk, exc)
        return PacketEvidence(item, "excluded", problem="the file is damaged or unreadable")


def build_order_packet(*, order, receipt_document: dict | None, record: dict, evidence) -> bytes:
    """The packet's bytes: rendered front pages, then every PDF evidence file's pages."""
    from django.utils.safestring import mark_safe
    from weasyprint import CSS, HTML

    loaded = [_load(item) for item in evidence]
    payload = (receipt_document or {}).get("payload") or {}
    context = {
        "order": order,
        "receipt": receipt_document,
        "payload": payload,
        "record": record,
        "evidence": loaded,
        "appended": [e for e in loaded if e.kind == "pdf"],
        "generated_at": timezone.now(),
        # Raw text inside the stylesheet's strings: css_string escapes quotes, backslashes, "<".
        "header_clinician": mark_safe(css_string(order.clinician_name)),  # noqa: S308
        "header_order": mark_safe(css_string(str(order.pk))),  # noqa: S308
    }
    # The stylesheet is handed over apart from the page (no <style> block in a template).
    html = render_to_string("exchange/receipts/packet_pdf.html", context)
    css = CSS(string=render_to_string("exchange/receipts/packet_pdf.css", context))
    front = HTML(string=html, base_url=".").render(stylesheets=[css])
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(front.write_pdf())), import_outline=False)
    writer.add_outline_item(title="Receipt", page_number=0)
    for e in loaded:
        if e.kind == "pdf":
            first = len(writer.pages)
            writer.append(e.reader, import_outline=False)
            writer.add_outline_item(title=f"Evidence: {e.item.original_name}", page_number=first)
    writer.add_metadata(
        {
            "/Title": f"Exchange purchase — {order.clinician_name}",
            "/Author": order.seller_name,
            "/Subject": f"Order {order.pk}",
            "/Creator": "CredEx",
        }
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
