"""The documents ZIP of an import: inspected before use, read by streaming, never trusted.

A ZIP states each entry's sizes, checksum and flags in its central directory, and every one of
those can lie. Two steps keep a hostile or damaged archive from costing more than a refusal:

- `inspect_archive(fileobj)` runs at upload on the central directory alone (no document is
  decompressed): the entry count and the directory's size are read from the end record before
  the directory is parsed; then every entry's name (no absolute path, no `..`, no backslash or
  control character, no duplicate), flags (no encryption), method (stored or deflated only:
  bzip2 and LZMA decompress a whole chunk at once, unbounded), kind (no link, no archive inside
  the archive), ratio (no zip bomb) and the declared total are checked. Any problem refuses the
  upload with one sentence (`ArchiveRefused`).
- `DocumentArchive.read(member)` reads one entry in chunks, stops at the per-document limit
  and at the archive's total budget whatever the entry declares, and turns every way a
  damaged entry fails (bad CRC, truncated data, a size that is not what was declared, a local
  header that disagrees with the directory) into `ArchiveRefused`. Only entries the CSV names
  are ever read; `bytes_read` counts the work done.
"""

from __future__ import annotations

import copy
import stat
import struct
import zipfile
import zlib

from django.conf import settings

CHUNK = 64 * 1024
SUPPORTED_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
# An archive inside the archive is refused by name here and by content when read (sniffing).
ARCHIVE_SUFFIXES = (".zip", ".7z", ".rar", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".zipx")
MAX_NAME_CHARS = 1024
# Bytes the central directory may take per entry (46 fixed + name + extra fields); a
# directory larger than the entry cap allows is refused before Python parses it.
DIRECTORY_BYTES_PER_ENTRY = 2048
# Entries below this size are not ratio-checked: a small file of text compresses well.
RATIO_FLOOR_BYTES = 1024 * 1024
DAMAGED = (
    "The documents ZIP is damaged ({detail}). Create the ZIP again from the original files "
    "and upload it with the CSV."
)


