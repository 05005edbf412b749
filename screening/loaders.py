"""Loaders for the OIG LEIE and SAM.gov exclusion files (global reference data).

`load_dataset(source=..., origin=PATH_OR_URL)` reads the file, checks it completely, then
bulk-loads it with COPY and makes it the active version in one transaction:

1. fetch: a local path or an http(s) URL (a SAM .ZIP is opened; its one CSV is read);
2. decode: UTF-8 only (plain ASCII, which every LEIE file we have seen is, is UTF-8; a
   byte-order mark is dropped). Anything else is rejected naming the line and the byte:
   guessing Latin-1 would silently turn names into mojibake that never match;
3. parse with the csv module (never by position on the raw line), strict quoting: the
   header must equal the published one exactly, every row must have exactly as many
   columns, a quote left open at the end (a truncated download) is an error, and every
   date must parse. The first problem stops the load with its line number;
4. COPY the rows under a new, inactive DatasetVersion (the new version's rows are the
   staging area: screening reads only the active version), apply a supplement, then flip
   the active flag. All of it is one transaction, so a failure anywhere leaves the
   previous version active and no row of the new one behind.

Supplements (LEIE only) make a complete new version too: the active version's rows copied
(INSERT ... SELECT in the database) plus the new exclusions (rows already present are
skipped, so a supplement applied twice adds nothing), or with the reinstated records
marked (REINDATE set: no longer screened, and a confirmed hit on one surfaces).

The as-of date never goes back: a supplement older than the active version is refused (the
newer list already holds its changes; an old exclusion file would bring back exclusions that
have ended), and a supplement that applies none of its rows loads with a warning
(`LoadResult.warnings`, kept on the version). A version lists the files it is made of
(`DatasetVersion.files`: name, kind, as-of date, rows applied), and each LEIE record the file
it was read from (`file_index`) beside its `line`, so a hit can say "LEIE file X, line N".
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import io
import re
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.services import Actor, audit_record
from credex.errors import InvalidInput
from screening.models import DatasetKind, DatasetVersion, Source
from screening.normalize import business_key, first_name_key, last_name_keys

LEIE_HEADER = (
    "LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,ZIP,"
    "EXCLTYPE,EXCLDATE,REINDATE,WAIVERDATE,WVRSTATE"
).split(",")
SAM_HEADER = [
    "Classification",
    "Name",
    "Prefix",
    "First",
    "Middle",
    "Last",
    "Suffix",
    "Address 1",
    "Address 2",
    "Address 3",
    "Address 4",
    "City",
    "State / Province",
    "Country",
    "Zip Code",
    "Open Data Flag",
    "Blank (Deprecated)",
    "Unique Entity ID",
    "Exclusion Program",
    "Excluding Agency",
    "CT Code",
    "Exclusion Type",
    "Additional Comments",
    "Active Date",
    "Termination Date",
    "Record Status",
    "Cross-Reference",
    "SAM Number",
    "CAGE",
    "NPI",
    "Creation_Date",
]
# The V1 public extract (SAM_Exclusions_Public_Extract_YYDDD, until the UEI replaced DUNS in
# April 2022): 28 columns, DUNS where V2 has Open Data Flag / Blank (Deprecated) / Unique
# Entity ID, and no Creation_Date. Later V1 files added Creation_Date (30 columns).
SAM_V1_HEADER = [*SAM_HEADER[:15], "DUNS", *SAM_HEADER[18:30]]
SAM_V1_CREATED_HEADER = [*SAM_V1_HEADER, "Creation_Date"]

# Database columns in COPY order (after version_id, line, record_key, record_hash).
LEIE_COLUMNS = [
    "lastname",
    "firstname",
    "midname",
    "busname",
    "general",
    "specialty",
    "upin",
    "npi",
    "dob",
    "address",
    "city",
    "state",
    "zip",
    "excltype",
    "excldate",
    "reindate",
    "waiverdate",
    "wvrstate",
]
SAM_COLUMNS = [
    "classification",
    "name",
    "prefix",
    "first",
    "middle",
    "last",
    "suffix",
    "address_1",
    "address_2",
    "address_3",
    "address_4",
    "city",
    "state_province",
    "country",
    "zip_code",
    "open_data_flag",
    "blank_deprecated",
    "unique_entity_id",
    "exclusion_program",
    "excluding_agency",
    "ct_code",
    "exclusion_type",
    "additional_comments",
    "active_date",
    "termination_date",
    "record_status",
    "cross_reference",
    "sam_number",
    "cage",
    "npi",
    "creation_date",
]
KEY_COLUMNS = ["norm_first", "norm_lasts", "norm_business"]
LEIE_DATES = {"dob", "excldate", "reindate", "waiverdate"}
SAM_DATES = {"active_date", "termination_date", "creation_date"}
# Header name per database column (record snapshots use the published names).
LEIE_LABELS = dict(zip(LEIE_COLUMNS, LEIE_HEADER, strict=True))
SAM_LABELS = dict(zip(SAM_COLUMNS, SAM_HEADER, strict=True))

TABLES = {Source.LEIE: "screening_leierecord", Source.SAM: "screening_samrecord"}


class DatasetError(InvalidInput):
    """A file that cannot be loaded; `details` names the line (and column) when known."""

    code = "invalid_dataset"


@dataclass
class Fetched:
    data: bytes
    filename: str
    origin: str
    last_modified: date | None = None
    archive_name: str = ""  # the ZIP's own name, when the CSV came out of one


@dataclass
class LoadResult:
    version: DatasetVersion
    created: bool  # False: this exact file was already the active version
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


# --- fetching and decoding -------------------------------------------------------------


def fetch(origin: str) -> Fetched:
    """Bytes of a local file or an http(s) URL; a ZIP's single CSV member is unpacked."""
    origin = str(origin)
    if re.match(r"^https?://", origin, re.IGNORECASE):
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
            origin, headers={"User-Agent": "CredEx screening"}
        )
        try:
            with urllib.request.urlopen(  # noqa: S310 - http(s) only, checked above
                request, timeout=getattr(settings, "SCREENING_DOWNLOAD_TIMEOUT_SECONDS", 120)
            ) as response:
                data = response.read()
                modified = response.headers.get("Last-Modified")
        except urllib.error.HTTPError as exc:
            raise DatasetError(f"Could not download {origin}: HTTP {exc.code} {exc.reason}.")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DatasetError(f"Could not download {origin}: {reason}.")
        last_modified = None
        if modified:
            try:
                last_modified = parsedate_to_datetime(modified).date()
            except (TypeError, ValueError):
                last_modified = None
        name = origin.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
        fetched = Fetched(data, name, origin, last_modified)
    else:
        path = Path(origin)
        try:
            fetched = Fetched(path.read_bytes(), path.name, str(path.resolve()))
        except OSError as exc:
            raise DatasetError(f"Could not read {origin}: {exc.strerror or exc}.")
    if fetched.data[:4] == b"PK\x03\x04":
        fetched = _unzip(fetched)
    return fetched


