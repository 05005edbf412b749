"""The documented file format: columns, limits, the error record, value parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache

from django.conf import settings

from roster.models import (
    CredentialKind,
    DocumentKind,
)

# --- the documented header ----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    group: str  # provider | credential | document
    fmt: str
    description: str
    required: bool = False  # must appear in the header


COLUMNS: tuple[Column, ...] = (
    Column("npi", "provider", "10 digits", "The provider's NPI; the import's key.", True),
    Column("first_name", "provider", "text, up to 100", "Required for a new provider.", True),
    Column("middle_name", "provider", "text, up to 100", ""),
    Column("last_name", "provider", "text, up to 100", "Required for a new provider.", True),
    Column("suffix", "provider", "text, up to 20", "Jr., III, ..."),
    Column("legal_name", "provider", "text, up to 300", "Organizations: legal business name."),
    Column("dba_name", "provider", "text, up to 300", "Organizations: doing-business-as name."),
    Column("provider_type", "provider", "code", "MD, DO, NP, PA, ... or your own.", True),
    Column("primary_taxonomy", "provider", "NUCC code", "e.g. 207R00000X."),
    Column("taxonomy_codes", "provider", "NUCC codes, ; separated", "All the taxonomy codes."),
    Column("practice_states", "provider", "state codes, ; separated", "e.g. CA;NV."),
    Column("dob", "provider", "date", "Date of birth; stored encrypted."),
    Column("ssn", "provider", "9 digits (dashes allowed)", "Stored encrypted."),
    Column("email", "provider", "e-mail address", ""),
    Column("phone", "provider", "text, up to 30", ""),
    Column("hire_date", "provider", "date", ""),
    Column("status", "provider", "applicant/active/inactive/terminated", "Default applicant."),
    Column("coordinator_email", "provider", "e-mail of a member", "The assigned coordinator."),
    Column("caqh_id", "provider", "digits, up to 20", "CAQH ProView ID."),
    Column("caqh_last_attested", "provider", "date", "Last CAQH attestation."),
    Column("credential_kind", "credential", "code", "state_license, dea, cds, board_cert, ..."),
    Column("credential_number", "credential", "text, up to 60", "DEA numbers are checked."),
    Column("credential_state", "credential", "state code", "Required for a state license."),
    Column("credential_issuer", "credential", "text, up to 200", "Issuing authority."),
    Column("credential_issue_date", "credential", "date", ""),
    Column("credential_expiry_date", "credential", "date", "After the issue date."),
    Column("credential_status", "credential", "active/pending/expired/...", "Default active."),
    Column("document_file", "document", "file name in the ZIP", "PDF, PNG or JPEG."),
    Column("document_kind", "document", "code", "Default: follows credential_kind."),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
REQUIRED_HEADER = tuple(c.name for c in COLUMNS if c.required)
PROVIDER_COLUMNS = tuple(c.name for c in COLUMNS if c.group == "provider" and c.name != "npi")
CREDENTIAL_COLUMNS = tuple(c.name for c in COLUMNS if c.group == "credential")
HIDDEN_VALUES = {"ssn", "dob"}  # never echoed back in an error list or error CSV

# A credential kind's default document kind.
DOCUMENT_FOR_KIND = {
    CredentialKind.STATE_LICENSE: DocumentKind.LICENSE,
    CredentialKind.DEA: DocumentKind.DEA,
    CredentialKind.CDS: DocumentKind.CDS,
    CredentialKind.BOARD_CERT: DocumentKind.BOARD_CERT,
    CredentialKind.MALPRACTICE: DocumentKind.MALPRACTICE,
    CredentialKind.EDUCATION: DocumentKind.DIPLOMA,
    CredentialKind.TRAINING: DocumentKind.DIPLOMA,
    CredentialKind.LIFE_SUPPORT: DocumentKind.LIFE_SUPPORT,
}
# Credentials issued by a state must name one of the provider's practice states.
STATE_BOUND_KINDS = {CredentialKind.STATE_LICENSE, CredentialKind.CDS, CredentialKind.DEA}


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 50_000))


def max_document_bytes() -> int:
    return int(getattr(settings, "DOCUMENT_MAX_BYTES", 20 * 1024 * 1024))


MAX_ERRORS = 50_000


def template_csv() -> str:
    """The header row the downloadable template carries (static/roster/import_template.csv)."""
    return ",".join(COLUMN_NAMES) + "\r\n"


# --- errors -------------------------------------------------------------------------------


class ImportRejected(Exception):
    """The file cannot be read at all (encoding, header, size); carries the errors."""

    def __init__(self, errors: list[dict]):
        super().__init__(errors[0]["reason"] if errors else "rejected")
        self.errors = errors


def error(row: int | None, column: str, value: str, reason: str, **extra) -> dict:
    """One problem: row, column, value (SSN/DOB hidden), reason; `extra` tags its rule
    (e.g. rule="document_required", provider=..., document=...) for the grouped view."""
    if column in HIDDEN_VALUES and value:
        value = f"(hidden, {len(value)} characters)"
    elif len(value) > 200:
        value = value[:197] + "..."
    return {"row": row, "column": column, "value": value, "reason": reason, **extra}


_DATE_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_DATE_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_HELP = "Use YYYY-MM-DD or MM/DD/YYYY (four-digit year)."


def parse_date(value: str) -> date:
    """YYYY-MM-DD or MM/DD/YYYY; ValueError with a sentence otherwise."""
    try:
        if _DATE_ISO.match(value):
            return date.fromisoformat(value)
        m = _DATE_US.match(value)
        if m:
            if int(m[1]) > 12 and int(m[2]) <= 12:
                raise ValueError(
                    f"There is no month {int(m[1])}: slashed dates are month first "
                    "(MM/DD/YYYY), or use YYYY-MM-DD."
                )
            return date(int(m[3]), int(m[1]), int(m[2]))
    except ValueError as exc:
        if "no month" in str(exc):
            raise
        raise ValueError(f"Not a real date. {_DATE_HELP}")
    raise ValueError(f"Not a date. {_DATE_HELP}")


def split_list(value: str) -> list[str]:
    return [p.strip() for p in value.split(";") if p.strip()]


def _choice(value: str, choices) -> str | None:
    """A TextChoices value from its value or its label, case-insensitively."""
    return _choice_map(choices).get(value.casefold())


@cache
def _choice_map(choices) -> dict[str, str]:
    folded = {}
    for v, label in choices.choices:
        folded[str(label).casefold()] = v
        folded[v.casefold()] = v
    return folded
