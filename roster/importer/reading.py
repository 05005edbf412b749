"""Step 1: bytes to rows. UTF-8 (BOM or not) only, CRLF or LF, the csv module."""

from __future__ import annotations

import csv
import io

from roster.importer.format import (
    COLUMN_NAMES,
    REQUIRED_HEADER,
    ImportRejected,
    error,
    max_rows,
)

# --- step 1: read -------------------------------------------------------------------------


def decode(raw: bytes) -> str:
    """UTF-8 text, BOM dropped; anything else is refused naming the first bad line."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRejected(
            [error(1, "", "", "The file is UTF-16. Save it as “CSV UTF-8” and upload it again.")]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start : exc.start + 1].hex().upper()
        raise ImportRejected(
            [
                error(
                    line,
                    "",
                    "",
                    f"Line {line} is not UTF-8 (byte 0x{bad}). The file is probably in another "
                    "encoding (e.g. Windows-1252): save it as “CSV UTF-8” and upload it again.",
                )
            ]
        )
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ImportRejected(
            [error(line, "", "", f"Line {line} contains a NUL byte; this is not a CSV file.")]
        )
    return text


def read_csv(raw: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(normalized header, [(spreadsheet row number, {column: stripped value})])."""
    text = decode(raw)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header_cells = next(reader, None)
        if not header_cells or not any(c.strip() for c in header_cells):
            raise ImportRejected(
                [error(1, "", "", "The file is empty: the first row is the header.")]
            )
        header = [c.strip().lower() for c in header_cells]
        header_errors = check_header(header)
        if header_errors:
            raise ImportRejected(header_errors)
        records: list[tuple[int, dict[str, str]]] = []
        width = len(header)
        problems: list[dict] = []
        for row_no, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue  # blank lines are skipped
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                problems.append(
                    error(
                        row_no,
                        "",
                        "",
                        f"This row has {len(cells)} cells but the header has {width}; a value "
                        "with a comma must be in double quotes.",
                    )
                )
                continue
            records.append(
                (
                    row_no,
                    {
                        name: cells[i].strip() if i < len(cells) else ""
                        for i, name in enumerate(header)
                    },
                )
            )
            if len(records) > max_rows():
                raise ImportRejected(
                    [
                        error(
                            row_no,
                            "",
                            "",
                            f"More than {max_rows():,} rows: split the file and import the parts.",
                        )
                    ]
                )
    except csv.Error as exc:
        raise ImportRejected(
            [error(reader.line_num, "", "", f"Line {reader.line_num} is not valid CSV: {exc}.")]
        )
    if problems:
        raise ImportRejected(problems)
    return header, records


def check_header(header: list[str]) -> list[dict]:
    errors = []
    known = set(COLUMN_NAMES)
    seen = set()
    for name in header:
        if not name:
            errors.append(error(1, "", "", "A column has no name; remove it or name it."))
        elif name not in known:
            errors.append(
                error(
                    1,
                    name,
                    name,
                    "Unknown column. Use the template's column names (see the import guide).",
                )
            )
        elif name in seen:
            errors.append(error(1, name, name, "This column appears twice."))
        seen.add(name)
    for name in REQUIRED_HEADER:
        if name not in seen:
            errors.append(error(1, name, "", "This required column is missing from the header."))
    return errors