def _unzip(fetched: Fetched) -> Fetched:
    try:
        archive = zipfile.ZipFile(io.BytesIO(fetched.data))
    except zipfile.BadZipFile:
        raise DatasetError(f"{fetched.filename} looks like a ZIP file but cannot be opened.")
    members = [n for n in archive.namelist() if n.lower().endswith(".csv")]
    if len(members) != 1:
        raise DatasetError(
            f"{fetched.filename} should hold exactly one .csv file; it holds {len(members)}."
        )
    return Fetched(
        archive.read(members[0]),
        members[0].rsplit("/", 1)[-1],
        fetched.origin,
        None,
        archive_name=fetched.filename,
    )


def decode(data: bytes) -> str:
    """UTF-8 text (BOM dropped); otherwise a DatasetError naming the line and byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DatasetError(
            f"Line {line}: byte 0x{data[exc.start]:02X} at column {column} is not valid "
            "UTF-8. Exclusion files are read as UTF-8 (plain ASCII is fine); re-download "
            "the file or convert it to UTF-8.",
            details={"line": line, "column": column},
        )


# --- parsing -----------------------------------------------------------------------------


def iter_rows(text: str, header: list[str], *, label: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, values) for every data row, after checking the header exactly."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        found = next(reader, None)
    except csv.Error as exc:
        raise DatasetError(
            f"Line 1: the header cannot be read ({exc}).", details={"line": reader.line_num}
        )
    if found is None:
        raise DatasetError(
            f"Line 1: the file is empty; expected the {label} header.", details={"line": 1}
        )
    if found != header:
        raise DatasetError(_header_problem(found, header, label), details={"line": 1})
    width = len(header)
    last_line = reader.line_num
    while True:
        start = last_line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DatasetError(
                f"Line {start}: the row cannot be read ({exc}); the file may be truncated "
                "or a quote is not closed.",
                details={"line": start},
            )
        last_line = reader.line_num
        if not row:
            continue  # a blank line
        if len(row) != width:
            raise DatasetError(
                f"Line {start}: expected {width} columns, found {len(row)}; the file may be "
                "truncated or not a " + label + " file.",
                details={"line": start, "columns": len(row)},
            )
        yield start, row


def _header_problem(found: list[str], header: list[str], label: str) -> str:
    if len(found) != len(header):
        return (
            f"Line 1: the {label} header has {len(header)} columns, this file's has "
            f"{len(found)}. Expected: {','.join(header)}"
        )
    for position, (got, want) in enumerate(zip(found, header, strict=True), start=1):
        if got != want:
            return (
                f"Line 1: header column {position} is {got!r}; the {label} header has "
                f"{want!r} there."
            )
    return f"Line 1: not the {label} header."


_DATE_EXPECTED = {
    "leie": "YYYYMMDD (00000000 for none)",
    "leie_dob": "YYYYMMDD or MM/DD/YY (00000000 for none)",
    "sam": "MM/DD/YYYY",
    "sam_end": "MM/DD/YYYY or Indefinite",
    "sam_created": "YYYY-MM-DD or MM/DD/YYYY",
}


class _Dates:
    """Published date text -> ISO text ("" for none), cached: a few thousand dates repeat
    across the rows. ISO text is what COPY reads; "" in a date column is read as NULL."""

    def __init__(self, kind: str):
        self.kind = kind
        self.cache: dict[str, str] = (
            {"": "", "00000000": ""} if kind.startswith("leie") else {"": ""}
        )
        self.get = self.cache.get
        self.year = timezone.localdate().year

    def parse(self, raw: str, *, line: int, column: str) -> str:
        value = self._parse(raw)
        if value is None:
            raise DatasetError(
                f"Line {line}, column {column}: {raw!r} is not a date "
                f"(expected {_DATE_EXPECTED[self.kind]}).",
                details={"line": line, "column": column},
            )
        self.cache[raw] = value
        return value

    def _parse(self, raw: str) -> str | None:
        kind = self.kind
        try:
            if kind.startswith("leie") and len(raw) == 8 and raw.isdigit():
                return date(int(raw[:4]), int(raw[4:6]), int(raw[6:])).isoformat()
            if kind == "leie_dob" and re.fullmatch(r"\d{2}/\d{2}/\d{2}", raw):
                # The old files' two-digit years: nobody on the list is under 15 years old.
                yy = int(raw[6:])
                year = 2000 + yy if 2000 + yy <= self.year - 15 else 1900 + yy
                return date(year, int(raw[:2]), int(raw[3:5])).isoformat()
            if kind.startswith("sam") and re.fullmatch(r"\d{2}/\d{2}/\d{4}", raw):
                return datetime.strptime(raw, "%m/%d/%Y").date().isoformat()
            if kind == "sam_created" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
                return date.fromisoformat(raw).isoformat()
        except ValueError:
            return None
        return None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def leie_records(text: str) -> Iterator[list]:
    """Database rows (line, key, hash, 18 columns, 3 keys) of an LEIE file; raises on errors.

    Values are trimmed; dates become ISO text ("" for 00000000 or empty); an NPI of
    0000000000 becomes "". The record key identifies the exclusion action (names, DOB,
    statute, exclusion date: stable across months, quoting and padding); the record hash
    covers every value, so any change to the record makes a new hash.
    """
    dob_dates, other_dates = _Dates("leie_dob"), _Dates("leie")
    dob_of, date_of = dob_dates.get, other_dates.get
    for line, raw in iter_rows(text, LEIE_HEADER, label="LEIE"):
        v = list(map(str.strip, raw))
        if not v[7].strip("0"):
            v[7] = ""  # NPI 0000000000: none
        x = dob_of(v[8])
        v[8] = x if x is not None else dob_dates.parse(v[8], line=line, column="DOB")
        for i, column in ((14, "EXCLDATE"), (15, "REINDATE"), (16, "WAIVERDATE")):
            x = date_of(v[i])
            v[i] = x if x is not None else other_dates.parse(v[i], line=line, column=column)
        key = _digest("\x1f".join((v[0], v[1], v[2], v[3], v[8], v[13].upper(), v[14])))
        record_hash = _digest("\x1f".join(v))
        for i in (8, 14, 15, 16):
            if not v[i]:
                v[i] = None  # NULL
        last = v[0]
        yield [
            line,
            key,
            record_hash,
            *v,
            first_name_key(v[1]),
            "|".join(last_name_keys(last)) if last else "",
            business_key(v[3]) if v[3] else "",
        ]


@dataclass
class SamLayout:
    name: str  # "v2", "v1", "v1_created"
    label: str
    header: list[str]
    # For each V2 column, the index of the file's column holding it (None: not in this layout).
    positions: list[int | None]
    duns: int | None  # the file's DUNS column (V1 only)


def _positions(header: list[str]) -> list[int | None]:
    return [header.index(name) if name in header else None for name in SAM_HEADER]


SAM_LAYOUTS = [
    SamLayout("v2", "SAM exclusions extract V2", SAM_HEADER, list(range(31)), None),
    SamLayout(
        "v1",
        "SAM exclusions extract V1",
        SAM_V1_HEADER,
        _positions(SAM_V1_HEADER),
        SAM_V1_HEADER.index("DUNS"),
    ),
    SamLayout(
        "v1_created",
        "SAM exclusions extract V1 (with Creation_Date)",
        SAM_V1_CREATED_HEADER,
        _positions(SAM_V1_CREATED_HEADER),
        SAM_V1_CREATED_HEADER.index("DUNS"),
    ),
]


@dataclass
class SamStats:
    """What the loader learns while the rows stream in (for the as-of check and the audit)."""

    layout: str = ""
    newest_created: date | None = None
    explicit_as_of: bool = False


def sam_layout(text: str) -> SamLayout:
    """The published layout whose header the file has (V2, or a V1 extract from before the
    UEI); otherwise a DatasetError naming what differs from the V2 header."""
    try:
        found = next(csv.reader(io.StringIO(text, newline=""), strict=True), None)
    except csv.Error:
        found = None  # iter_rows reports it with its line number
    for layout in SAM_LAYOUTS:
        if found == layout.header:
            return layout
    if found and "DUNS" in found and "Unique Entity ID" not in found:
        raise DatasetError(
            "Line 1: this looks like a V1 SAM extract (with DUNS, from before 2022) but its "
            "header is not the published V1 header: "
            f"{_header_problem(found, SAM_V1_HEADER, 'V1').removeprefix('Line 1: ')}"
            " Download the current V2 extract (SAM_Exclusions_Public_Extract_V2_YYDDD.ZIP).",
            details={"line": 1},
        )
    return SAM_LAYOUTS[0]  # iter_rows names the difference from the V2 header


def sam_records(text: str, stats: SamStats | None = None) -> Iterator[list]:
    """Database rows of a SAM exclusions extract (V2, or a V1 extract); raises on errors.

    A V1 row is mapped onto the V2 columns by header name: its DUNS goes to `duns`, and the
    columns V1 never had (Unique Entity ID, Open Data Flag, Creation_Date) stay empty.
    The record key is the SAM Number (a hash of the identifying values when it is empty).
    "Indefinite" termination: no date, and termination_indefinite set.
    """
    stats = stats if stats is not None else SamStats()
    layout = sam_layout(text)
    stats.layout = layout.name
    v2 = layout.name == "v2"
    positions, duns_at = layout.positions, layout.duns
    active_dates, end_dates, created_dates = _Dates("sam"), _Dates("sam_end"), _Dates("sam_created")
    active_of, end_of, created_of = active_dates.get, end_dates.get, created_dates.get
    newest = ""
    for line, raw in iter_rows(text, layout.header, label=layout.label):
        if v2:
            v = list(map(str.strip, raw))
            duns = ""
        else:
            v = [raw[i].strip() if i is not None else "" for i in positions]
            duns = raw[duns_at].strip()
        x = active_of(v[23])
        v[23] = x if x is not None else active_dates.parse(v[23], line=line, column="Active Date")
        indefinite = v[24].lower() == "indefinite"
        if indefinite:
            v[24] = "Indefinite"
        else:
            x = end_of(v[24])
            v[24] = (
                x if x is not None else end_dates.parse(v[24], line=line, column="Termination Date")
            )
        x = created_of(v[30])
        v[30] = (
            x if x is not None else created_dates.parse(v[30], line=line, column="Creation_Date")
        )
        if v[30] > newest:
            newest = v[30]
        # V2 hashes stay exactly what they were (a cleared hit is keyed on the hash).
        record_hash = _digest("\x1f".join([*v, duns] if duns else v))
        for i in (23, 24, 30):
            if not v[i] or v[i] == "Indefinite":
                v[i] = None  # NULL; "Indefinite" is the termination_indefinite flag
        sam_number = v[27]
        if sam_number:
            key = "SAM:" + sam_number
        else:
            identity = (v[0], v[1], v[3], v[4], v[5], v[17] or duns, v[23] or "", v[21])
            key = "H:" + _digest("\x1f".join(identity))
        individual = v[0] == "Individual" or (v[5] and not v[1])
        yield [
            line,
            key,
            record_hash,
            *v[:25],
            indefinite,
            *v[25:],
            duns,
            first_name_key(v[3]) if individual else "",
            "|".join(last_name_keys(v[5])) if individual and v[5] else "",
            business_key(v[1]) if not individual else "",
        ]
    stats.newest_created = date.fromisoformat(newest) if newest else None


# --- loading -----------------------------------------------------------------------------

_LEIE_NAME = re.compile(r"(?:^|[^0-9])(\d{2})(\d{2})(EXCL|REIN)\.csv$", re.IGNORECASE)
_LEIE_OLD_NAME = re.compile(r"^(excl|rein)(\d{2})(\d{2})\.csv$", re.IGNORECASE)
_SAM_JULIAN = re.compile(r"_(\d{2})(\d{3})\.(?:zip|csv)$", re.IGNORECASE)
_ISO_IN_NAME = re.compile(r"(?:^|[^0-9])(\d{4}-\d{2}-\d{2})(?:[^0-9]|$)")


def guess_kind_and_date(source: str, filename: str) -> tuple[str, date | None]:
    """The kind (full or supplement) and as-of date the file's name announces, if any."""
    if source == Source.LEIE:
        m = _LEIE_NAME.search(filename)
        if m:
            yy, mm, what = m.groups()
        else:
            m = _LEIE_OLD_NAME.match(filename)
            if not m:
                return DatasetKind.FULL, None
            what, yy, mm = m.groups()
        kind = DatasetKind.EXCLUSIONS if what.upper() == "EXCL" else DatasetKind.REINSTATEMENTS
        try:
            return kind, date(2000 + int(yy), int(mm), 1)
        except ValueError:
            return kind, None
    return DatasetKind.FULL, sam_name_date(filename)


