"""Step 2: every rule on every row, with the roster read once per file, never per row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import cache
from posixpath import basename

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from credex.errors import DomainError
from roster.importer.archive import ArchiveRefused, DocumentArchive
from roster.importer.format import (
    COLUMN_NAMES,
    CREDENTIAL_COLUMNS,
    DOCUMENT_FOR_KIND,
    HIDDEN_VALUES,
    MAX_ERRORS,
    PROVIDER_COLUMNS,
    STATE_BOUND_KINDS,
    _choice,
    error,
    max_document_bytes,
    parse_date,
    split_list,
)
from roster.models import (
    Credential,
    CredentialKind,
    CredentialRequirement,
    CredentialStatus,
    Document,
    DocumentKind,
    DocumentStatus,
    Provider,
    ProviderStatus,
    TaxonomyCode,
)
from roster.validation import dea_problem, npi_problem, state_problem


@cache
def nucc_codes() -> frozenset[str]:
    """The NUCC taxonomy code set, loaded once per process."""
    return frozenset(TaxonomyCode.objects.values_list("code", flat=True))


NOT_IN_ZIP = "This file is not in the documents ZIP (names are case-sensitive)."


@dataclass
class DocumentPlan:
    row: int
    member: str  # name inside the ZIP
    original_name: str
    kind: str
    content_type: str
    pages: int | None = None
    named: str = ""  # the document_file value, for error messages


@dataclass
class CredentialPlan:
    row: int
    values: dict
    existing: Credential | None = None
    document: DocumentPlan | None = None
    names_document: bool = False


@dataclass
class FollowPlan:
    """A document the file leaves out, to be requested from the provider (the organization
    lets documents follow an import): an inbox item and an upload link after the write."""

    row: int
    document_kind: str
    credential_kind: str = ""  # the required credential kind, when a requirement asks for it
    named: str = ""  # the document_file value that was not in the ZIP, if any


@dataclass
class ProviderPlan:
    npi: str
    first_row: int
    rows: list[int]
    existing: Provider | None
    values: dict = field(default_factory=dict)
    credentials: list[CredentialPlan] = field(default_factory=list)
    documents: list[DocumentPlan] = field(default_factory=list)  # not tied to a credential
    follow: list[FollowPlan] = field(default_factory=list)  # documents requested after import


@dataclass
class Plan:
    providers: list[ProviderPlan]
    total_rows: int


@dataclass
class _Group:
    npi: str
    rows: list[tuple[int, dict]] = field(default_factory=list)
    merged: dict[str, tuple[str, int]] = field(default_factory=dict)


class Checker:
    """Every rule on every row; `run()` returns (plan, errors)."""

    def __init__(
        self,
        org,
        header,
        records,
        documents: DocumentArchive | None,
        *,
        progress=None,
        documents_can_follow: bool = False,
    ):
        self.org = org
        # Missing documents are requested after the import instead of rejecting the file.
        self.can_follow = documents_can_follow
        self._followed: dict[int, FollowPlan] = {}  # row -> a named file left to follow
        self.header = set(header)
        self.records = records
        self.zip = documents
        self.errors: list[dict] = []
        self.progress = progress or (lambda done: None)
        self._zip_index: dict[str, list[str]] | None = None

    def add(self, row, column, value, reason, **extra):
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error(row, column, value, reason, **extra))

    # -- reference data, read once
    def _load(self, npis: list[str]) -> None:
        from credex import capabilities as cap
        from credex.models import Membership
        from roster.services.providers import provider_types

        self.types = provider_types(self.org)
        self.codes = nucc_codes()
        self.existing = {
            p.npi: p for p in Provider.objects.filter(organization=self.org, npi__in=npis)
        }
        self.members = {
            m.user.email.casefold(): m
            for m in Membership.objects.filter(organization=self.org).select_related("user")
            if cap.has_capability(m.role, cap.CHANGE_ROSTER)
        }
        self.requirements: dict[str, set[str]] = {}
        for ptype, kind in CredentialRequirement.objects.filter(
            organization=self.org, document_required=True
        ).values_list("provider_type", "kind"):
            self.requirements.setdefault(ptype, set()).add(kind)
        ids = [p.pk for p in self.existing.values()]
        self.credentials: dict[uuid.UUID, list[Credential]] = {}
        self.documented: set[tuple[uuid.UUID, str]] = set()
        if ids:
            for c in Credential.objects.filter(organization=self.org, provider_id__in=ids):
                self.credentials.setdefault(c.provider_id, []).append(c)
            if self.requirements:
                self.documented = set(
                    Document.objects.filter(organization=self.org, provider_id__in=ids)
                    .exclude(status=DocumentStatus.REJECTED)
                    .exclude(credential=None)
                    .values_list("provider_id", "credential__kind")
                )

    def run(self) -> tuple[Plan | None, list[dict]]:
        groups = self._group()
        self._load([g.npi for g in groups if g.npi])
        plans = []
        done, next_report = 0, 500
        for group in groups:
            plans.append(self._provider(group))
            done += len(group.rows)
            if done >= next_report:
                self.progress(done)
                next_report = done + 500
        self.progress(len(self.records))
        # Rows first: a file with a bad row is refused before any document is decompressed.
        if not self.errors and self.zip is not None:
            self._read_documents(plans)
        if self.errors:
            self.errors.sort(key=lambda e: (e["row"] or 0, COLUMN_ORDER.get(e["column"], 99)))
            return None, self.errors
        return Plan(providers=plans, total_rows=len(self.records)), []

    # -- rows sharing an NPI are one provider
    def _group(self) -> list[_Group]:
        groups: dict[str, _Group] = {}
        for row_no, rec in self.records:
            npi = rec.get("npi", "")
            problem = npi_problem(npi) if npi else "Required: every row names its provider's NPI."
            if problem:
                self.add(row_no, "npi", npi, problem)
                key, npi = f"row:{row_no}", ""
            else:
                key = npi
            group = groups.setdefault(key, _Group(npi=npi))
            group.rows.append((row_no, rec))
            for col in PROVIDER_COLUMNS:
                value = rec.get(col, "")
                if not value:
                    continue
                if col not in group.merged:
                    group.merged[col] = (value, row_no)
                elif group.merged[col][0].casefold() != value.casefold():
                    first_value, first_row = group.merged[col]
                    if col in ("first_name", "last_name"):
                        reason = (
                            f"NPI {npi} is already used on row {first_row} for another name "
                            f"({first_value!r}): one NPI is one provider. Check the NPI."
                        )
                    else:
                        shown = "a different value" if col in HIDDEN_VALUES else repr(first_value)
                        reason = (
                            f"Row {first_row} gives {shown} for the same NPI. Rows with the same "
                            "NPI are one provider: repeat the same value or leave it blank."
                        )
                    self.add(row_no, col, value, reason)
        return list(groups.values())

    # -- provider columns
    def _provider(self, group: _Group) -> ProviderPlan:
        first_row = group.rows[0][0]
        existing = self.existing.get(group.npi) if group.npi else None
        plan = ProviderPlan(
            npi=group.npi,
            first_row=first_row,
            rows=[r for r, _ in group.rows],
            existing=existing,
        )
        values = plan.values
        merged = group.merged
        if existing is None:
            for col in ("first_name", "last_name", "provider_type"):
                if col != "provider_type" and "legal_name" in merged:
                    continue  # an organization: its business name names it
                if col not in merged:
                    self.add(first_row, col, "", "Required for a new provider.")
        for col, (value, row) in merged.items():
            try:
                values[col] = self._provider_value(col, value)
            except ValueError as exc:
                self.add(row, col, value, str(exc))
        if "primary_taxonomy" in values:
            codes = values.get("taxonomy_codes") or (existing.taxonomy_codes if existing else [])
            if values["primary_taxonomy"] not in codes:
                values["taxonomy_codes"] = [*codes, values["primary_taxonomy"]]
        states = values.get("practice_states", existing.practice_states if existing else [])
        for row_no, rec in group.rows:
            credential = self._credential(plan, row_no, rec, states)
            document = self._document(row_no, rec, credential)
            followed = self._followed.pop(row_no, None)
            if followed:
                plan.follow.append(followed)
            if credential:
                credential.document = document
                credential.names_document = bool(rec.get("document_file")) and not followed
                plan.credentials.append(credential)
            elif document:
                plan.documents.append(document)
        ptype = values.get("provider_type", existing.provider_type if existing else "")
        self._required_documents(plan, ptype)
        if plan.follow and existing is None:
            # A file without its documents is not complete: a new provider starts as an
            # applicant, whatever the status column says.
            values["status"] = ProviderStatus.APPLICANT
        return plan

    def _follow(self, row_no, name, kind, credential) -> bool:
        """Leave a named file that is not in the ZIP to follow (when the organization lets
        documents follow); True when it was left, False when it is an error as usual."""
        if not self.can_follow:
            return False
        ckind = credential.values.get("kind", "") if credential else ""
        self._followed[row_no] = FollowPlan(
            row=row_no,
            document_kind=kind or DocumentKind.OTHER,
            credential_kind=ckind or "",
            named=name,
        )
        return True

    def _provider_value(self, col: str, value: str):
        if col in ("first_name", "middle_name", "last_name"):
            if len(value) > 100:
                raise ValueError("At most 100 characters.")
            return value
        if col in ("legal_name", "dba_name"):
            if len(value) > 300:
                raise ValueError("At most 300 characters.")
            return value
        if col == "suffix":
            if len(value) > 20:
                raise ValueError("At most 20 characters.")
            return value
        if col == "provider_type":
            code = next((t for t in self.types if t.casefold() == value.casefold()), None)
            if code is None:
                raise ValueError(
                    "Unknown provider type. Use one of "
                    + ", ".join(sorted(self.types))
                    + " (an admin can add more)."
                )
            return code
        if col == "primary_taxonomy":
            code = value.upper()
            if code not in self.codes:
                raise ValueError("Not a code of the NUCC taxonomy code set (e.g. 207R00000X).")
            return code
        if col == "taxonomy_codes":
            if "," in value:
                raise ValueError("Separate taxonomy codes with semicolons (;), not commas.")
            codes = [c.upper() for c in split_list(value)]
            bad = [c for c in codes if c not in self.codes]
            if bad:
                raise ValueError(f"Not in the NUCC taxonomy code set: {', '.join(bad)}.")
            return list(dict.fromkeys(codes))
        if col == "practice_states":
            if "," in value:
                raise ValueError("Separate states with semicolons (;), not commas.")
            states = [s.upper() for s in split_list(value)]
            bad = [s for s in states if state_problem(s)]
            if bad:
                raise ValueError(
                    f"Not a US state or territory code: {', '.join(bad)}. Use two-letter codes "
                    "such as CA;NV."
                )
            return list(dict.fromkeys(states))
        if col in ("dob", "hire_date", "caqh_last_attested"):
            d = parse_date(value)
            if col in ("dob", "caqh_last_attested") and d > timezone.localdate():
                raise ValueError("This date is in the future.")
            return d
        if col == "ssn":
            digits = "".join(ch for ch in value if ch.isdigit())
            if len(digits) != 9 or len(value) > 11:
                raise ValueError("An SSN has 9 digits (dashes allowed).")
            return digits
        if col == "email":
            try:
                validate_email(value)
            except ValidationError:
                raise ValueError("Not an e-mail address.")
            return value
        if col == "phone":
            if len(value) > 30:
                raise ValueError("At most 30 characters.")
            return value
        if col == "status":
            status = _choice(value, ProviderStatus)
            if status is None:
                raise ValueError("Use applicant, active, inactive or terminated.")
            return status
        if col == "coordinator_email":
            member = self.members.get(value.casefold())
            if member is None:
                raise ValueError(
                    "No member who works the roster has this e-mail; invite them first."
                )
            return member
        if col == "caqh_id":
            if not value.isdigit() or len(value) > 20:
                raise ValueError("A CAQH ProView ID is digits only.")
            return value
        raise AssertionError(col)

    # -- credential columns
    def _credential(self, plan, row_no, rec, states) -> CredentialPlan | None:
        given = {c: rec.get(c, "") for c in CREDENTIAL_COLUMNS if rec.get(c, "")}
        if not given:
            return None
        kind_raw = given.get("credential_kind", "")
        kind = _choice(kind_raw, CredentialKind) if kind_raw else None
        if not kind_raw:
            self.add(
                row_no, "credential_kind", "", "Required when other credential columns are filled."
            )
        elif kind is None:
            self.add(
                row_no,
                "credential_kind",
                kind_raw,
                "Unknown credential type. Use one of " + ", ".join(CredentialKind.values) + ".",
            )
        values: dict = {"kind": kind}
        number = given.get("credential_number", "")
        if len(number) > 60:
            self.add(row_no, "credential_number", number, "At most 60 characters.")
        elif kind == CredentialKind.DEA and number and dea_problem(number):
            self.add(row_no, "credential_number", number, dea_problem(number))
        values["number"] = number.upper() if kind == CredentialKind.DEA else number
        issuer = given.get("credential_issuer", "")
        if len(issuer) > 200:
            self.add(row_no, "credential_issuer", issuer, "At most 200 characters.")
        values["issuer"] = issuer
        state = given.get("credential_state", "").upper()
        if state and state_problem(state):
            self.add(row_no, "credential_state", state, state_problem(state))
        elif state and kind in STATE_BOUND_KINDS and state not in states:
            have = ";".join(states) or "none"
            self.add(
                row_no,
                "credential_state",
                state,
                f"{state} is not one of the provider's practice states ({have}). Add it to "
                "practice_states or correct the license state.",
            )
        elif not state and kind == CredentialKind.STATE_LICENSE:
            self.add(row_no, "credential_state", "", "A state license names its state.")
        values["state"] = state
        for col, name in (
            ("credential_issue_date", "issue_date"),
            ("credential_expiry_date", "expiry_date"),
        ):
            if col in given:
                try:
                    values[name] = parse_date(given[col])
                except ValueError as exc:
                    self.add(row_no, col, given[col], str(exc))
        issue, expiry = values.get("issue_date"), values.get("expiry_date")
        if issue and expiry and expiry <= issue:
            self.add(
                row_no,
                "credential_expiry_date",
                given["credential_expiry_date"],
                f"The expiry date must come after the issue date ({issue.isoformat()}).",
            )
        if "credential_status" in given:
            status = _choice(given["credential_status"], CredentialStatus)
            if status is None:
                self.add(
                    row_no,
                    "credential_status",
                    given["credential_status"],
                    "Use one of " + ", ".join(CredentialStatus.values) + ".",
                )
            values["status"] = status
        credential = CredentialPlan(row=row_no, values=values)
        key = (kind, values["number"].casefold(), state)
        for other in plan.credentials:
            v = other.values
            if (v["kind"], v["number"].casefold(), v["state"]) == key:
                self.add(
                    row_no,
                    "credential_number",
                    number,
                    f"The same credential is already on row {other.row} for this NPI.",
                )
        if plan.existing is not None and kind:
            credential.existing = next(
                (
                    c
                    for c in self.credentials.get(plan.existing.pk, [])
                    if (c.kind, c.number.casefold(), c.state) == key
                ),
                None,
            )
        return credential

    # -- documents from the ZIP
    def _zip_lookup(self, name: str) -> tuple[str | None, str]:
        """(member name, problem) for a document_file value."""
        if self._zip_index is None:
            self._zip_index = {}
            self._zip_names = set()
            for info in self.zip.infolist():
                if info.is_dir() or info.filename.startswith("__MACOSX/"):
                    continue
                self._zip_names.add(info.filename)
                self._zip_index.setdefault(basename(info.filename), []).append(info.filename)
        if name in self._zip_names:
            return name, ""
        matches = self._zip_index.get(basename(name), [])
        if len(matches) == 1:
            return matches[0], ""
        if len(matches) > 1:
            return None, (
                "Several files in the ZIP have this name ("
                + ", ".join(matches[:3])
                + "); give the path inside the ZIP."
            )
        return None, NOT_IN_ZIP

    def _document(self, row_no, rec, credential: CredentialPlan | None) -> DocumentPlan | None:
        name = rec.get("document_file", "")
        kind_raw = rec.get("document_kind", "")
        kind = _choice(kind_raw, DocumentKind) if kind_raw else None
        if kind_raw and kind is None:
            self.add(
                row_no,
                "document_kind",
                kind_raw,
                "Unknown document type. Use one of " + ", ".join(DocumentKind.values) + ".",
            )
        if not name:
            if kind_raw:
                self.add(row_no, "document_file", "", "Name the file for this document_kind.")
            return None
        if kind is None and not kind_raw:
            ckind = credential.values.get("kind") if credential else None
            kind = DOCUMENT_FOR_KIND.get(ckind, DocumentKind.OTHER) if ckind else None
            if credential is None:
                self.add(
                    row_no,
                    "document_kind",
                    "",
                    "Required for a document that is not attached to a credential on this row.",
                )
        if self.zip is None:
            if not self._follow(row_no, name, kind, credential):
                self.add(
                    row_no, "document_file", name, "No documents ZIP was uploaded with this CSV."
                )
            return None
        member, problem = self._zip_lookup(name)
        if problem == NOT_IN_ZIP and self._follow(row_no, name, kind, credential):
            return None
        if problem:
            self.add(row_no, "document_file", name, problem)
            return None
        info = self.zip.getinfo(member)
        if info.flag_bits & 0x1:
            self.add(row_no, "document_file", name, "This file is encrypted in the ZIP.")
            return None
        if info.file_size > max_document_bytes():
            limit = max_document_bytes() // (1024 * 1024)
            self.add(row_no, "document_file", name, f"Larger than the {limit} MB limit.")
            return None
        if info.file_size == 0:
            self.add(row_no, "document_file", name, "This file is empty.")
            return None
        # Its bytes are read only once every row has passed (`_read_documents`).
        return DocumentPlan(
            row=row_no,
            member=member,
            original_name=basename(name)[:255],
            kind=kind or DocumentKind.OTHER,
            content_type="",
            named=name,
        )

    def _read_documents(self, plans: list[ProviderPlan]) -> None:
        """Read and sniff each named entry once, streaming, within the archive's limits."""
        documents = [
            d
            for p in plans
            for d in [*(c.document for c in p.credentials if c.document), *p.documents]
        ]
        documents.sort(key=lambda d: d.row)
        outcome: dict[str, object] = {}
        for d in documents:
            if d.member not in outcome:
                try:
                    data = self.zip.read(d.member)
                except ArchiveRefused as exc:
                    outcome[d.member] = exc.message
                else:
                    outcome[d.member] = self._sniff(data)
                    del data
            sniffed = outcome[d.member]
            if isinstance(sniffed, str):
                self.add(d.row, "document_file", d.named, sniffed)
                continue
            d.content_type, d.pages = sniffed.content_type, sniffed.pages

    @staticmethod
    def _sniff(data: bytes):
        """The documents area's sniffing (type from the bytes), or the sentence refusing it."""
        from roster.services.documents import sniff

        try:
            return sniff(data)
        except DomainError as exc:
            return exc.message

    def _required_documents(self, plan: ProviderPlan, ptype: str) -> None:
        needed = self.requirements.get(ptype)
        if not needed:
            return
        # A row that names a file counts: if that file is missing or bad, its own error says so.
        have = {c.values["kind"] for c in plan.credentials if c.names_document}
        for kind in sorted(needed):
            if kind in have:
                continue
            if plan.existing is not None and (plan.existing.pk, kind) in self.documented:
                continue
            label = CredentialKind(kind).label
            if self.can_follow:
                if not any(f.credential_kind == kind for f in plan.follow):
                    plan.follow.append(
                        FollowPlan(
                            row=plan.first_row,
                            document_kind=DOCUMENT_FOR_KIND.get(kind, DocumentKind.OTHER),
                            credential_kind=kind,
                        )
                    )
                continue
            self.add(
                plan.first_row,
                "document_file",
                "",
                f"A {ptype} provider needs a {label.lower()} document: add a row for NPI "
                f"{plan.npi or '(this provider)'} with credential_kind {kind} and document_file "
                "naming its file in the ZIP.",
                rule=DOCUMENT_REQUIRED,
                provider=_display_name(plan),
                npi=plan.npi,
                kind=kind,
                document=label,
            )


DOCUMENT_REQUIRED = "document_required"


def _display_name(plan: ProviderPlan) -> str:
    """The provider's name as the file (or the roster, for an update) gives it."""
    v, e = plan.values, plan.existing
    legal = v.get("legal_name") or (e.legal_name if e else "")
    first = v.get("first_name") or (e.first_name if e else "")
    last = v.get("last_name") or (e.last_name if e else "")
    return (f"{first} {last}".strip() or legal or plan.npi)[:200]


COLUMN_ORDER = {name: i for i, name in enumerate(("", *COLUMN_NAMES))}


def check(
    org, header, records, documents=None, *, progress=None, documents_can_follow=False
) -> tuple[Plan | None, list]:
    """Check every row; (plan, []) when the file can be written, (None, errors) otherwise.

    With `documents_can_follow`, a required document the file leaves out (or a named file
    missing from the ZIP, or no ZIP at all) is not an error: it goes to the provider's
    `follow` list, to be requested after the write. Every other rule still rejects the file.
    """
    return Checker(
        org,
        header,
        records,
        documents,
        progress=progress,
        documents_can_follow=documents_can_follow,
    ).run()
