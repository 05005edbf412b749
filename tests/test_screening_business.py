"""Business-name screening of organizational providers (issue 9, item 16), through the
coordinator's "run now" (the run queued by the page, executed by the `screening.run_org`
task): legal name against a LEIE BUSNAME cut at 30 characters with "&" written AND, a DBA
against a SAM entity, a former name and an NPPES former name, a different business name
(no match), NPI 0000000000 (never matched); the match page and the PSV record say which
file and line the record came from; legal and DBA names through the form, the API and the
CSV import.

The LEIE supplement here is a synthetic one in the real format (the real header and
quoting of OIG's 1610EXCL.csv): the real samples hold no entity whose name was cut.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from credex.models import Role
from credex.tenancy import tenant_context
from roster.models import Provider
from screening import tasks
from screening.loaders import DatasetError, load_dataset
from screening.models import HitKind, LeieRecord, ScreeningHit, ScreeningRun
from screening.nppes.models import NppesCheck
from tests.factories import make_provider, valid_npi

FIXTURES = Path(__file__).parent / "fixtures_screening"
HEADER = (FIXTURES / "1610EXCL.csv").read_text().splitlines()[0]


def leie_row(**values) -> str:
    """One line in 1610EXCL.csv's style: every value quoted, empty ones left bare."""
    columns = next(csv.reader([HEADER]))
    row = dict.fromkeys(columns, "") | {
        "NPI": "0000000000",
        "DOB": "00000000",
        "REINDATE": "00000000",
        "WAIVERDATE": "00000000",
        "EXCLTYPE": "1128b7",
        "EXCLDATE": "20161117",
        "GENERAL": "OTHER BUSINESS",
        "SPECIALTY": "DME COMPANY",
    }
    row.update(values)
    return ",".join(f'"{row[c]}"' if row[c] else "" for c in columns)


ENTITY_ROWS = [
    # "SMITH & JONES MEDICAL SUPPLY, INC." as LEIE publishes it: AND, cut at 30 characters.
    leie_row(BUSNAME="SMITH AND JONES MEDICAL SUPPLY", STATE="OH", CITY="DAYTON"),
    # "RIVERSIDE HOME HEALTH & HOSPICE SERVICES LLC", cut inside a word.
    leie_row(BUSNAME="RIVERSIDE HOME HEALTH AND HOSP", STATE="OH", CITY="AKRON"),
    leie_row(BUSNAME="NORTHGATE DURABLE MEDICAL EQUI", STATE="PA", CITY="ERIE"),
]


@pytest.fixture
def lists(tmp_path):
    load_dataset(
        source="leie", origin=str(FIXTURES / "UPDATED_head_2026.csv"), as_of=date(2016, 11, 1)
    )
    supplement = tmp_path / "1611EXCL.csv"
    supplement.write_text("\n".join([HEADER, *ENTITY_ROWS]) + "\n")
    leie = load_dataset(source="leie", origin=str(supplement)).version
    # An older supplement is refused: the list keeps its November date.
    with pytest.raises(DatasetError, match="older than the active LEIE list"):
        load_dataset(source="leie", origin=str(FIXTURES / "1610REIN.csv"))
    load_dataset(
        source="sam",
        origin=str(FIXTURES / "extract_v2_sample_2023-11.csv"),
        as_of=date(2023, 11, 22),  # the sample's name carries no date
    )
    return leie


def org_provider(org, seed, **fields):
    return make_provider(org, seed=seed, first_name="", last_name="", provider_type="MD", **fields)


@pytest.fixture
def roster(tenant_a, lists):
    org = tenant_a.org
    providers = {
        "smith": org_provider(org, 201, legal_name="SMITH & JONES MEDICAL SUPPLY, INC."),
        "terra": org_provider(
            org, 202, legal_name="Terra Holdings LLC", dba_name="Terra Klean Solutions, Inc"
        ),
        "riverside": org_provider(
            org,
            203,
            legal_name="Riverside Care Partners LLC",
            former_names=["Riverside Home Health & Hospice Services LLC"],
        ),
        "northgate": org_provider(org, 204, legal_name="Lakeview Supply Co"),
        "dental": org_provider(org, 205, legal_name="Smith & Jones Dental Supply, Inc."),
        # Legacy data: an NPI of zeros, as LEIE writes "no NPI".
        "zeros": make_provider(
            org, seed=206, first_name="Quinn", last_name="Vale", npi="0000000000"
        ),
    }
    with tenant_context(org):
        NppesCheck.objects.create(
            organization=org,
            provider=providers["northgate"],
            npi=providers["northgate"].npi,
            outcome="match",
            record={
                "other_names": [
                    {
                        "organization_name": "NORTHGATE DURABLE MEDICAL EQUIPMENT INC",
                        "type": "Former Name",
                        "code": "3",
                    }
                ]
            },
        )
    return providers