class ArchiveRefused(Exception):
    """The archive (or one entry of it) cannot be used; `message` says why, in one sentence."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def max_zip_entries() -> int:
    return int(getattr(settings, "IMPORT_MAX_ZIP_ENTRIES", 20_000))


def max_zip_uncompressed_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_ZIP_UNCOMPRESSED_BYTES", 1024 * 1024 * 1024))


def max_zip_ratio() -> int:
    return int(getattr(settings, "IMPORT_ZIP_MAX_RATIO", 100))


def max_document_bytes() -> int:
    return int(getattr(settings, "DOCUMENT_MAX_BYTES", 20 * 1024 * 1024))


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def _shown(name: str) -> str:
    printable = "".join(ch if ch.isprintable() else "?" for ch in name)
    return printable if len(printable) <= 80 else printable[:77] + "..."


# --- at upload: the central directory only -------------------------------------------------


def inspect_archive(fileobj) -> None:
    """Refuse (ArchiveRefused) an archive that is not safe to use; reads no document."""
    fileobj.seek(0)
    try:
        # The end record (what ZipFile itself reads first; private but stable since 2.x):
        # count and directory size, before the directory is parsed entry by entry.
        end = zipfile._EndRecData(fileobj)
    except (OSError, ValueError, struct.error, EOFError):
        end = None
    if end is None:
        raise ArchiveRefused("This is not a ZIP file. Zip the documents and try again.")
    entries, directory_size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    limit = max_zip_entries()
    if entries > limit or directory_size > limit * DIRECTORY_BYTES_PER_ENTRY:
        raise ArchiveRefused(
            f"The ZIP holds more than {limit:,} files. Put only the documents the CSV names in "
            "it, or split the import."
        )
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ArchiveRefused(DAMAGED.format(detail=_detail(exc)))
    except (struct.error, NotImplementedError, RuntimeError, IndexError) as exc:
        raise ArchiveRefused(DAMAGED.format(detail=_detail(exc)))
    finally:
        fileobj.seek(0)
    if len(infos) > limit:
        raise ArchiveRefused(
            f"The ZIP holds {len(infos):,} files; at most {limit:,} are accepted. Put only the "
            "documents the CSV names in it, or split the import."
        )
    _check_entries(infos)


def _check_entries(infos: list[zipfile.ZipInfo]) -> None:
    seen: set[str] = set()
    total = 0
    ratio = max_zip_ratio()
    for info in infos:
        name = info.filename
        problem = unsafe_name_problem(info.orig_filename)
        if problem:
            raise ArchiveRefused(
                f"The ZIP holds a file with an unsafe name ({_shown(info.orig_filename)}): "
                f"{problem} Zip the documents again from a folder."
            )
        if name in seen:
            raise ArchiveRefused(
                f"The ZIP holds two files named {_shown(name)}; each name must be unique."
            )
        seen.add(name)
        if info.flag_bits & 0x1 or info.flag_bits & 0x40:
            raise ArchiveRefused(
                f"{_shown(name)} is encrypted (password-protected) in the ZIP. Zip the "
                "documents without a password."
            )
        if info.is_dir():
            continue
        mode = info.external_attr >> 16
        if info.create_system == 3 and stat.S_ISLNK(mode):
            raise ArchiveRefused(
                f"{_shown(name)} is a link, not a file. Zip the documents themselves."
            )
        if info.compress_type not in SUPPORTED_METHODS:
            raise ArchiveRefused(
                f"{_shown(name)} is compressed with a method CredEx does not read (method "
                f"{info.compress_type}). Use your system's standard “Compress” or zip tool."
            )
        if name.lower().endswith(ARCHIVE_SUFFIXES) and not name.startswith("__MACOSX/"):
            raise ArchiveRefused(
                f"The ZIP holds another archive ({_shown(name)}). Unpack it and put its "
                "documents directly in one ZIP."
            )
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > ratio * max(
            info.compress_size, 1
        ):
            raise ArchiveRefused(
                f"{_shown(name)} claims to expand from {_mb(info.compress_size)} to "
                f"{_mb(info.file_size)} (more than {ratio}:1): this is not a scanned document. "
                "The ZIP is refused."
            )
        total += info.file_size
    cap = max_zip_uncompressed_bytes()
    if total > cap:
        raise ArchiveRefused(
            f"The ZIP's files add up to {_mb(total)} uncompressed; at most {_mb(cap)} are "
            "accepted. Split the import."
        )


def unsafe_name_problem(name: str) -> str | None:
    """Why an entry name is unsafe to act on (path traversal, absolute, odd characters)."""
    if not name:
        return "the name is empty."
    if len(name) > MAX_NAME_CHARS:
        return f"the name is longer than {MAX_NAME_CHARS:,} characters."
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "the name contains control characters."
    if "\\" in name:
        return "the name contains a backslash."
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "the name is an absolute path."
    if any(part == ".." for part in name.split("/")):
        return "the name climbs out of the ZIP (..)."
    return None


def _detail(exc: BaseException) -> str:
    text = str(exc).strip().rstrip(".")
    if "CRC" in text:
        return "a file's checksum does not match its contents"
    if isinstance(exc, EOFError) or "Truncated" in text or "truncated" in text:
        return "it is truncated"
    if isinstance(exc, zlib.error):
        return "a file's compressed data is corrupt"
    if "differ" in text:
        return "a file's name differs between the ZIP's directory and the file itself"
    if "Overlapped" in text or "overlap" in text:
        return "files overlap inside the ZIP"
    return _shown(text)[:120] or type(exc).__name__


# --- while checking and writing: one referenced entry at a time ----------------------------


class DocumentArchive:
    """An opened documents ZIP whose entries are read by streaming, with limits."""

    def __init__(self, zf: zipfile.ZipFile, *, total_limit: int | None = None):
        self.zip = zf
        self.total_limit = max_zip_uncompressed_bytes() if total_limit is None else total_limit
        self.bytes_read = 0  # every decompressed byte, for tests and benchmarks
        self._budget_used = 0  # distinct entries only: the writer re-reads what was checked
        self._counted: set[str] = set()

    def infolist(self) -> list[zipfile.ZipInfo]:
        return self.zip.infolist()

    def getinfo(self, member: str) -> zipfile.ZipInfo:
        return self.zip.getinfo(member)

    def read(self, member: str, *, limit: int | None = None) -> bytes:
        """The entry's bytes; ArchiveRefused (a sentence) if it is damaged or too large."""
        limit = max_document_bytes() if limit is None else limit
        info = self.zip.getinfo(member)
        if info.file_size > limit:
            raise ArchiveRefused(f"Larger than the {_mb(limit)} limit.")
        counted = member in self._counted
        # zipfile stops at the declared size and checks the CRC of what it returned, so an
        # entry that declares less than it holds would pass cut short. Opened with our own
        # ceiling instead, it decompresses to its real end (or our limit) and the CRC and the
        # size comparison below see everything it holds.
        ceiling = copy.copy(info)
        ceiling.file_size = limit + 1
        chunks, got = [], 0
        try:
            with self.zip.open(ceiling) as fh:
                while True:
                    chunk = fh.read(min(CHUNK, limit + 1 - got))
                    if not chunk:
                        break
                    got += len(chunk)
                    self.bytes_read += len(chunk)
                    if got > limit:
                        raise ArchiveRefused(f"Larger than the {_mb(limit)} limit.")
                    if not counted and self._budget_used + got > self.total_limit:
                        raise ArchiveRefused(
                            f"The documents the CSV names add up to more than "
                            f"{_mb(self.total_limit)} uncompressed. Split the import."
                        )
                    chunks.append(chunk)
        except ArchiveRefused:
            raise
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError) as exc:
            raise ArchiveRefused(_entry_damaged(exc))
        except (struct.error, NotImplementedError, RuntimeError, IndexError) as exc:
            raise ArchiveRefused(_entry_damaged(exc))
        if got != info.file_size:
            raise ArchiveRefused(
                f"The ZIP says this file holds {info.file_size:,} bytes but it holds {got:,}: "
                "the ZIP is damaged. Create it again from the original files."
            )
        if not counted:
            self._counted.add(member)
            self._budget_used += got
        return b"".join(chunks)


def _entry_damaged(exc: BaseException) -> str:
    return (
        f"This file is damaged inside the ZIP ({_detail(exc)}). Create the ZIP again from the "
        "original files and upload it with the CSV."
    )