def sam_name_date(filename: str) -> date | None:
    """The date a SAM extract's name carries: GSA's `_YYDDD` (year and day of the year, as in
    SAM_Exclusions_Public_Extract_V2_23326.ZIP), or an ISO `YYYY-MM-DD` someone renamed it with."""
    m = _SAM_JULIAN.search(filename)
    if m:
        yy, day = int(m.group(1)), int(m.group(2))
        start = date(2000 + yy, 1, 1)
        if 1 <= day <= (366 if calendar.isleap(start.year) else 365):
            return start + timedelta(days=day - 1)
    m = _ISO_IN_NAME.search(filename)
    if m:
        try:
            return date.fromisoformat(m.group(1))
        except ValueError:
            return None
    return None


def sam_as_of(fetched: Fetched, as_of: date | None, stats: SamStats) -> date:
    """The as-of date of a SAM extract: given explicitly, else from the file's (or its ZIP's)
    name, else the Last-Modified date of a download. A local file whose name carries no date
    is refused: the loading day is not the list's date, and neither are its records' dates
    (the newest Active Date is the newest exclusion, which may be weeks old or in the future).
    """
    today = timezone.localdate()
    stats.explicit_as_of = as_of is not None
    if as_of is None:
        as_of = (
            sam_name_date(fetched.filename)
            or (sam_name_date(fetched.archive_name) if fetched.archive_name else None)
            or fetched.last_modified
        )
    if as_of is None:
        raise DatasetError(
            f"{fetched.archive_name or fetched.filename} carries no date in its name, so the "
            "date of the list is unknown. Give it: `load_exclusions --source sam --as-of "
            "YYYY-MM-DD ...` (the day GSA published the extract), or keep GSA's file name "
            "(SAM_Exclusions_Public_Extract_V2_YYDDD.ZIP).",
            details={"as_of": "required"},
        )
    if as_of > today + timedelta(days=1):  # a day of slack: GSA's day is not ours
        raise DatasetError(
            f"As of {as_of.isoformat()} is in the future; give the day GSA published the extract.",
            details={"as_of": "future"},
        )
    return as_of