def run_now(login, tenant):
    """The coordinator presses "run now"; the worker's task executes the queued run."""
    response = login(tenant.coordinator).post(f"/o/{tenant.org.slug}/screening/runs/")
    assert response.status_code == 302
    with tenant_context(tenant.org):
        run = ScreeningRun.objects.get(trigger="on_demand")
    tasks.run_org.apply(kwargs={"org_id": str(tenant.org.pk), "run_id": str(run.pk)})
    with tenant_context(tenant.org):
        run.refresh_from_db()
        hits = list(ScreeningHit.objects.all())
    assert run.status == "done", run.error
    return run, hits


def hits_of(hits, provider, source=None):
    return [h for h in hits if h.provider_id == provider.pk and source in (None, h.source)]


def test_run_now_finds_the_cut_leie_busname_with_and_for_an_ampersand(login, tenant_a, roster):
    _run, hits = run_now(login, tenant_a)

    (hit,) = hits_of(hits, roster["smith"])
    assert (hit.source, hit.kind, hit.matched_fields) == (
        "leie",
        HitKind.BUSINESS,
        ["business_name"],
    )
    assert hit.record_snapshot["BUSNAME"] == "SMITH AND JONES MEDICAL SUPPLY"
    assert hit.explanation["name_used"] == "legal name"
    assert hit.explanation["compared"]["ours"] == "SMITH & JONES MEDICAL SUPPLY, INC."
    assert hit.explanation["compared"]["theirs"] == "SMITH AND JONES MEDICAL SUPPLY"
    assert any("“&” was read as “AND”" in n for n in hit.explanation["notes"])
    assert (hit.record_snapshot["_file"], hit.record_snapshot["_line"]) == ("1611EXCL.csv", 2)


def test_run_now_finds_a_sam_entity_by_the_dba_name(login, tenant_a, roster):
    _run, hits = run_now(login, tenant_a)

    sam = hits_of(hits, roster["terra"], "sam")
    assert sam and {h.kind for h in sam} == {HitKind.BUSINESS}
    assert sam[0].record_snapshot["Name"] == "TERRA KLEAN SOLUTIONS INC."
    assert sam[0].record_snapshot["Classification"] == "Firm"
    assert sam[0].explanation["name_used"] == "DBA name"
    assert not hits_of(hits, roster["terra"], "leie")


def test_former_names_and_nppes_former_names_are_screened(login, tenant_a, roster):
    _run, hits = run_now(login, tenant_a)

    (riverside,) = hits_of(hits, roster["riverside"])
    assert riverside.record_snapshot["BUSNAME"] == "RIVERSIDE HOME HEALTH AND HOSP"
    assert riverside.explanation["name_used"] == (
        "former name “Riverside Home Health & Hospice Services LLC”"
    )
    assert riverside.explanation["prefix_match"] is True
    assert "cuts business names at 30 characters" in riverside.explanation["notes"][0]
    (northgate,) = hits_of(hits, roster["northgate"])
    assert northgate.record_snapshot["BUSNAME"] == "NORTHGATE DURABLE MEDICAL EQUI"
    assert northgate.explanation["name_used"].startswith("NPPES former name")


def test_a_different_business_name_and_an_npi_of_zeros_match_nothing(login, tenant_a, roster):
    _run, hits = run_now(login, tenant_a)

    assert hits_of(hits, roster["dental"]) == []
    assert hits_of(hits, roster["zeros"]) == []
    # The LEIE entity whose NPI is 0000000000 is stored with no NPI at all.
    marketing = LeieRecord.objects.filter(busname="#1 MARKETING SERVICE, INC").first()
    assert marketing.npi == ""


