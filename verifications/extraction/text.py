"""The PDF text layer: pdfplumber (keeps the line layout), pypdf when pdfplumber fails."""

from __future__ import annotations

import io
import logging

from verifications.extraction.base import ExtractionOutput
from verifications.extraction.parsing import parse_fields

logger = logging.getLogger(__name__)

# Fewer characters than this per page: a scanned page, not a text layer worth reading.
MIN_TEXT_CHARS = 40
MAX_PAGES = 5  # a declarations page or a license is one or two pages; skip the attachments


def pdf_text(data: bytes) -> tuple[str, int]:
    """(text of the first pages, page count); pypdf when pdfplumber cannot open the file."""
    try:
        import pdfplumber

        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = pdf.pages[:MAX_PAGES]
            text = "\n".join(
                page.extract_text(x_tolerance=1.5, y_tolerance=3) or "" for page in pages
            )
            return text, len(pdf.pages)
    except Exception:  # a damaged or unusual PDF: pypdf is more forgiving
        logger.info("pdfplumber could not read a PDF; trying pypdf", exc_info=True)
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() or "" for page in reader.pages[:MAX_PAGES])
    return text, len(reader.pages)


class TextLayerExtractor:
    """Reads PDFs that carry text; says "not usable" for scans so OCR gets its turn."""

    name = "text-layer"
    version = "1"

    def handles(self, content_type: str, document_kind: str) -> bool:
        return content_type == "application/pdf"

    def extract(self, data: bytes, content_type: str, document_kind: str) -> ExtractionOutput:
        text, pages = pdf_text(data)
        chars = len("".join(text.split()))
        if chars < MIN_TEXT_CHARS * max(1, min(pages, MAX_PAGES)) // 2:
            return ExtractionOutput(
                engine="text",
                text_chars=chars,
                usable=False,
                message="The PDF has no text layer (a scan).",
            )
        return ExtractionOutput(
            fields=parse_fields(text, document_kind), engine="text", text_chars=chars, text=text
        )