def _check_sam_as_of(as_of: date, stats: SamStats) -> None:
    """A date given by hand cannot be before the newest record the file holds was created
    (a day of slack: Creation_Date is GSA's day, not ours). Catches a mistyped --as-of; a
    date from GSA's own file name is taken as published."""
    if (
        stats.explicit_as_of
        and stats.newest_created
        and as_of < stats.newest_created - timedelta(days=1)
    ):
        raise DatasetError(
            f"As of {as_of.isoformat()} is before the newest record in the file (Creation_Date "
            f"{stats.newest_created.isoformat()}); check the --as-of date.",
            details={"as_of": "before_newest_record"},
        )


def _columns(source: str) -> list[str]:
    if source == Source.LEIE:
        return ["line", "record_key", "record_hash", *LEIE_COLUMNS, *KEY_COLUMNS, "file_index"]
    return [
        "line",
        "record_key",
        "record_hash",
        *SAM_COLUMNS[:25],
        "termination_indefinite",
        *SAM_COLUMNS[25:],
        "duns",
        *KEY_COLUMNS,
    ]


def _copy(cursor, table: str, columns: list[str], version_id, records: Iterator[list]) -> int:
    """Stream the rows into the table with COPY (text format, rows formatted by psycopg);
    returns the number of rows. A DatasetError raised by the parser aborts the COPY, and
    the caller's transaction rolls back with it."""
    sql = f"COPY {table} (version_id, {', '.join(columns)}) FROM STDIN"
    count = 0
    raw = cursor.cursor  # psycopg 3: COPY FROM STDIN works for a non-superuser
    with raw.copy(sql) as copy:
        write_row = copy.write_row
        for row in records:
            row.insert(0, version_id)
            write_row(row)
            count += 1
    return count