def test_the_match_page_shows_the_business_name_comparison_and_the_file_line(
    login, tenant_a, roster
):
    _run, hits = run_now(login, tenant_a)
    (hit,) = hits_of(hits, roster["smith"])

    page = login(tenant_a.coordinator).get(f"/o/{tenant_a.org.slug}/screening/hits/{hit.pk}/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "Business names compared: ours “SMITH &amp; JONES MEDICAL SUPPLY, INC.”" in html
    assert "the list's “SMITH AND JONES MEDICAL SUPPLY”" in html
    assert "OIG LEIE file 1611EXCL.csv, line 2" in html


def test_the_psv_record_names_the_file_and_line_and_keeps_the_lists_date(login, tenant_a, roster):
    from verifications.models import Verification

    run, _hits = run_now(login, tenant_a)

    with tenant_context(tenant_a.org):
        record = Verification.objects.get(
            provider=roster["smith"], reference=str(run.pk), source="oig"
        )
        clean = Verification.objects.get(
            provider=roster["dental"], reference=str(run.pk), source="oig"
        )
    assert record.data["as_of"] == "2016-11-01" == clean.data["as_of"]
    assert "Matched: OIG LEIE file 1611EXCL.csv, line 2." in record.details
    assert record.data["matched_records"][0]["file"] == "1611EXCL.csv"
    assert record.data["matched_records"][0]["line"] == 2
    assert "matched_records" not in clean.data


# --- legal and DBA names on the form, the API and the import -------------------------------


def test_an_organization_is_added_through_the_api_with_a_legal_and_dba_name(tenant_a, client):
    from credex.services import api_key_create

    with tenant_context(tenant_a.org):
        key = api_key_create(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            name="k",
            role=Role.COORDINATOR,
        )[1]
    body = {
        "npi": valid_npi(77),
        "legal_name": "Smith & Jones Medical Supply, Inc.",
        "dba_name": "S&J Medical",
        "provider_type": "MD",
    }
    created = client.post(
        "/api/v1/providers",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )
    assert created.status_code == 201, created.content
    out = created.json()
    assert (out["legal_name"], out["dba_name"]) == (body["legal_name"], "S&J Medical")
    assert out["full_name"] == "S&J Medical"
    # A person still needs a name.
    person = client.post(
        "/api/v1/providers",
        json.dumps({"npi": valid_npi(78), "provider_type": "MD"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )
    assert person.status_code == 400
    assert "legal business name" in person.json()["details"]["first_name"]


def test_the_provider_form_edits_the_legal_and_dba_names(login, tenant_a):
    provider = make_provider(tenant_a.org, seed=90)
    client = login(tenant_a.coordinator)
    url = f"/o/{tenant_a.org.slug}/providers/{provider.pk}/edit/"
    form = client.get(url).content.decode()
    assert 'name="legal_name"' in form and 'name="dba_name"' in form
    with tenant_context(tenant_a.org):
        data = {
            name: getattr(provider, name)
            for name in ("first_name", "last_name", "npi", "provider_type", "status")
        }
    data.update(legal_name="Doe Family Practice PC", dba_name="Doe Clinic", practice_states=["CA"])

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(tenant_a.org):
        provider = Provider.objects.get(pk=provider.pk)
    assert (provider.legal_name, provider.dba_name) == ("Doe Family Practice PC", "Doe Clinic")


def test_the_import_maps_legal_and_dba_name_columns(tenant_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from roster.importer.format import COLUMN_NAMES
    from roster.services.imports import import_job_create

    header = ["npi", "first_name", "last_name", "provider_type", "legal_name", "dba_name"]
    assert set(header) <= set(COLUMN_NAMES)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    # An organization: no person's name, its legal and DBA names instead.
    writer.writerow([valid_npi(91), "", "", "MD", "Smith & Jones Medical Supply, Inc.", "S&J"])
    with tenant_context(tenant_a.org):
        job = import_job_create(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.coordinator),
            csv_file=SimpleUploadedFile("roster.csv", buffer.getvalue().encode()),
            documents_zip=None,
            run="auto",
        )
        assert not job.errors, job.errors
        provider = Provider.objects.get(npi=valid_npi(91))
    assert (provider.legal_name, provider.dba_name) == ("Smith & Jones Medical Supply, Inc.", "S&J")
