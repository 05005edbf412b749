"""Render the front matter, load the documents, merge, and write the outline."""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from pypdf import PdfReader, PdfWriter

from verifications.packages.images import image_to_pdf

logger = logging.getLogger(__name__)

# Top-level sections of the front matter, in order: (anchor id, bookmark title).
FRONT_SECTIONS = [
    ("cover", "Cover"),
    ("contents", "Contents"),
    ("credentials", "Credentials summary"),
    ("psv", "Primary-source verification log"),
    ("screening", "Screening status"),
    ("committee", "Committee decision"),
]
DOCUMENTS_TITLE = "Documents"


@dataclass
class Attachment:
    """One document ready to append: its pages and the title of its bookmark."""

    document: object
    title: str
    reader: PdfReader
    pages: int
    first_page: int = 0  # 1-based page in the package, set once the front matter is laid out


@dataclass
class BuiltPackage:
    pdf: bytes
    sha256: str
    page_count: int
    sections: list[dict]
    missing: list[dict]
    excluded: list[dict] = field(default_factory=list)


def _title(document) -> str:
    label = document.get_kind_display()
    credential = getattr(document, "credential", None) if document.credential_id else None
    if credential is not None:
        extra = " ".join(p for p in (credential.state, credential.number) if p)
        if extra:
            label += f" — {extra}"
    return label


def _load(document) -> PdfReader:
    """The document as a PDF reader (an image becomes one Letter page). Raises on bad files."""
    with document.file.open("rb") as fh:
        data = fh.read()
    if document.content_type == "application/pdf":
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ValueError("the PDF is password-protected")
        if len(reader.pages) == 0:
            raise ValueError("the PDF has no pages")
        # Touch every page now, so a broken page tree fails here rather than in the merge.
        for page in reader.pages:
            page.mediabox  # noqa: B018
        return reader
    if document.content_type in ("image/png", "image/jpeg"):
        return PdfReader(io.BytesIO(image_to_pdf(data)))
    raise ValueError(f"unsupported file type {document.content_type}")


def load_attachments(documents, progress: Callable | None = None):
    """(attachments, excluded): documents that load, and those that could not be included."""
    attachments, excluded = [], []
    for i, document in enumerate(documents, start=1):
        if progress:
            progress("reading documents", i, len(documents))
        title = _title(document)
        try:
            reader = _load(document)
        except Exception as exc:  # any unreadable file is reported, never fatal
            logger.warning("package: document %s not included: %s", document.pk, exc)
            excluded.append(
                {
                    "category": "document",
                    "message": f"{title} ({document.original_name}) could not be included: "
                    "the file is damaged or unreadable. Upload a new copy.",
                }
            )
            continue
        attachments.append(Attachment(document, title, reader, len(reader.pages)))
    return attachments, excluded


def css_string(value: str) -> str:
    """Text safe inside a CSS double-quoted string in a <style> element."""
    value = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return value.replace("<", "\\3c ").replace("\n", " ").replace("\r", " ")


def _render(content, package_id, attachments, missing, total: int | None):
    from django.utils.safestring import mark_safe
    from weasyprint import HTML

    html = render_to_string(
        "verifications/package_pdf/front.html",
        {
            "c": content,
            "org": content.org,
            "provider": content.provider,
            "package_id": package_id,
            "attachments": attachments,
            "missing": missing,
            "total_pages": total if total is not None else "000",
            "sections": FRONT_SECTIONS,
            # Raw text inside <style>: css_string escapes quotes, backslashes and "<".
            "header_org": mark_safe(css_string(content.org.name)),  # noqa: S308
            "header_provider": mark_safe(css_string(content.provider.full_name)),  # noqa: S308
        },
    )
    return HTML(string=html, base_url=".").render()


def _front_pages(document) -> dict[str, int]:
    """{anchor: 0-based page index} of each top-level section, from WeasyPrint's anchors."""
    found = {}
    for index, page in enumerate(document.pages):
        for anchor in page.anchors:
            if anchor in dict(FRONT_SECTIONS) and anchor not in found:
                found[anchor] = index
    return found


def build_package_pdf(content, *, package_id, progress: Callable | None = None) -> BuiltPackage:
    """Build the whole package: front matter, documents, outline; return the bytes."""
    attachments, excluded = load_attachments(content.documents, progress)
    missing = [*content.missing, *excluded]
    attached_pages = sum(a.pages for a in attachments)
    if progress:
        progress("laying out the front matter", 0, 0)
    # Pass 1 finds how long the front matter is; pass 2 prints the real page numbers
    # (contents and "Page X of Y"), which have the same width as the placeholders.
    draft = _render(content, package_id, attachments, missing, None)
    front = len(draft.pages)
    for _ in range(2):
        start = front + 1
        for a in attachments:
            a.first_page, start = start, start + a.pages
        final = _render(content, package_id, attachments, missing, front + attached_pages)
        if len(final.pages) == front:
            break
        front = len(final.pages)
    anchors = _front_pages(final)
    front_pdf = PdfReader(io.BytesIO(final.write_pdf()))

    writer = PdfWriter()
    writer.append(front_pdf, import_outline=False)
    for i, a in enumerate(attachments, start=1):
        if progress:
            progress("adding documents", i, len(attachments))
        writer.append(a.reader, import_outline=False)

    sections = []
    for anchor, title in FRONT_SECTIONS:
        if anchor in anchors:
            writer.add_outline_item(title=title, page_number=anchors[anchor])
            sections.append({"title": title, "page": anchors[anchor] + 1, "level": 1})
    if attachments:
        parent = writer.add_outline_item(
            title=DOCUMENTS_TITLE, page_number=attachments[0].first_page - 1
        )
        sections.append({"title": DOCUMENTS_TITLE, "page": attachments[0].first_page, "level": 1})
        for a in attachments:
            writer.add_outline_item(title=a.title, page_number=a.first_page - 1, parent=parent)
            sections.append({"title": a.title, "page": a.first_page, "level": 2})
    writer.page_mode = "/UseOutlines"
    writer.add_metadata(
        {
            "/Title": f"Credential package — {content.provider.full_name}",
            "/Author": content.org.name,
            "/Subject": f"Package {package_id}",
            "/Creator": "CredEx",
        }
    )
    if progress:
        progress("saving", 0, 0)
    out = io.BytesIO()
    writer.write(out)
    pdf = out.getvalue()
    return BuiltPackage(
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        page_count=len(writer.pages),
        sections=sections,
        missing=missing,
        excluded=excluded,
    )
