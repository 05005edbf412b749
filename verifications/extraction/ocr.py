"""OCR through tesseract (pytesseract): images directly, scanned PDFs rendered with pypdfium2.

Available only when settings.OCR_ENABLED and the tesseract binary is found; otherwise the
extractor answers with the message the reviewer sees, and the app carries on without it.
"""

from __future__ import annotations

import functools
import io
import shutil
from dataclasses import replace

from django.conf import settings

from verifications.extraction.base import OCR_UNAVAILABLE, ExtractionOutput
from verifications.extraction.parsing import parse_fields

RENDER_DPI = 250
MAX_PAGES = 2
# OCR misreads more than a text layer: its values start less certain.
OCR_CONFIDENCE = 0.85


def tesseract_path() -> str | None:
    """The tesseract binary to use, or None when OCR is switched off or not installed."""
    if not getattr(settings, "OCR_ENABLED", True):
        return None
    return shutil.which(getattr(settings, "TESSERACT_CMD", "tesseract") or "tesseract")


def ocr_available() -> bool:
    return tesseract_path() is not None


@functools.lru_cache(maxsize=4)
def _version(path: str) -> str:
    import pytesseract

    pytesseract.pytesseract.tesseract_cmd = path
    try:
        return str(pytesseract.get_tesseract_version()).split()[0]
    except Exception:
        return "unknown"


def _images(data: bytes, content_type: str):
    from PIL import Image

    if content_type == "application/pdf":
        import pypdfium2

        pdf = pypdfium2.PdfDocument(data)
        try:
            for index in range(min(len(pdf), MAX_PAGES)):
                page = pdf[index]
                yield page.render(scale=RENDER_DPI / 72).to_pil().convert("L")
        finally:
            pdf.close()
        return
    image = Image.open(io.BytesIO(data))
    image.load()
    yield image.convert("L")


class OcrExtractor:
    """Tesseract on images and scanned PDFs."""

    name = "tesseract"

    @property
    def version(self) -> str:
        path = tesseract_path()
        return _version(path) if path else "unavailable"

    def handles(self, content_type: str, document_kind: str) -> bool:
        return content_type in ("application/pdf", "image/png", "image/jpeg")

    def extract(self, data: bytes, content_type: str, document_kind: str) -> ExtractionOutput:
        path = tesseract_path()
        if path is None:
            return ExtractionOutput(engine="none", usable=False, message=OCR_UNAVAILABLE)
        import pytesseract

        pytesseract.pytesseract.tesseract_cmd = path
        texts = [
            pytesseract.image_to_string(image, lang="eng", config="--psm 4")
            for image in _images(data, content_type)
        ]
        text = "\n".join(texts)
        chars = len("".join(text.split()))
        fields = {
            name: replace(value, confidence=round(value.confidence * OCR_CONFIDENCE, 2))
            for name, value in parse_fields(text, document_kind).items()
        }
        return ExtractionOutput(fields=fields, engine="ocr", text_chars=chars, text=text)