def load_dataset(
    *,
    source: str,
    origin: str,
    kind: str | None = None,
    as_of: date | None = None,
    loaded_by: str = "",
) -> LoadResult:
    """Load an LEIE or SAM file from a path or URL and make it the active version."""
    started = time.perf_counter()
    if source not in Source.values:
        raise DatasetError(f"Unknown source {source!r}: use leie or sam.")
    fetched = fetch(origin)
    guessed_kind, guessed_date = guess_kind_and_date(source, fetched.filename)
    kind = kind or guessed_kind
    if source == Source.SAM and kind != DatasetKind.FULL:
        raise DatasetError("SAM extracts are full files; supplements are an LEIE format.")
    sam_stats = SamStats()
    if source == Source.SAM:
        as_of = sam_as_of(fetched, as_of, sam_stats)
    else:
        as_of = as_of or guessed_date or fetched.last_modified or timezone.localdate()
    sha = hashlib.sha256(fetched.data).hexdigest()
    text = decode(fetched.data)  # an encoding problem stops here, before the database
    records = leie_records(text) if source == Source.LEIE else sam_records(text, sam_stats)
    table = TABLES[source]
    warnings: list[str] = []
    columns = _columns(source)
    with transaction.atomic():
        # Serialize loads of one source: the flip below must see the version it replaces.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"credex.screening.load:{source}"],
            )
        active = (
            DatasetVersion.objects.select_for_update().filter(source=source, is_active=True).first()
        )
        if active is not None and kind == DatasetKind.FULL and active.sha256 == sha:
            return LoadResult(active, False, time.perf_counter() - started)
        if kind != DatasetKind.FULL:
            if active is None:
                raise DatasetError(
                    "There is no active LEIE version to apply this supplement to: load the "
                    "full UPDATED.csv first."
                )
            if _already_applied(active, sha):
                return LoadResult(active, False, time.perf_counter() - started)
            _refuse_older_supplement(active, fetched.filename, kind, as_of)
        elif active is not None and as_of < active.as_of:
            warnings.append(
                f"{fetched.filename or 'This file'} is a full list as of {as_of:%Y-%m-%d}, older "
                f"than the list it replaces (as of {active.as_of:%Y-%m-%d}, "
                f"{active.filename or 'no file name'}): screening now uses the older list."
            )
        files = list(active.files) if active is not None and kind != DatasetKind.FULL else []
        if source == Source.LEIE:
            records = _in_file(records, len(files))
        version = DatasetVersion.objects.create(
            source=source,
            kind=kind,
            as_of=as_of,
            sha256=sha,
            origin=fetched.origin[:500],
            filename=fetched.filename[:200],
            base=active if kind != DatasetKind.FULL else None,
            loaded_by=loaded_by[:200],
        )
        with connection.cursor() as cursor:
            # The file is parsed and checked while it streams in; the first problem aborts
            # the COPY and rolls the whole load back.
            if kind == DatasetKind.FULL:
                file_rows = _copy(cursor, table, columns, version.pk, records)
                if not file_rows:
                    raise DatasetError(
                        "Line 2: the file has the header but no records; a full list is never "
                        "empty, so the download was probably cut short.",
                        details={"line": 2},
                    )
                version.row_count = file_rows
                if source == Source.SAM:
                    _check_sam_as_of(as_of, sam_stats)
            else:
                file_rows, version.applied = _apply_supplement(
                    cursor, table, columns, version, active, kind, records
                )
                cursor.execute(f"SELECT count(*) FROM {table} WHERE version_id = %s", [version.pk])
                version.row_count = cursor.fetchone()[0]
                if not version.applied:
                    warnings.append(_nothing_applied(fetched.filename, kind, file_rows))
        version.file_rows = file_rows
        version.files = [
            *files,
            {
                "filename": version.filename,
                "kind": kind,
                "as_of": as_of.isoformat(),
                "sha256": sha,
                "file_rows": file_rows,
                "applied": version.applied if kind != DatasetKind.FULL else file_rows,
            },
        ]
        version.warnings = warnings
        DatasetVersion.objects.filter(source=source, is_active=True).update(is_active=False)
        version.is_active = True
        version.load_seconds = round(time.perf_counter() - started, 3)
        version.save()
        audit_record(
            org=None,
            actor=Actor.system(loaded_by or "load_exclusions"),
            action="screening.dataset.loaded",
            target=version,
            source=version.audit_source,
            data={
                "source": source,
                "kind": kind,
                "as_of": as_of.isoformat(),
                "rows": version.row_count,
                "file_rows": file_rows,
                "applied": version.applied,
                "sha256": sha,
                "origin": version.origin,
                "replaces": str(active.pk) if active else None,
                **({"layout": sam_stats.layout} if source == Source.SAM else {}),
                "files": [f["filename"] for f in version.files],
                "warnings": warnings,
            },
        )
    purge_old_rows(source)
    return LoadResult(version, True, time.perf_counter() - started, warnings)


