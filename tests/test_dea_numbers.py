"""DEA registration numbers: the format (registrant-type letter, last-name initial or 9, seven
digits with the check digit) through every entry point that validates one: the credential form,
the API, the CSV import and the document extraction's checks."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from credex.tenancy import tenant_context
from roster import importer
from roster.models import Credential, ImportStatus, Provider
from roster.services import providers as svc
from roster.services.imports import import_job_create
from roster.validation import dea_problem
from tests.factories import valid_npi
from verifications.extraction.parsing import parse_fields
from verifications.extraction.validation import validate_fields

pytestmark = pytest.mark.django_db

# (d1 + d3 + d5) + 2 * (d2 + d4 + d6) ends in d7: 1234563 -> (1+3+5) + 2*(2+4+6) = 33.
VALID = [
    "AB1234563",  # practitioner, last name B...
    "BJ1234563",
    "FS1234563",  # F: practitioners since A and B ran out
    "F91234563",  # 9: registered under a business address/name
    "GD7654329",  # G: (7+5+3) + 2*(6+4+2) = 39
    "MP1234563",  # M: mid-level practitioner (NP, PA, CRNA)
    "M91234563",
    "XB1234563",  # X: former DATA-waiver registration
    "PT1234563",  # P-U: narcotic treatment programs, distributors
    "ab1234563",  # typed in lower case
    " AB1234563 ",
]

INVALID = [
    ("AB1234564", "check digit"),  # wrong check digit
    ("F91234564", "check digit"),
    ("M91234560", "check digit"),
    ("AB123456", "seven digits"),  # six digits
    ("AB12345633", "seven digits"),  # eight digits
    ("A12345633", "seven digits"),  # one letter and eight digits
    ("9B1234563", "seven digits"),  # a digit for the registrant type
    ("A81234563", "seven digits"),  # the second character is a letter or 9, never 8
    ("AB-1234563", "seven digits"),
    ("ABC123456", "seven digits"),
    ("IB1234563", "registrant type"),  # I is not issued
    ("ZB1234563", "registrant type"),
    ("", "seven digits"),
]


@pytest.fixture(autouse=True)
def _generous_throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


def add_provider(tenant, seed=1, **fields):
    data = {
        "first_name": "Pat",
        "last_name": "Barton",
        "npi": valid_npi(seed),
        "provider_type": "NP",
        "practice_states": ["CA"],
        "status": "active",
        **fields,
    }
    with tenant_context(tenant.org):
        return svc.provider_create(org=tenant.org, actor=tenant.membership(tenant.owner), **data)


def credentials(tenant) -> list[Credential]:
    with tenant_context(tenant.org):
        return list(Credential.objects.all())


@pytest.mark.parametrize("number", VALID)
def test_every_form_of_a_valid_dea_number_passes_the_rule(number):
    assert dea_problem(number) is None


@pytest.mark.parametrize("number,reason", INVALID)
def test_every_malformed_dea_number_is_refused_with_a_reason(number, reason):
    assert reason in (dea_problem(number) or "")


@pytest.mark.parametrize("number", ["F91234563", "MP1234563", "XB1234563"])
def test_the_credential_form_accepts_a_business_mid_level_or_x_dea_number(tenant_a, login, number):
    provider = add_provider(tenant_a)
    response = login(tenant_a.coordinator).post(
        reverse(
            "credential_new", kwargs={"org_slug": tenant_a.org.slug, "provider_id": provider.pk}
        ),
        {"kind": "dea", "number": number, "state": "CA", "status": "active"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [(c.kind, c.number) for c in credentials(tenant_a)] == [("dea", number)]


@pytest.mark.parametrize("number,reason", [("F91234564", "check digit"), ("IB1234563", "type")])
def test_the_credential_form_refuses_a_bad_dea_number_next_to_the_field(
    tenant_a, login, number, reason
):
    provider = add_provider(tenant_a)
    response = login(tenant_a.coordinator).post(
        reverse(
            "credential_new", kwargs={"org_slug": tenant_a.org.slug, "provider_id": provider.pk}
        ),
        {"kind": "dea", "number": number, "state": "CA", "status": "active"},
    )
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert credentials(tenant_a) == []


def _api_post(client, tenant, provider, number):
    return client.post(
        f"/api/v1/providers/{provider.pk}/credentials",
        json.dumps({"kind": "dea", "number": number, "state": "TX"}),
        content_type="application/json",
        HTTP_X_CREDEX_ORGANIZATION=tenant.org.slug,
    )


def test_the_api_accepts_a_dea_number_registered_under_a_business(tenant_a, login):
    provider = add_provider(tenant_a)
    response = _api_post(login(tenant_a.coordinator), tenant_a, provider, "F91234563")
    assert response.status_code == 201, response.content[:500]
    assert response.json()["number"] == "F91234563"


@pytest.mark.parametrize("number,reason", INVALID[:3] + INVALID[7:8] + INVALID[10:11])
def test_the_api_refuses_a_bad_dea_number_with_the_error_shape_and_writes_nothing(
    tenant_a, login, number, reason
):
    provider = add_provider(tenant_a)
    response = _api_post(login(tenant_a.coordinator), tenant_a, provider, number)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert reason in json.dumps(body["details"])
    assert credentials(tenant_a) == []


def test_an_outsider_cannot_add_a_dea_number_to_another_organizations_provider(
    tenant_a, tenant_b, login
):
    provider = add_provider(tenant_a)
    response = _api_post(login(tenant_b.owner), tenant_b, provider, "F91234563")
    assert response.status_code == 404
    assert credentials(tenant_a) == [] and credentials(tenant_b) == []


def _import(tenant, number):
    row = {
        "npi": valid_npi(7),
        "first_name": "Ann",
        "last_name": "Lee",
        "provider_type": "NP",
        "primary_taxonomy": "363LF0000X",
        "practice_states": "CA",
        "status": "active",
        "email": "ann@clinic.example",
        "credential_kind": "dea",
        "credential_number": number,
        "credential_state": "CA",
        "credential_expiry_date": "2028-01-31",
    }
    header = importer.COLUMN_NAMES
    lines = [",".join(header), ",".join(row.get(c, "") for c in header)]
    with tenant_context(tenant.org):
        return import_job_create(
            org=tenant.org,
            actor=tenant.membership(tenant.coordinator),
            csv_file=SimpleUploadedFile("roster.csv", ("\r\n".join(lines) + "\r\n").encode()),
            documents_zip=None,
            run="auto",
        )


def test_the_import_accepts_a_business_dea_number(tenant_a, settings):
    job = _import(tenant_a, "f91234563")
    assert job.status == ImportStatus.DONE, job.errors
    assert [(c.kind, c.number) for c in credentials(tenant_a)] == [("dea", "F91234563")]


@pytest.mark.parametrize("number,reason", [("F91234564", "check digit"), ("A81234563", "9")])
def test_the_import_refuses_a_bad_dea_number_and_writes_nothing(tenant_a, number, reason):
    job = _import(tenant_a, number)
    assert job.status == ImportStatus.REJECTED
    problems = [e for e in job.errors if e["column"] == "credential_number"]
    assert problems and reason in problems[0]["reason"]
    with tenant_context(tenant_a.org):
        assert Provider.objects.count() == 0 and Credential.objects.count() == 0


def _extracted(number, last_name="Barton"):
    text = f"DEA Registration Number: {number}\nState: TX\nExpires: 2027-01-31"
    return validate_fields(
        parse_fields(text, "dea"), document_kind="dea", last_name=last_name, full_name="Pat X"
    )


def test_extraction_reads_a_business_dea_number_without_a_problem():
    fields, problems = _extracted("F91234563")
    assert fields["number"].value == "F91234563"
    assert [p for p in problems if p["field"] == "number"] == []


def test_extraction_flags_a_business_dea_number_with_a_wrong_check_digit():
    fields, problems = _extracted("F91234564")
    assert [p["code"] for p in problems if p["field"] == "number"] == ["dea_check_digit"]
    assert fields["number"].confidence < 0.5
