"""The extractor contract: bytes in, suggested credential fields out.

An extractor never writes anything; what it returns becomes an ExtractionSuggestion that a
member approves, corrects or rejects. A hosted model can be added later as one more
extractor in the registry, behind the same review step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

# The fields every extractor may suggest. `name` is the name printed on the document: shown
# to the reviewer and checked against the provider, never written to the credential.
FIELD_NAMES = ("expiry_date", "issue_date", "number", "issuer", "state", "name")
FIELD_LABELS = {
    "expiry_date": "Expiration date",
    "issue_date": "Issue date",
    "number": "Number",
    "issuer": "Issuing authority",
    "state": "State",
    "name": "Name on the document",
}
DATE_FIELDS = ("expiry_date", "issue_date")

# Document kinds worth reading (roster.models.DocumentKind values) and the credential kind
# each one describes.
CREDENTIAL_KIND_FOR = {
    "license": "state_license",
    "dea": "dea",
    "cds": "cds",
    "board_cert": "board_cert",
    "malpractice": "malpractice",
}
EXTRACTABLE_KINDS = frozenset(CREDENTIAL_KIND_FOR)

OCR_UNAVAILABLE = "OCR is not available on this server; enter the values by hand."


@dataclass(frozen=True)
class FieldValue:
    """One suggested value: text (dates as ISO YYYY-MM-DD), 0..1 confidence, where it was read."""

    value: str
    confidence: float
    snippet: str = ""

    def as_json(self) -> dict:
        return {
            "value": self.value,
            "confidence": round(float(self.confidence), 2),
            "snippet": self.snippet[:200],
        }


@dataclass
class ExtractionOutput:
    """What one extractor read from one document.

    `engine` is "text" (PDF text layer), "ocr" or "none" (nothing could be read); `usable`
    is False when the extractor could not do its job (no text layer, OCR missing) so the
    next extractor in the registry gets a turn.
    """

    fields: dict[str, FieldValue] = field(default_factory=dict)
    engine: str = "none"
    text_chars: int = 0
    message: str = ""
    usable: bool = True
    text: str = ""  # kept in memory only (never stored: it may hold more than the credential)


@runtime_checkable
class Extractor(Protocol):
    name: str
    version: str

    def handles(self, content_type: str, document_kind: str) -> bool: ...

    def extract(self, data: bytes, content_type: str, document_kind: str) -> ExtractionOutput: ...


def label_of(extractor: Extractor) -> str:
    """How a suggestion names its extractor: "text-layer:1", "tesseract:5.3.0"."""
    return f"{extractor.name}:{extractor.version}"[:60]