def _in_file(records: Iterator[list], file_index: int) -> Iterator[list]:
    """LEIE rows with the position of their file in the version's `files` appended."""
    for row in records:
        row.append(file_index)
        yield row


def _refuse_older_supplement(active: DatasetVersion, filename: str, kind: str, as_of) -> None:
    """A supplement older than the active list is refused: the newer list already holds its
    changes (an old exclusion file would bring back exclusions that have since ended, an old
    reinstatement file changes nothing), and applying it would date the list, and every
    screening result and PSV record made from it, back to the supplement's month."""
    if as_of >= active.as_of:
        return
    what = "exclusions" if kind == DatasetKind.EXCLUSIONS else "reinstatements"
    raise DatasetError(
        f"{filename or 'This supplement'} ({what} as of {as_of:%Y-%m-%d}) is older than the "
        f"active LEIE list (as of {active.as_of:%Y-%m-%d}, {active.filename or 'no file name'}) "
        "and was refused: the newer list already includes its changes, and applying it "
        "would move the list's as-of date back. Supplements apply only on top of a list as "
        "old as they are or older; if the file's name gives the wrong month, pass --as-of.",
        details={"as_of": as_of.isoformat(), "active_as_of": active.as_of.isoformat()},
    )


def _nothing_applied(filename: str, kind: str, file_rows: int) -> str:
    name = filename or "The supplement"
    if kind == DatasetKind.EXCLUSIONS:
        why = "every exclusion in it is already on the list"
    else:
        why = "none of its reinstated records is on the active list as a current exclusion"
    return f"{name}: 0 of {file_rows:,} rows applied ({why}); the list is unchanged."


