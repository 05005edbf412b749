"""What an uploaded file is, from its bytes (never its name or the client's content type):
PDF (pypdf opens it), PNG or JPEG; anything else is refused saying what it looks like."""

from __future__ import annotations

import io
import logging
import struct
from dataclasses import dataclass

from django.conf import settings

from credex.errors import DomainError, InvalidInput

logger = logging.getLogger(__name__)

ALLOWED = "Only PDF, PNG or JPEG files"


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    pages: int | None = None
    width: int | None = None
    height: int | None = None


def size_words(n: int) -> str:
    """'20 MB', '1.5 MB', '312 KB' (binary units, as file managers show them)."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"


def _refuse(message: str, code: str = "file_type") -> InvalidInput:
    return InvalidInput(message, details={"file": message}, code=code)


def _looks_like(data: bytes) -> str:
    """A plain description of what a refused file seems to be."""
    head = data[:512]
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"MZ"):
        return "a Windows program (EXE)"
    if head.startswith(b"\x7fELF"):
        return "a program (ELF executable)"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        if b"word/" in data[:4096]:
            return "a Word document (DOCX)"
        if b"xl/" in data[:4096]:
            return "an Excel spreadsheet (XLSX)"
        return "a ZIP archive"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an older Office document (DOC or XLS)"
    if head.startswith(b"GIF8"):
        return "a GIF image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        return "a HEIC photo (the iPhone camera format)"
    if head[4:8] == b"ftyp":
        return "a video or audio file"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "a TIFF image"
    if head.startswith(b"BM"):
        return "a BMP image"
    if head.startswith(b"\x1f\x8b"):
        return "a compressed (gzip) file"
    if head.startswith(b"Rar!") or head.startswith(b"7z\xbc\xaf"):
        return "a compressed archive (RAR or 7z)"
    if text.startswith(b"{\\rtf"):
        return "an RTF document"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<meta")):
        return "an HTML page"
    if b"<svg" in text[:300]:
        return "an SVG image"
    if text.startswith(b"<?xml"):
        return "an XML document"
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError:
        return "an unrecognised binary file"
    if all(ch.isprintable() or ch in "\r\n\t" for ch in decoded):
        return "a plain-text file"
    return "an unrecognised binary file"


def _sniff_pdf(data: bytes) -> Sniffed:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PdfStreamError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Permission-only encryption (no password needed to open) is common on
            # insurance paperwork and is fine; a password to open is not.
            from pypdf import PasswordType

            if reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                raise _refuse(
                    "This PDF is protected by a password. Save an unprotected copy "
                    "(print to PDF) and upload that.",
                    code="pdf_encrypted",
                )
        pages = len(reader.pages)
    except DomainError:
        raise
    except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, AttributeError) as exc:
        logger.info("unreadable PDF refused: %s", exc)
        raise _refuse(
            "This PDF is damaged or incomplete and cannot be opened. Export it again and "
            "upload the new copy.",
            code="pdf_broken",
        )
    except Exception as exc:  # pypdf raises assorted errors on hostile input
        logger.info("unreadable PDF refused: %r", exc)
        raise _refuse(
            "This PDF is damaged or incomplete and cannot be opened. Export it again and "
            "upload the new copy.",
            code="pdf_broken",
        )
    if pages < 1:
        raise _refuse("This PDF has no pages.", code="pdf_broken")
    return Sniffed("application/pdf", pages=pages)


def _sniff_png(data: bytes) -> Sniffed:
    # 8-byte signature, then the IHDR chunk: length 13, "IHDR", width, height (big-endian).
    if len(data) < 33 or data[12:16] != b"IHDR" or data[8:12] != b"\x00\x00\x00\x0d":
        raise _refuse("This PNG image is damaged (no image header).", code="image_broken")
    width, height = struct.unpack(">II", data[16:24])
    if not width or not height:
        raise _refuse("This PNG image is damaged (zero size).", code="image_broken")
    return Sniffed("image/png", width=width, height=height)


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _sniff_jpeg(data: bytes) -> Sniffed:
    """Walk the JPEG markers to a start-of-frame segment for the dimensions."""
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            break
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if length < 2:
            break
        if marker in _SOF and i + 9 <= n:
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            if width and height:
                return Sniffed("image/jpeg", width=width, height=height)
            break
        if marker == 0xDA:  # start of scan before any frame header
            break
        i += 2 + length
    raise _refuse("This JPEG image is damaged (no readable image header).", code="image_broken")


def sniff(data: bytes) -> Sniffed:
    """The document's type from its bytes (PDF, PNG or JPEG), or InvalidInput saying why not."""
    if not data:
        raise _refuse("The file is empty. Choose the document again and upload it.", "file_empty")
    if data.startswith(b"%PDF-"):
        return _sniff_pdf(data)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _sniff_png(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _sniff_jpeg(data)
    raise _refuse(
        f"{ALLOWED} — this file looks like {_looks_like(data)}. Save or scan it as a PDF, "
        "PNG or JPEG and upload that."
    )


def read_limited(upload) -> bytes:
    """The upload's bytes, refusing anything over DOCUMENT_MAX_BYTES before reading it all."""
    limit = settings.DOCUMENT_MAX_BYTES
    too_big = _refuse(
        f"This file is larger than the {size_words(limit)} limit. Upload a smaller copy "
        "(scan at a lower resolution or split it).",
        code="file_too_large",
    )
    if isinstance(upload, bytes | bytearray):
        if len(upload) > limit:
            raise too_big
        return bytes(upload)
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise too_big
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_big
    return data
