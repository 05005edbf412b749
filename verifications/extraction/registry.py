"""The extractors, in the order they are tried: settings-free, so a hosted model is added
here (one more class with `name`, `version`, `handles` and `extract`) behind the same review.

The first extractor that handles the document and returns a usable output wins; when none
does, the last output (e.g. "OCR is not available ...") is what the reviewer sees.
"""

from __future__ import annotations

from verifications.extraction.base import ExtractionOutput, Extractor, label_of
from verifications.extraction.ocr import OcrExtractor
from verifications.extraction.text import TextLayerExtractor

EXTRACTORS: list[Extractor] = [TextLayerExtractor(), OcrExtractor()]


def extractors_for(content_type: str, document_kind: str) -> list[Extractor]:
    return [e for e in EXTRACTORS if e.handles(content_type, document_kind)]


def run_extractors(
    data: bytes, content_type: str, document_kind: str
) -> tuple[str, ExtractionOutput]:
    """(label of the extractor whose output counts, its output)."""
    label, output = "none:0", ExtractionOutput(message="No extractor reads this kind of file.")
    for extractor in extractors_for(content_type, document_kind):
        label, output = label_of(extractor), extractor.extract(data, content_type, document_kind)
        if output.usable:
            break
    return label, output