def _already_applied(active: DatasetVersion, sha: str) -> bool:
    """Whether a supplement with this content is in the active version's chain."""
    version = active
    while version is not None:
        if version.sha256 == sha:
            return True
        if version.kind == DatasetKind.FULL:
            return False
        version = version.base
    return False


def _apply_supplement(cursor, table, columns, version, base, kind, records) -> tuple[int, int]:
    """Copy the base version's rows into the new version, then add or reinstate.
    Returns (rows in the file, rows added or reinstated)."""
    data_columns = ", ".join(columns)
    cursor.execute(
        f"INSERT INTO {table} (version_id, {data_columns}) "
        f"SELECT %s, {data_columns} FROM {table} WHERE version_id = %s",
        [version.pk, base.pk],
    )
    stage = f"{table}_stage"
    cursor.execute(f"DROP TABLE IF EXISTS {stage}")
    cursor.execute(
        f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS "
        f"SELECT version_id, {data_columns} FROM {table} WITH NO DATA"
    )
    file_rows = _copy(cursor, stage, columns, version.pk, records)
    if kind == DatasetKind.EXCLUSIONS:
        cursor.execute(
            f"INSERT INTO {table} (version_id, {data_columns}) "
            f"SELECT DISTINCT ON (s.record_key) %s, "
            + ", ".join(f"s.{c}" for c in columns)
            + f" FROM {stage} s WHERE NOT EXISTS (SELECT 1 FROM {table} t "
            "WHERE t.version_id = %s AND t.record_key = s.record_key) "
            "ORDER BY s.record_key, s.line",
            [version.pk, version.pk],
        )
    else:
        # Reinstatements end exclusions: the record stays, with its reinstatement date.
        cursor.execute(
            f"UPDATE {table} t SET reindate = COALESCE(s.reindate, CURRENT_DATE) FROM {stage} s "
            "WHERE t.version_id = %s AND t.record_key = s.record_key AND t.reindate IS NULL",
            [version.pk],
        )
    applied = cursor.rowcount
    cursor.execute(f"DROP TABLE {stage}")
    return file_rows, applied


