"""CSV bulk import of providers and their credentials: read, check every row, write in bulk.

The three steps are separate so that nothing is written unless every row passed (one module
each; `format` holds the documented columns, limits and the error record):

- `read_csv(raw)` (reading): UTF-8 with or without BOM, nothing else; CRLF or LF; the csv
  module.
- `inspect_archive(fileobj)` and `DocumentArchive` (archive): the documents ZIP checked from
  its directory at upload, then read entry by entry, streaming, with limits; only entries the
  CSV names are read, and only after every row has passed.
- `check(org, header, records, documents)` (checking): every rule on every row; returns a
  `Plan` or the complete list of errors (row, column, value, reason). The roster, members,
  NUCC set and requirements are read once per file, never per row.
- `group_errors(errors)` (grouping): a rejected file's errors by rule for the result page and
  the API, field problems first, required documents once per provider.
- `write(org, actor, plan, ...)` (writing): bulk inserts and updates (protected fields
  encrypted), documents through Django storage, one audit event per written row, in the
  caller's transaction.

The file format is documented column by column in docs/import.md; `COLUMNS` is its source.
One row is one provider with at most one credential; a provider with several credentials
takes several rows with the same NPI (the provider columns may be blank after the first).
An NPI already on the roster updates that provider.
"""

from __future__ import annotations

from roster.importer.archive import ArchiveRefused, DocumentArchive, inspect_archive
from roster.importer.checking import Plan, check, nucc_codes
from roster.importer.format import (
    COLUMN_NAMES,
    COLUMNS,
    REQUIRED_HEADER,
    Column,
    ImportRejected,
    error,
    max_document_bytes,
    max_rows,
    parse_date,
    split_list,
    template_csv,
)
from roster.importer.grouping import ErrorGroup, group_errors
from roster.importer.reading import decode, read_csv
from roster.importer.writing import WriteResult, delete_files, write

__all__ = [
    "ArchiveRefused",
    "DocumentArchive",
    "inspect_archive",
    "COLUMNS",
    "COLUMN_NAMES",
    "REQUIRED_HEADER",
    "Column",
    "ErrorGroup",
    "ImportRejected",
    "Plan",
    "WriteResult",
    "check",
    "decode",
    "delete_files",
    "error",
    "group_errors",
    "max_document_bytes",
    "max_rows",
    "nucc_codes",
    "parse_date",
    "read_csv",
    "split_list",
    "template_csv",
    "write",
]
