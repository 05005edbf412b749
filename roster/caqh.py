"""The CAQH ProView field set of a provider, built from the roster (the source of truth that
feeds CAQH), as a dict of sections and as CSV rows; and the audited export.

What CAQH ProView holds that the roster knows: personal information (names, other names,
e-mail, phone), NPI, the CAQH ProView ID, provider type, specialties (NUCC taxonomy), the
practice location, state licenses, DEA and CDS registrations, board certifications,
education, training, work history, hospital affiliations (privileges), professional
liability insurance and the last attestation date.

Left out on purpose: the SSN and date of birth (the roster keeps them encrypted and shows
them only through an audited, reasoned reveal; an export file is copied and mailed around,
so they are typed into ProView by hand), and gender (the roster does not store it).
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.csvsafe import safe_row
from roster.models import Credential, CredentialKind, Provider

CAQH_REATTEST_DAYS = 120
OMITTED = {
    "ssn": "Not exported: typed into ProView by hand (audited reveal on the provider file).",
    "date_of_birth": "Not exported: typed into ProView by hand (audited reveal).",
    "gender": "Not stored in the roster.",
}
OMITTED_LABELS = {"ssn": "SSN", "date_of_birth": "Date of birth", "gender": "Gender"}
SECTION_TITLES = {
    "personal": "Personal information",
    "identifiers": "Identifiers",
    "specialties": "Specialties",
    "practice_location": "Practice location",
    "licenses": "State licenses",
    "dea": "DEA registrations",
    "cds": "CDS registrations",
    "board_certifications": "Board certifications",
    "education": "Education",
    "training": "Training",
    "work_history": "Work history",
    "hospital_affiliations": "Hospital affiliations",
    "malpractice": "Professional liability insurance",
    "attestation": "Attestation",
}


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


def _dollars(cents) -> str:
    if cents in (None, ""):
        return ""
    try:
        return f"{int(cents) / 100:.2f}"
    except (TypeError, ValueError):
        return ""


def _license(c: Credential) -> dict:
    return {
        "state": c.state,
        "number": c.number,
        "issuer": c.issuer,
        "issue_date": _d(c.issue_date),
        "expiration_date": _d(c.expiry_date),
        "status": c.status,
    }


def _board(c: Credential) -> dict:
    return {
        "board": c.details.get("board") or c.issuer,
        "specialty": c.details.get("specialty", ""),
        "certificate_number": c.number,
        "certification_date": _d(c.issue_date),
        "expiration_date": _d(c.expiry_date),
        "status": c.status,
    }


def _period(c: Credential, name_key: str, label_key: str, out_name: str, out_label: str) -> dict:
    return {
        out_name: c.details.get(name_key) or c.issuer,
        out_label: c.details.get(label_key, ""),
        "start_date": _d(c.start_date or c.issue_date),
        "end_date": _d(c.end_date or c.expiry_date),
        "state": c.state,
    }


def _malpractice(c: Credential) -> dict:
    return {
        "carrier": c.details.get("carrier") or c.issuer,
        "policy_number": c.details.get("policy_number") or c.number,
        "per_claim_amount": _dollars(c.details.get("per_claim_cents")),
        "aggregate_amount": _dollars(c.details.get("aggregate_cents")),
        "effective_date": _d(c.issue_date),
        "expiration_date": _d(c.expiry_date),
        "status": c.status,
    }


def _privileges(c: Credential) -> dict:
    return {
        "facility": c.details.get("facility") or c.issuer,
        "status": c.status,
        "start_date": _d(c.start_date or c.issue_date),
        "end_date": _d(c.end_date or c.expiry_date),
        "state": c.state,
    }


def _specialties(provider: Provider) -> list[dict]:
    from roster.models import TaxonomyCode

    codes = [c for c in [provider.primary_taxonomy_id, *provider.taxonomy_codes] if c]
    seen, ordered = set(), []
    for code in codes:
        if code not in seen:
            seen.add(code)
            ordered.append(code)
    names = {t.code: t for t in TaxonomyCode.objects.filter(code__in=ordered)}
    out = []
    for code in ordered:
        taxonomy = names.get(code)
        out.append(
            {
                "taxonomy_code": code,
                "specialty": (taxonomy.display_name or taxonomy.classification) if taxonomy else "",
                "primary": "yes" if code == provider.primary_taxonomy_id else "no",
            }
        )
    return out


def caqh_profile(*, org, provider: Provider) -> dict:
    """The CAQH ProView sections of one provider: {section: [items]} plus `omitted`."""
    credentials = list(
        Credential.objects.filter(organization=org, provider=provider).order_by(
            "kind", "state", "issue_date", "start_date", "number"
        )
    )
    by_kind: dict[str, list[Credential]] = {}
    for c in credentials:
        by_kind.setdefault(c.kind, []).append(c)
    attested = provider.caqh_last_attested
    sections = {
        "personal": [
            {
                "first_name": provider.first_name,
                "middle_name": provider.middle_name,
                "last_name": provider.last_name,
                "suffix": provider.suffix,
                "other_names": "; ".join(str(n) for n in provider.former_names or []),
                "email": provider.email,
                "phone": provider.phone,
            }
        ],
        "identifiers": [
            {
                "npi": provider.npi,
                "caqh_provider_id": provider.caqh_id,
                "provider_type": provider.provider_type,
            }
        ],
        "specialties": _specialties(provider),
        "practice_location": [
            {
                "address_line1": provider.address_line1,
                "address_line2": provider.address_line2,
                "city": provider.city,
                "state": provider.state,
                "postal_code": provider.postal_code,
                "practice_states": ", ".join(provider.practice_states or []),
            }
        ],
        "licenses": [_license(c) for c in by_kind.get(CredentialKind.STATE_LICENSE, [])],
        "dea": [_license(c) for c in by_kind.get(CredentialKind.DEA, [])],
        "cds": [_license(c) for c in by_kind.get(CredentialKind.CDS, [])],
        "board_certifications": [_board(c) for c in by_kind.get(CredentialKind.BOARD_CERT, [])],
        "education": [
            _period(c, "institution", "degree", "institution", "degree")
            for c in by_kind.get(CredentialKind.EDUCATION, [])
        ],
        "training": [
            _period(c, "institution", "program", "institution", "program")
            for c in by_kind.get(CredentialKind.TRAINING, [])
        ],
        "work_history": [
            _period(c, "employer", "position", "employer", "position")
            for c in by_kind.get(CredentialKind.WORK_HISTORY, [])
        ],
        "hospital_affiliations": [
            _privileges(c) for c in by_kind.get(CredentialKind.PRIVILEGES, [])
        ],
        "malpractice": [_malpractice(c) for c in by_kind.get(CredentialKind.MALPRACTICE, [])],
        "attestation": [
            {
                "last_attestation_date": _d(attested),
                "next_attestation_due": _d(
                    attested + timedelta(days=CAQH_REATTEST_DAYS) if attested else None
                ),
            }
        ],
    }
    return {
        "provider": str(provider.pk),
        "generated_for": org.name,
        "sections": sections,
        "omitted": OMITTED,
    }


def caqh_csv(profile: dict) -> str:
    """One row per section item: section, item number, then every field any item has.
    Cells a spreadsheet would run as a formula are neutralized."""
    columns: list[str] = []
    for items in profile["sections"].values():
        for item in items:
            for key in item:
                if key not in columns:
                    columns.append(key)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "item", *columns])
    for section, items in profile["sections"].items():
        for number, item in enumerate(items, 1):
            writer.writerow(
                safe_row([SECTION_TITLES.get(section, section), number])
                + safe_row(item.get(c, "") for c in columns)
            )
    return out.getvalue()


def caqh_export_record(*, org, actor, provider: Provider, fmt: str, via: str = "web") -> None:
    """Audit an export of the provider's CAQH field set (a read of provider data)."""
    require(actor, cap.VIEW_ROSTER)
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action="roster.caqh.exported",
        target=provider,
        source="CAQH ProView",
        data={"format": fmt, "via": via, "omitted": sorted(OMITTED)},
    )
