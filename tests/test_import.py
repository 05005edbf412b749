"""CSV bulk import: every rule, all-or-nothing, the error list and CSV, the command, the worker,
the pages and the API (allowed role, auditor, outsider, anonymous)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connections, transaction
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from roster import importer
from roster.models import (
    Credential,
    CredentialRequirement,
    Document,
    DocumentStatus,
    ImportJob,
    ImportStatus,
    Provider,
)
from roster.services.imports import JobProgress, import_job_create
from tests.conftest import own_queue_worker
from tests.factories import PDF_BYTES, make_provider, valid_npi
from tests.waiting import wait_for

PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)
ROSTER_EVENTS = ("roster.provider.", "roster.credential.", "roster.document.")


# --- helpers ---------------------------------------------------------------------------------
def row(seed: int, **over) -> dict:
    """One valid row: an MD in CA with a CA state license."""
    base = {
        "npi": valid_npi(seed),
        "first_name": "Ann",
        "last_name": f"Lee{seed}",
        "provider_type": "MD",
        "primary_taxonomy": "207R00000X",
        "practice_states": "CA",
        "dob": "1980-02-29",
        "ssn": "123-45-6789",
        "email": f"ann{seed}@clinic.example",
        "status": "active",
        "credential_kind": "state_license",
        "credential_number": f"A{seed}",
        "credential_state": "CA",
        "credential_issuer": "Medical Board of California",
        "credential_issue_date": "2024-01-01",
        "credential_expiry_date": "01/31/2027",
    }
    base.update(over)
    return base


def csv_bytes(rows, header=importer.COLUMN_NAMES, *, bom=False, crlf=True) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([r.get(c, "") for c in header])
    data = buffer.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def run(tenant, data: bytes, *, documents: bytes | None = None, user=None, run_mode="auto"):
    actor = tenant.membership(user or tenant.coordinator)
    with tenant_context(tenant.org):
        return import_job_create(
            org=tenant.org,
            actor=actor,
            csv_file=SimpleUploadedFile("roster.csv", data),
            documents_zip=SimpleUploadedFile("docs.zip", documents) if documents else None,
            run=run_mode,
        )


def counts(org) -> dict:
    with tenant_context(org):
        return {
            "providers": Provider.objects.count(),
            "credentials": Credential.objects.count(),
            "documents": Document.objects.count(),
            "roster_events": AuditEvent.objects.filter(organization=org)
            .filter(action__regex=r"^roster\.(provider|credential|document)\.")
            .count(),
        }


def errors_of(job) -> list[tuple]:
    return [(e["row"], e["column"]) for e in job.errors]


def reasons(job) -> str:
    return " | ".join(e["reason"] for e in job.errors)


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "documents"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- a clean file ------------------------------------------------------------------------------
def test_a_valid_file_adds_providers_with_credentials_and_audits_every_write(tenant_a):
    job = run(
        tenant_a,
        csv_bytes(
            [
                row(1),
                row(
                    2,
                    credential_kind="",
                    credential_number="",
                    credential_state="",
                    credential_issuer="",
                    credential_issue_date="",
                    credential_expiry_date="",
                ),
            ]
        ),
    )
    assert job.status == ImportStatus.DONE, job.errors
    assert (job.total_rows, job.processed_rows, job.created_count, job.updated_count) == (
        2,
        2,
        2,
        0,
    )
    with tenant_context(tenant_a.org):
        ann = Provider.objects.get(npi=valid_npi(1))
        assert ann.practice_states == ["CA"] and ann.taxonomy_codes == ["207R00000X"]
        assert ann.primary_taxonomy_id == "207R00000X" and ann.status == "active"
        assert ann.ssn_last4 == "6789" and "123456789" not in ann.ssn_encrypted
        from roster.services.providers import provider_dob

        assert provider_dob(ann) == date(1980, 2, 29)
        cred = Credential.objects.get(provider=ann)
        assert (cred.kind, cred.state, cred.number) == ("state_license", "CA", "A1")
        assert (cred.issue_date, cred.expiry_date) == (date(2024, 1, 1), date(2027, 1, 31))
        events = AuditEvent.objects.filter(organization=tenant_a.org)
        assert events.filter(action="roster.provider.created").count() == 2
        assert events.filter(action="roster.credential.created").count() == 1
        created = events.get(action="roster.provider.created", target_id=str(ann.pk))
        assert created.data["import_job"] == str(job.pk) and created.actor_label == (
            tenant_a.coordinator.email
        )
        assert events.filter(action="roster.import.completed", target_id=str(job.pk)).exists()
    assert call_command_ok("audit_verify", org=tenant_a.org.slug)


def call_command_ok(*args, **kwargs) -> bool:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **kwargs)
    return "OK" in out.getvalue()


def test_a_provider_with_several_credentials_takes_one_row_each_with_the_same_npi(tenant_a):
    npi = valid_npi(7)
    rows = [
        row(7, practice_states="CA;NV"),
        # provider columns blank after the first row: only the credential columns
        {
            "npi": npi,
            "credential_kind": "state_license",
            "credential_number": "NV1",
            "credential_state": "NV",
            "credential_expiry_date": "2027-05-01",
        },
        # or repeated exactly: fine too
        row(
            7,
            practice_states="CA;NV",
            credential_kind="DEA registration",
            credential_number="AB1234563",
            credential_state="CA",
        ),
    ]
    job = run(tenant_a, csv_bytes(rows))
    assert job.status == ImportStatus.DONE, job.errors
    with tenant_context(tenant_a.org):
        provider = Provider.objects.get(npi=npi)
        kinds = sorted(Credential.objects.filter(provider=provider).values_list("kind", "state"))
    assert kinds == [("dea", "CA"), ("state_license", "CA"), ("state_license", "NV")]
    assert job.created_count == 1


def test_utf8_with_a_bom_and_lf_line_endings_is_read(tenant_a):
    data = csv_bytes([row(3, first_name="José", last_name="Ñúñez")], bom=True, crlf=False)
    job = run(tenant_a, data)
    assert job.status == ImportStatus.DONE, job.errors
    with tenant_context(tenant_a.org):
        assert Provider.objects.get(npi=valid_npi(3)).full_name == "José Ñúñez"


def test_an_npi_already_on_the_roster_updates_that_provider(tenant_a):
    existing = make_provider(tenant_a.org, seed=5, first_name="Pat", phone="555-0100")
    with tenant_context(tenant_a.org):
        old = Credential.objects.create(
            organization=tenant_a.org,
            provider=existing,
            kind="state_license",
            number="A5",
            state="CA",
            issue_date=date(2022, 1, 1),
            expiry_date=date(2025, 1, 31),
        )
    update = {
        "npi": valid_npi(5),
        "first_name": "",
        "last_name": "",
        "provider_type": "",
        "email": "pat.new@clinic.example",
        "practice_states": "CA",
        "credential_kind": "state_license",
        "credential_number": "A5",
        "credential_state": "CA",
        "credential_expiry_date": "2028-01-31",
    }
    job = run(tenant_a, csv_bytes([update]))
    assert job.status == ImportStatus.DONE, job.errors
    assert (job.created_count, job.updated_count) == (0, 1)
    with tenant_context(tenant_a.org):
        provider = Provider.objects.get(pk=existing.pk)
        assert provider.email == "pat.new@clinic.example"
        assert (provider.first_name, provider.phone) == ("Pat", "555-0100")  # blanks keep values
        assert Credential.objects.filter(provider=provider).count() == 1  # matched, not added
        old.refresh_from_db()
        assert old.expiry_date == date(2028, 1, 31) and old.issue_date == date(2022, 1, 1)
        event = AuditEvent.objects.get(action="roster.provider.updated", target_id=str(existing.pk))
        assert event.data["changes"]["email"]["to"] == "pat.new@clinic.example"
        assert AuditEvent.objects.filter(
            action="roster.credential.updated", target_id=str(old.pk)
        ).exists()


# --- one test per rule -------------------------------------------------------------------------
def _rejected(tenant, rows, **kw):
    before = counts(tenant.org)
    job = run(tenant, csv_bytes(rows), **kw)
    assert job.status == ImportStatus.REJECTED
    assert counts(tenant.org) == before, "a rejected import wrote something"
    return job


def test_an_npi_that_fails_its_check_digit_is_refused(tenant_a):
    bad = valid_npi(9)[:-1] + str((int(valid_npi(9)[-1]) + 1) % 10)
    job = _rejected(tenant_a, [row(8), row(9, npi=bad)])
    assert errors_of(job) == [(3, "npi")]
    assert job.errors[0]["value"] == bad and "check digit" in job.errors[0]["reason"]


def test_an_unknown_taxonomy_code_is_refused(tenant_a):
    job = _rejected(tenant_a, [row(10, primary_taxonomy="207R99999X")])
    assert errors_of(job) == [(2, "primary_taxonomy")]
    job = _rejected(tenant_a, [row(10, taxonomy_codes="207R00000X;999999999X")])
    assert errors_of(job) == [(2, "taxonomy_codes")] and "999999999X" in reasons(job)


def test_a_state_that_is_not_a_us_state_or_territory_is_refused(tenant_a):
    job = _rejected(tenant_a, [row(11, practice_states="CA;XX", credential_state="ZZ")])
    assert errors_of(job) == [(2, "practice_states"), (2, "credential_state")]
    assert "XX" in job.errors[0]["reason"]


def test_a_license_state_outside_the_practice_states_is_refused(tenant_a):
    job = _rejected(tenant_a, [row(12, practice_states="CA", credential_state="NV")])
    assert errors_of(job) == [(2, "credential_state")]
    assert "practice states (CA)" in reasons(job)


def test_an_unparseable_date_is_refused(tenant_a):
    job = _rejected(tenant_a, [row(13, credential_issue_date="13/45/2024", hire_date="yesterday")])
    assert errors_of(job) == [(2, "hire_date"), (2, "credential_issue_date")]
    assert "YYYY-MM-DD or MM/DD/YYYY" in reasons(job)


def test_an_expiry_before_the_issue_date_is_refused(tenant_a):
    job = _rejected(
        tenant_a,
        [row(14, credential_issue_date="2025-06-01", credential_expiry_date="06/01/2024")],
    )
    assert errors_of(job) == [(2, "credential_expiry_date")]
    assert "after the issue date" in reasons(job)


def _require_license_document(tenant):
    with tenant_context(tenant.org):
        CredentialRequirement.objects.create(
            organization=tenant.org,
            provider_type="MD",
            kind="state_license",
            document_required=True,
        )


def test_a_required_document_that_is_not_named_is_refused(tenant_a):
    _require_license_document(tenant_a)
    job = _rejected(tenant_a, [row(15), row(16, provider_type="NP")])
    assert errors_of(job) == [(2, "document_file")]
    assert "needs a state license document" in reasons(job)


def test_a_document_named_but_missing_from_the_zip_is_refused(tenant_a):
    _require_license_document(tenant_a)
    docs = zip_bytes({"licenses/other.pdf": PDF_BYTES})
    job = _rejected(tenant_a, [row(17, document_file="lee17.pdf")], documents=docs)
    assert errors_of(job) == [(2, "document_file")]
    assert "not in the documents ZIP" in reasons(job)
    job = _rejected(tenant_a, [row(17, document_file="lee17.pdf")])  # no ZIP at all
    assert "No documents ZIP" in reasons(job)


def test_a_file_named_pdf_that_is_not_a_pdf_is_refused(tenant_a):
    docs = zip_bytes({"lee18.pdf": b"MZ\x90\x00 this is a program, not a PDF"})
    job = _rejected(tenant_a, [row(18, document_file="lee18.pdf")], documents=docs)
    assert errors_of(job) == [(2, "document_file")]
    assert "PDF, PNG or JPEG" in reasons(job)
    assert not stored_files()


def test_the_same_npi_for_two_different_people_is_refused(tenant_a):
    job = _rejected(
        tenant_a, [row(19), row(19, first_name="Bob", last_name="Other", credential_number="B1")]
    )
    assert errors_of(job) == [(3, "first_name"), (3, "last_name")]
    assert "already used on row 2" in reasons(job)


def test_the_same_credential_twice_for_one_npi_is_refused(tenant_a):
    job = _rejected(tenant_a, [row(20), row(20)])
    assert errors_of(job) == [(3, "credential_number")]


def test_unknown_and_missing_header_columns_are_a_header_error(tenant_a):
    header = [c for c in importer.COLUMN_NAMES if c != "last_name"] + ["favourite_colour"]
    before = counts(tenant_a.org)
    job = run(tenant_a, csv_bytes([row(21)], header=header))
    assert job.status == ImportStatus.REJECTED
    assert errors_of(job) == [(1, "favourite_colour"), (1, "last_name")]
    assert "Unknown column" in reasons(job) and "missing" in reasons(job)
    assert counts(tenant_a.org) == before


def test_a_file_in_another_encoding_is_refused_naming_the_line(tenant_a):
    data = csv_bytes([row(22), row(23)]).decode().replace("Lee23", "Lée23").encode("cp1252")
    job = _rejected(tenant_a, []) if False else run(tenant_a, data)
    assert job.status == ImportStatus.REJECTED
    assert errors_of(job) == [(3, "")]
    assert "Line 3 is not UTF-8" in reasons(job) and "CSV UTF-8" in reasons(job)
    assert counts(tenant_a.org)["providers"] == 0


def test_a_row_with_more_cells_than_the_header_is_refused(tenant_a):
    data = csv_bytes([row(24)]) + b",".join([b"x"] * (len(importer.COLUMN_NAMES) + 2)) + b"\r\n"
    job = run(tenant_a, data)
    assert job.status == ImportStatus.REJECTED and errors_of(job) == [(3, "")]
    assert "double quotes" in reasons(job)


def test_a_coordinator_email_must_name_a_member_who_works_the_roster(tenant_a):
    job = _rejected(tenant_a, [row(25, coordinator_email=tenant_a.auditor.email)])
    assert errors_of(job) == [(2, "coordinator_email")]
    job = run(tenant_a, csv_bytes([row(25, coordinator_email=tenant_a.coordinator.email.upper())]))
    assert job.status == ImportStatus.DONE, job.errors
    with tenant_context(tenant_a.org):
        assert Provider.objects.get(npi=valid_npi(25)).coordinator.user == tenant_a.coordinator


# --- all or nothing, every error at once ------------------------------------------------------
def test_one_bad_row_among_many_writes_nothing_at_all(tenant_a):
    _require_license_document(tenant_a)
    rows = [row(100 + i, document_file=f"lic{i}.pdf") for i in range(60)]
    rows[41] = row(141, document_file="lic41.pdf", credential_expiry_date="2020-01-01")
    docs = zip_bytes({f"lic{i}.pdf": PDF_BYTES for i in range(60)})
    job = _rejected(tenant_a, rows, documents=docs)
    assert errors_of(job) == [(43, "credential_expiry_date")], job.errors[:2]
    assert counts(tenant_a.org) == {
        "providers": 0,
        "credentials": 0,
        "documents": 0,
        "roster_events": 0,
    }
    assert not stored_files()
    with tenant_context(tenant_a.org):
        rejected = AuditEvent.objects.get(action="roster.import.rejected")
    assert rejected.data == {"rows": 60, "errors": 1}


def test_every_problem_in_the_file_is_reported_at_once_in_row_order(tenant_a):
    rows = [
        row(200, npi="123"),
        row(201),
        row(202, dob="02/30/1980", email="not-an-email"),
        row(203, provider_type="XYZ", credential_kind="spaceship"),
        row(204, first_name="", last_name=""),
    ]
    job = _rejected(tenant_a, rows)
    assert errors_of(job) == [
        (2, "npi"),
        (4, "dob"),
        (4, "email"),
        (5, "provider_type"),
        (5, "credential_kind"),
        (6, "first_name"),
        (6, "last_name"),
    ]
    dob_error = job.errors[1]
    assert dob_error["value"] == "(hidden, 10 characters)"  # a DOB is never echoed back


# --- documents from the ZIP -------------------------------------------------------------------
def test_required_documents_in_the_zip_are_stored_accepted_with_their_sniffed_type(tenant_a):
    _require_license_document(tenant_a)
    docs = zip_bytes({"scans/lee30.pdf": PDF_BYTES, "cv30.png": PNG_BYTES})
    rows = [
        row(30, document_file="lee30.pdf"),
        {"npi": valid_npi(30), "document_file": "cv30.png", "document_kind": "cv"},
    ]
    job = run(tenant_a, csv_bytes(rows), documents=docs)
    assert job.status == ImportStatus.DONE, job.errors
    with tenant_context(tenant_a.org):
        license_doc = Document.objects.get(kind="license")
        cv = Document.objects.get(kind="cv")
        assert license_doc.credential.kind == "state_license" and cv.credential is None
        assert (license_doc.content_type, cv.content_type) == ("application/pdf", "image/png")
        assert license_doc.status == DocumentStatus.ACCEPTED
        assert license_doc.uploaded_by.user == tenant_a.coordinator
        assert license_doc.file.read() == PDF_BYTES and license_doc.original_name == "lee30.pdf"
        assert AuditEvent.objects.filter(action="roster.document.uploaded").count() == 2
    assert len(stored_files()) == 2


def test_an_update_needs_no_document_the_roster_already_holds(tenant_a):
    _require_license_document(tenant_a)
    first = run(
        tenant_a,
        csv_bytes([row(31, document_file="l.pdf")]),
        documents=zip_bytes({"l.pdf": PDF_BYTES}),
    )
    assert first.status == ImportStatus.DONE, first.errors
    again = run(tenant_a, csv_bytes([{"npi": valid_npi(31), "phone": "+1 555 0101"}]))
    assert again.status == ImportStatus.DONE, again.errors


# --- formulas, the error list and its CSV -----------------------------------------------------
def test_values_that_look_like_formulas_are_stored_as_given(tenant_a):
    job = run(tenant_a, csv_bytes([row(40, phone="+1 (555) 010-0200", middle_name="=Q")]))
    assert job.status == ImportStatus.DONE, job.errors
    with tenant_context(tenant_a.org):
        provider = Provider.objects.get(npi=valid_npi(40))
    assert (provider.phone, provider.middle_name) == ("+1 (555) 010-0200", "=Q")


def test_the_error_csv_lists_every_error_with_formula_cells_neutralized(tenant_a, login):
    evil = '=HYPERLINK("http://evil.example","x")'
    job = _rejected(tenant_a, [row(41, provider_type=evil), row(42, credential_state="@SUM(A1)")])
    response = login(tenant_a.coordinator).get(
        f"/o/{tenant_a.org.slug}/imports/{job.pk}/errors.csv"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["row", "column", "value", "reason"]
    assert [r[:3] for r in rows[1:]] == [
        ["2", "provider_type", "'" + evil],
        ["3", "credential_state", "'@SUM(A1)"],
    ]
    with tenant_context(tenant_a.org):
        assert AuditEvent.objects.filter(
            action="roster.import.errors_downloaded", target_id=str(job.pk)
        ).exists()


def test_the_template_carries_the_documented_header():
    static = Path(settings.BASE_DIR) / "static" / "roster" / "import_template.csv"
    header = next(csv.reader(io.StringIO(static.read_text(encoding="utf-8"))))
    assert tuple(header) == importer.COLUMN_NAMES
    guide = (Path(settings.BASE_DIR) / "docs" / "import.md").read_text(encoding="utf-8")
    for name in importer.COLUMN_NAMES:
        assert f"`{name}`" in guide, name


# --- the management command -------------------------------------------------------------------
def test_the_command_imports_a_clean_file_and_exits_0(tenant_a, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes([row(50), row(51)]))
    out = io.StringIO()
    call_command(
        "import_roster",
        str(path),
        org=tenant_a.org.slug,
        as_email=tenant_a.coordinator.email,
        stdout=out,
    )
    assert "2 providers added" in out.getvalue()
    assert counts(tenant_a.org)["providers"] == 2


def test_the_command_prints_every_row_error_and_exits_1(tenant_a, tmp_path):
    _require_license_document(tenant_a)
    path = tmp_path / "roster.csv"
    docs = tmp_path / "docs.zip"
    docs.write_bytes(zip_bytes({"x.pdf": b"not a pdf"}))

    def command(rows) -> str:
        path.write_bytes(csv_bytes(rows))
        err = io.StringIO()
        with pytest.raises(CommandError) as exc:
            call_command(
                "import_roster",
                str(path),
                org=tenant_a.org.slug,
                documents=str(docs),
                stdout=io.StringIO(),
                stderr=err,
            )
        assert exc.value.returncode == 1
        assert "Nothing was imported" in str(exc.value)
        return err.getvalue()

    printed = command([row(52, npi="1"), row(53, document_file="x.pdf")])
    assert "row 2, column npi, value '1'" in printed
    # Rows first: with a bad row, no document was opened, so x.pdf is not judged yet.
    assert "x.pdf" not in printed
    printed = command([row(53, document_file="x.pdf")])
    assert "row 2, column document_file, value 'x.pdf'" in printed and "PDF, PNG or JPEG" in printed
    assert counts(tenant_a.org)["providers"] == 0


def test_the_command_refuses_an_unknown_organization(db, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes([row(54)]))
    with pytest.raises(CommandError, match="No organization"):
        call_command("import_roster", str(path), org="nope", stdout=io.StringIO())


# --- the browser pages ------------------------------------------------------------------------
def _page(tenant):
    return f"/o/{tenant.org.slug}/imports/"


def test_a_coordinator_uploads_a_file_and_sees_the_result(tenant_a, login):
    client = login(tenant_a.coordinator)
    page = client.get(_page(tenant_a))
    assert page.status_code == 200
    assert b"import_template.csv" in page.content and b'name="file"' in page.content
    response = client.post(
        _page(tenant_a), {"file": SimpleUploadedFile("team.csv", csv_bytes([row(60)]))}
    )
    assert response.status_code == 302
    detail = client.get(response["Location"])
    assert b"Imported 1 row" in detail.content and b"hx-trigger" not in detail.content
    assert b"team.csv" in client.get(_page(tenant_a)).content  # in the history


def test_a_rejected_upload_lists_every_problem_on_the_page(tenant_a, login):
    client = login(tenant_a.coordinator)
    bad = csv_bytes([row(61, npi="1234567890"), row(62, credential_state="XX")])
    response = client.post(_page(tenant_a), {"file": SimpleUploadedFile("bad.csv", bad)})
    detail = client.get(response["Location"])
    html = detail.content.decode()
    assert "Nothing was imported" in html and "2 problems" in html
    assert "check digit" in html and "credential_state" in html
    assert "errors.csv" in html
    assert counts(tenant_a.org)["providers"] == 0


def test_an_upload_without_a_file_says_so_next_to_the_field(tenant_a, login):
    response = login(tenant_a.coordinator).post(_page(tenant_a), {})
    assert response.status_code == 400
    assert b"Choose the CSV file to import." in response.content
    with tenant_context(tenant_a.org):
        assert not ImportJob.objects.exists()


def test_the_progress_region_polls_while_a_job_runs_and_stops_when_it_ends(tenant_a, login):
    job = run(tenant_a, csv_bytes([row(63)]), run_mode="queue")  # queued, no worker here
    client = login(tenant_a.coordinator)
    url = f"/o/{tenant_a.org.slug}/imports/{job.pk}/"
    partial = client.get(url, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in html
    assert 'hx-trigger="every 1s"' in html and "<progress" in html
    assert 'id="import-live" hx-swap-oob' in html
    assert "HX-Request" in partial["Vary"]
    with tenant_context(tenant_a.org):
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.DONE, processed_rows=1, total_rows=1
        )
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in html and "Imported 1 row" in html


def test_the_history_filters_by_result_in_the_url_and_answers_htmx_with_the_list(tenant_a, login):
    run(
        tenant_a,
        csv_bytes([row(68)]),
    )
    _rejected(tenant_a, [row(69, npi="1")])
    client = login(tenant_a.coordinator)
    page = client.get(_page(tenant_a), {"status": "rejected"})
    assert page.content.count(b"badge-danger") == 1 and b"badge-ok" not in page.content
    partial = client.get(_page(tenant_a), {"status": "done"}, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert "<html" not in html and 'id="history-count" class="count" hx-swap-oob' in html
    assert html.count("badge-ok") == 1 and "badge-danger" not in html
    assert "HX-Request" in partial["Vary"]


def test_an_auditor_sees_past_imports_but_cannot_upload(tenant_a, login):
    run(tenant_a, csv_bytes([row(64)]))
    client = login(tenant_a.auditor)
    page = client.get(_page(tenant_a))
    assert page.status_code == 200 and b'name="file"' not in page.content
    response = client.post(
        _page(tenant_a), {"file": SimpleUploadedFile("a.csv", csv_bytes([row(65)]))}
    )
    assert response.status_code == 403
    with tenant_context(tenant_a.org):
        assert ImportJob.objects.count() == 1
        assert not Provider.objects.filter(npi=valid_npi(65)).exists()


# --- the API ----------------------------------------------------------------------------------
@pytest.fixture
def _throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


def _api_post(client, tenant, data, **extra):
    return client.post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile("api.csv", data)},
        HTTP_X_CREDEX_ORGANIZATION=tenant.org.slug,
        **extra,
    )


def test_the_api_imports_a_file_and_reports_the_job(tenant_a, login, _throttle):
    client = login(tenant_a.coordinator)
    response = _api_post(client, tenant_a, csv_bytes([row(70), row(71)]))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "done" and body["created_count"] == 2 and body["errors"] == []
    detail = client.get(
        f"/api/v1/imports/{body['id']}", HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug
    )
    assert detail.status_code == 200 and detail.json()["total_rows"] == 2
    listing = client.get("/api/v1/imports", HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug)
    assert [j["id"] for j in listing.json()["results"]] == [body["id"]]


def test_the_api_returns_every_error_of_a_rejected_file(tenant_a, login, _throttle):
    client = login(tenant_a.coordinator)
    response = _api_post(client, tenant_a, csv_bytes([row(72, npi="1"), row(73, dob="soon")]))
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "rejected" and body["error_count"] == 2
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, "npi"), (3, "dob")]
    assert counts(tenant_a.org)["providers"] == 0


def test_the_api_queues_a_large_file_and_answers_202(tenant_a, login, _throttle, settings):
    settings.IMPORT_INLINE_MAX_ROWS = 1
    client = login(tenant_a.coordinator)
    response = _api_post(client, tenant_a, csv_bytes([row(74), row(75)]))
    assert response.status_code == 202 and response.json()["status"] == "queued"


def test_an_api_key_with_the_coordinator_role_can_import(tenant_a, client, _throttle):
    from credex.services import api_key_create

    with tenant_context(tenant_a.org):
        _, raw = api_key_create(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.owner), name="HR sync"
        )
    response = client.post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile("api.csv", csv_bytes([row(79)]))},
        HTTP_AUTHORIZATION=f"Api-Key {raw}",
    )
    assert response.status_code == 201, response.content
    with tenant_context(tenant_a.org):
        event = AuditEvent.objects.get(action="roster.provider.created")
    assert event.actor_kind == "api_key" and "HR sync" in event.actor_label


def test_the_api_without_a_file_is_a_400_in_the_error_shape(tenant_a, login, _throttle):
    response = login(tenant_a.coordinator).post(
        "/api/v1/imports",
        {},
        content_type="application/json",
        HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug,
    )
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "details"}
    assert "file" in response.json()["details"]


def test_the_api_refuses_an_auditor_outsider_and_anonymous(
    tenant_a, tenant_b, login, client, _throttle
):
    job = _rejected(tenant_a, [row(76, npi="1")])
    assert client.post("/api/v1/imports", {}).status_code == 401
    assert client.get(f"/api/v1/imports/{job.pk}").status_code == 401
    auditor = login(tenant_a.auditor)
    assert _api_post(auditor, tenant_a, csv_bytes([row(77)])).status_code == 403
    assert (
        auditor.get(
            f"/api/v1/imports/{job.pk}", HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug
        ).status_code
        == 200
    )  # read-only may read
    outsider = login(tenant_b.owner)
    assert (
        outsider.get(
            f"/api/v1/imports/{job.pk}", HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug
        ).status_code
        == 404
    )
    assert (
        outsider.get(
            f"/api/v1/imports/{job.pk}", HTTP_X_CREDEX_ORGANIZATION=tenant_b.org.slug
        ).status_code
        == 404
    )
    assert _api_post(outsider, tenant_a, csv_bytes([row(78)])).status_code == 404
    with tenant_context(tenant_a.org):
        assert ImportJob.objects.count() == 1
        assert not Provider.objects.exists()


def test_the_import_endpoints_are_in_the_openapi_schema(tenant_a, login):
    schema = login(tenant_a.coordinator).get("/api/schema/").content.decode()
    assert "/api/v1/imports:" in schema and "/api/v1/imports/{job_id}:" in schema
    assert "multipart/form-data" in schema


# --- the Celery path, with a real worker ------------------------------------------------------
@pytest.fixture
def worker(committed_db):
    with own_queue_worker():
        yield


def _wait(org, job_id, timeout=90):
    seen = []

    def finished():
        with tenant_context(org):
            job = ImportJob.objects.get(pk=job_id)
        seen.append((job.status, job.processed_rows))
        running = (ImportStatus.QUEUED, ImportStatus.VALIDATING, ImportStatus.IMPORTING)
        return job if job.status not in running else None

    job = wait_for(
        finished, timeout=timeout, interval=0.05, what=lambda: f"the import: {seen[-5:]}"
    )
    return job, seen


@pytest.mark.external
def test_a_large_file_runs_in_a_real_worker_and_reports_its_progress(committed_tenant, worker):
    tenant = committed_tenant
    rows = [row(300_000 + i) for i in range(620)]  # over the 500-row inline limit
    job = run(tenant, csv_bytes(rows))
    assert job.status == ImportStatus.QUEUED
    job, seen = _wait(tenant.org, job.pk)
    assert job.status == ImportStatus.DONE, job.errors
    assert (job.total_rows, job.processed_rows, job.created_count) == (620, 620, 620)
    counts_seen = [n for status, n in seen]
    assert all(0 <= n <= 620 for n in counts_seen)
    assert counts(tenant.org)["providers"] == 620
    assert call_command_ok("audit_verify", org=tenant.org.slug)


@pytest.mark.external
def test_a_large_bad_file_is_rejected_by_the_worker_with_nothing_written(committed_tenant, worker):
    tenant = committed_tenant
    rows = [row(400_000 + i) for i in range(600)]
    rows[599] = row(400_599, credential_state="NV")
    job = run(tenant, csv_bytes(rows))
    job, _ = _wait(tenant.org, job.pk)
    assert job.status == ImportStatus.REJECTED
    assert errors_of(job) == [(601, "credential_state")] and job.processed_rows == 600
    assert counts(tenant.org) == {
        "providers": 0,
        "credentials": 0,
        "documents": 0,
        "roster_events": 0,
    }


@pytest.mark.external
def test_progress_is_visible_to_other_connections_before_the_import_commits(committed_tenant):
    tenant = committed_tenant
    with tenant_context(tenant.org):
        job = ImportJob(organization=tenant.org, original_name="p.csv", total_rows=10)
        job.file.save("p.csv", ContentFile(b"npi\n"), save=False)
        job.save()
    progress = JobProgress(job)
    try:
        with tenant_context(tenant.org), transaction.atomic():
            # the import's transaction is open and uncommitted here
            progress.update(status=ImportStatus.VALIDATING, total=10, processed=4)
            other = connections.create_connection("default")
            try:
                with other.cursor() as cursor:
                    cursor.execute("BEGIN")
                    cursor.execute(
                        "SELECT set_config('app.current_org', %s, true)", [str(tenant.org.pk)]
                    )
                    cursor.execute(
                        "SELECT status, processed_rows, total_rows FROM roster_importjob "
                        "WHERE id = %s",
                        [job.pk],
                    )
                    assert cursor.fetchone() == ("validating", 4, 10)
                    cursor.execute("COMMIT")
            finally:
                other.close()
    finally:
        progress.close()


@pytest.mark.external
def test_a_redelivered_finished_job_is_not_run_again(committed_tenant, worker):
    from roster.jobs.imports import import_run_task

    tenant = committed_tenant
    job = run(tenant, csv_bytes([row(600_000)]))
    assert job.status == ImportStatus.DONE
    result = import_run_task.delay(org_id=str(tenant.org.pk), job_id=str(job.pk)).get(timeout=30)
    assert result == {"job": str(job.pk), "status": "done"}
    assert counts(tenant.org)["providers"] == 1


def test_a_successful_import_requests_one_screening_run_for_the_new_providers(tenant_a):
    from screening.models import ScreeningRun

    job = run(tenant_a, csv_bytes([row(71), row(72)]))
    assert job.status == ImportStatus.DONE
    with tenant_context(tenant_a.org):
        runs = list(ScreeningRun.objects.filter(organization=tenant_a.org))
    assert [(r.trigger, r.provider_id) for r in runs] == [("new_hire", None)]


def test_a_rejected_import_requests_no_screening(tenant_a):
    from screening.models import ScreeningRun

    bad = valid_npi(74)[:-1] + str((int(valid_npi(74)[-1]) + 1) % 10)
    _rejected(tenant_a, [row(73), row(74, npi=bad)])
    with tenant_context(tenant_a.org):
        assert not ScreeningRun.objects.filter(organization=tenant_a.org).exists()


def test_an_imported_licence_is_queued_for_extraction_and_a_cv_is_not(
    tenant_a, django_capture_on_commit_callbacks
):
    _require_license_document(tenant_a)
    docs = zip_bytes({"lee32.pdf": PDF_BYTES, "cv32.png": PNG_BYTES})
    rows = [
        row(32, document_file="lee32.pdf"),
        {"npi": valid_npi(32), "document_file": "cv32.png", "document_kind": "cv"},
    ]
    with django_capture_on_commit_callbacks() as callbacks:
        job = run(tenant_a, csv_bytes(rows), documents=docs)
    assert job.status == ImportStatus.DONE, job.errors
    extraction = [c for c in callbacks if "extraction" in c.__qualname__]
    assert len(extraction) == 1  # the licence; a CV has no credential fields to read