def purge_old_rows(source: str, *, keep: int = 2) -> int:
    """Delete the rows of versions older than the `keep` newest (versions stay, marked)."""
    keep_ids = list(
        DatasetVersion.objects.filter(source=source)
        .order_by("-is_active", "-loaded_at")
        .values_list("pk", flat=True)[:keep]
    )
    old = list(
        DatasetVersion.objects.filter(source=source, rows_purged=False)
        .exclude(pk__in=keep_ids)
        .values_list("pk", flat=True)
    )
    if not old:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLES[source]} WHERE version_id = ANY(%s)", [old])
        deleted = cursor.rowcount
        DatasetVersion.objects.filter(pk__in=old).update(rows_purged=True)
    return deleted


def active_version(source: str) -> DatasetVersion | None:
    return DatasetVersion.objects.filter(source=source, is_active=True).first()


def record_snapshots(source: str, row_ids: list[int]) -> dict[int, dict]:
    """{row id: the source record under its published column names} for matched rows."""
    if not row_ids:
        return {}
    columns = LEIE_COLUMNS if source == Source.LEIE else [*SAM_COLUMNS, "duns"]
    labels = LEIE_LABELS if source == Source.LEIE else {**SAM_LABELS, "duns": "DUNS"}
    extra = ", termination_indefinite" if source == Source.SAM else ""
    where = "file_index" if source == Source.LEIE else "0"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, line, version_id, {where}, {', '.join(columns)}{extra} "
            f"FROM {TABLES[source]} WHERE id = ANY(%s)",
            [list(row_ids)],
        )
        rows = cursor.fetchall()
    files = {
        v.pk: v.files or [{"filename": v.filename, "as_of": v.as_of.isoformat()}]
        for v in DatasetVersion.objects.filter(pk__in={row[2] for row in rows})
    }
    out = {}
    for row in rows:
        values = dict(zip(columns, row[4:], strict=False))
        record = {labels[c]: (_iso(v) if isinstance(v, date) else v) for c, v in values.items()}
        if source == Source.SAM and row[-1]:
            record["Termination Date"] = "Indefinite"
        if source == Source.SAM and not record.get("DUNS"):
            record.pop("DUNS", None)  # V1 extracts only
        record["_line"] = row[1]
        version_files, file_index = files.get(row[2], []), row[3]
        if file_index is not None and file_index < len(version_files):
            # Where the record was read: "LEIE file 2611EXCL.csv, line 14".
            record["_file"] = version_files[file_index].get("filename", "")
            record["_file_as_of"] = version_files[file_index].get("as_of", "")
        out[row[0]] = record
    return out
