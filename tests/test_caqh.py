"""The CAQH ProView export: every section CAQH holds that the roster knows, no SSN or date of
birth anywhere, the CSV one row per section item with formula cells neutralized."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from credex.tenancy import tenant_context
from roster.caqh import caqh_csv, caqh_profile
from roster.models import Credential
from roster.services.providers import provider_update
from tests.factories import make_provider

SSN = "900-12-3456"
DOB = date(1971, 3, 14)


@pytest.fixture
def provider(tenant_a):
    p = make_provider(
        tenant_a.org,
        seed=91,
        first_name="Jane",
        middle_name="Q",
        last_name="Doe",
        suffix="MD",
        former_names=["Jane Smith"],
        email="jane@clinic.example",
        phone="555-0100",
        caqh_id="12345678",
        caqh_last_attested=date(2026, 9, 1),
        primary_taxonomy_id="207R00000X",
        taxonomy_codes=["207R00000X", "207RC0000X"],
        address_line1="100 Main Street",
        city="Sacramento",
        state="CA",
        postal_code="95814",
        practice_states=["CA", "NV"],
    )
    org = tenant_a.org
    with tenant_context(org):
        provider_update(
            org=org, actor=tenant_a.membership(tenant_a.owner), provider=p, ssn=SSN, dob=DOB
        )
        rows = [
            ("state_license", {"state": "CA", "number": "A12345", "issuer": "Medical Board"}),
            ("state_license", {"state": "NV", "number": '=HYPERLINK("http://x")'}),
            ("dea", {"number": "BD1234563", "state": "CA"}),
            ("cds", {"number": "CDS-9", "state": "NV"}),
            ("board_cert", {"number": "B-1", "details": {"board": "ABIM", "specialty": "IM"}}),
            (
                "malpractice",
                {
                    "details": {
                        "carrier": "MedPro",
                        "policy_number": "P-77",
                        "per_claim_cents": 100_000_000,
                        "aggregate_cents": 300_000_000,
                    }
                },
            ),
            ("education", {"details": {"institution": "UCSF", "degree": "MD"}}),
            ("training", {"details": {"institution": "Stanford", "program": "IM residency"}}),
            ("work_history", {"details": {"employer": "@Clinic", "position": "Attending"}}),
            ("privileges", {"details": {"facility": "Mercy Hospital"}}),
        ]
        for kind, fields in rows:
            Credential.objects.create(
                organization=org,
                provider=p,
                kind=kind,
                issue_date=date(2020, 1, 1),
                expiry_date=date(2028, 1, 1),
                **fields,
            )
    return p


def profile_of(tenant, provider):
    with tenant_context(tenant.org):
        provider.refresh_from_db()
        return caqh_profile(org=tenant.org, provider=provider)


def test_every_caqh_section_the_roster_knows_is_present(tenant_a, provider):
    sections = profile_of(tenant_a, provider)["sections"]
    assert list(sections) == [
        "personal",
        "identifiers",
        "specialties",
        "practice_location",
        "licenses",
        "dea",
        "cds",
        "board_certifications",
        "education",
        "training",
        "work_history",
        "hospital_affiliations",
        "malpractice",
        "attestation",
    ]
    assert sections["personal"][0]["other_names"] == "Jane Smith"
    assert sections["identifiers"][0] == {
        "npi": provider.npi,
        "caqh_provider_id": "12345678",
        "provider_type": "MD",
    }
    assert [s["taxonomy_code"] for s in sections["specialties"]] == ["207R00000X", "207RC0000X"]
    assert sections["specialties"][0]["primary"] == "yes"
    assert sections["practice_location"][0]["practice_states"] == "CA, NV"
    assert {(x["state"], x["number"]) for x in sections["licenses"]} >= {("CA", "A12345")}
    assert sections["licenses"][0]["expiration_date"] == "2028-01-01"
    assert sections["dea"][0]["number"] == "BD1234563"
    assert sections["cds"][0]["state"] == "NV"
    assert sections["board_certifications"][0]["board"] == "ABIM"
    assert sections["education"][0]["institution"] == "UCSF"
    assert sections["training"][0]["program"] == "IM residency"
    assert sections["work_history"][0]["position"] == "Attending"
    assert sections["hospital_affiliations"][0]["facility"] == "Mercy Hospital"
    malpractice = sections["malpractice"][0]
    assert malpractice["carrier"] == "MedPro" and malpractice["policy_number"] == "P-77"
    assert malpractice["per_claim_amount"] == "1000000.00"
    assert malpractice["aggregate_amount"] == "3000000.00"
    assert sections["attestation"][0] == {
        "last_attestation_date": "2026-09-01",
        "next_attestation_due": "2026-12-30",
    }


def test_the_export_has_no_ssn_or_date_of_birth(tenant_a, provider):
    profile = profile_of(tenant_a, provider)
    assert provider.ssn_encrypted and provider.dob_encrypted  # they are on file
    for text in (json.dumps(profile), caqh_csv(profile)):
        assert "900-12-3456" not in text and "900123456" not in text
        assert "1971-03-14" not in text and "03/14/1971" not in text
    assert set(profile["omitted"]) == {"ssn", "date_of_birth", "gender"}


def test_the_csv_has_one_row_per_section_item_with_formulas_neutralized(tenant_a, provider):
    text = caqh_csv(profile_of(tenant_a, provider))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1 + 1 + 2 + 1 + 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1
    licenses = [r for r in rows if r["section"] == "State licenses"]
    assert [r["item"] for r in licenses] == ["1", "2"]
    assert '\'=HYPERLINK("http://x")' in {r["number"] for r in licenses}
    work = [r for r in rows if r["section"] == "Work history"][0]
    assert work["employer"] == "'@Clinic"
    assert not any(v.startswith(("=", "+", "@")) for r in rows for v in r.values() if v)
