"""Document extraction: parsing, validation, the text and OCR extractors on generated documents,
and the review decisions (nothing reaches a credential without one)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from credex.errors import Conflict, Forbidden, InvalidInput
from credex.tenancy import tenant_context
from roster.models import Credential
from roster.services.documents import document_upload
from roster.services.providers import credential_create
from tests.factories import make_provider
from verifications.extraction import samples
from verifications.extraction.base import OCR_UNAVAILABLE
from verifications.extraction.parsing import parse_date, parse_fields
from verifications.extraction.validation import validate_fields
from verifications.models import ExtractionSuggestion, SuggestionStatus
from verifications.services.extraction import extraction_decide, extraction_run


# --- parsing ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "01/31/2027",
        "1/31/2027",
        "2027-01-31",
        "January 31, 2027",
        "Jan. 31, 2027",
        "31 Jan 2027",
        "31 January 2027",
        "01-31-2027",
        "0l/3l/2O27",  # OCR: l for 1, O for 0
        "01 / 31 / 2027",  # OCR: stray spaces
        "Jan..31, 2027",
    ],
)
def test_every_supported_date_format_reads_as_the_same_day(text):
    assert parse_date(text) == date(2027, 1, 31)


def test_an_impossible_date_is_not_read():
    assert parse_date("02/30/2027") is None
    assert parse_date("no date here") is None


@pytest.mark.parametrize(
    "label",
    [
        "Expiration Date:",
        "Expires",
        "Expires on",
        "Exp.",
        "Exp. Date:",
        "Valid Through",
        "Valid thru:",
        "Expiration",
        "Date of Expiration:",
    ],
)
def test_expiry_label_variants_find_the_expiry_and_ignore_other_dates(label):
    text = f"Texas Medical Board\nIssue Date: 03/04/2021\n{label} 01/31/2027\nPrinted 11/03/2025"
    fields = parse_fields(text, "license")
    assert fields["expiry_date"].value == "2027-01-31"
    assert fields["issue_date"].value == "2021-03-04"
    assert fields["expiry_date"].confidence >= 0.9


def test_a_policy_period_gives_the_issue_and_expiry_dates():
    fields = parse_fields(
        "Acme Mutual Insurance Company\nPolicy Period: 01/01/2026 to 01/01/2027\n"
        "Policy Number: MPL-2026-00451\nNamed Insured: John Roe, MD",
        "malpractice",
    )
    assert fields["issue_date"].value == "2026-01-01"
    assert fields["expiry_date"].value == "2027-01-01"
    assert fields["number"].value == "MPL-2026-00451"
    assert fields["issuer"].value == "Acme Mutual Insurance Company"
    assert fields["name"].value == "John Roe"


def test_a_header_row_over_a_row_of_values_maps_each_column():
    fields = parse_fields(
        "Medical Board of California\nLicense Number Issue Date Expiration Date\n"
        "A12345 01/01/2025 01/31/2027",
        "license",
    )
    assert fields["number"].value == "A12345"
    assert fields["issue_date"].value == "2025-01-01"
    assert fields["expiry_date"].value == "2027-01-31"
    assert fields["state"].value == "CA"


@pytest.mark.parametrize(
    ("line", "code"),
    [("State: Texas", "TX"), ("State: tx", "TX"), ("State: New  York", "NY"), ("State: WV", "WV")],
)
def test_states_read_by_name_or_code(line, code):
    assert parse_fields(f"License No.: A1234\n{line}", "license")["state"].value == code


def test_ocr_noise_in_a_license_number_is_repaired():
    fields = parse_fields("License No.: Q12O4l6\nExpires: 2027-01-31", "license")
    assert fields["number"].value == "Q120416"


def test_a_dea_number_split_by_ocr_is_joined():
    fields = parse_fields("DEA Registration Number: AS 123456 3\nExpires 2027-01-31", "dea")
    assert fields["number"].value == "AS1234563"


# --- validation -------------------------------------------------------------------------------
def _validate(text, kind, last_name="Smith", full_name="Jane Smith"):
    return validate_fields(
        parse_fields(text, kind),
        document_kind=kind,
        last_name=last_name,
        full_name=full_name,
        today=date(2026, 1, 1),
    )


def test_a_valid_dea_number_has_no_problem():
    # A S 1 2 3 4 5 6 3: (1+3+5) + 2*(2+4+6) = 33 -> check digit 3
    fields, problems = _validate("DEA #: AS1234563\nState: TX\nExpires: 2027-01-31", "dea")
    assert fields["number"].value == "AS1234563"
    assert not [p for p in problems if p["field"] == "number"]


def test_a_dea_number_with_a_wrong_check_digit_is_a_problem_and_less_certain():
    fields, problems = _validate("DEA #: AS1234564\nState: TX\nExpires: 2027-01-31", "dea")
    assert [p["code"] for p in problems if p["field"] == "number"] == ["dea_check_digit"]
    assert fields["number"].confidence < 0.5


def test_a_dea_number_not_matching_the_last_name_initial_is_a_problem():
    _, problems = _validate(
        "DEA #: AS1234563\nState: TX\nExpires: 2027-01-31", "dea", last_name="Jones"
    )
    assert "dea_last_name" in [p["code"] for p in problems]


def test_a_license_state_that_is_not_a_us_state_is_a_problem():
    from verifications.extraction.base import FieldValue

    fields, problems = validate_fields(
        {"state": FieldValue("ZZ", 0.9), "expiry_date": FieldValue("2027-01-31", 0.9)},
        document_kind="license",
        today=date(2026, 1, 1),
    )
    assert [p["code"] for p in problems] == ["not_a_state"]
    assert fields["state"].confidence == 0.45


def test_an_expiry_before_the_issue_date_is_a_problem():
    _, problems = _validate("Issue Date: 2027-05-01\nExpires: 2027-01-31\nState: CA", "license")
    assert "expiry_before_issue" in [p["code"] for p in problems]


def test_a_name_that_does_not_match_the_provider_is_a_problem():
    _, problems = _validate(
        "Licensee: Robert Brown\nExpires: 2027-01-31\nState: CA", "license", "Smith", "Jane Smith"
    )
    assert "name_mismatch" in [p["code"] for p in problems]


# --- the extractors on generated documents ---------------------------------------------------
def _assert_read(sample, fields):
    got = {name: value.value for name, value in fields.items()}
    assert got == sample.values, sample.name


@pytest.mark.parametrize("kind", samples.KINDS)
def test_every_layout_of_a_text_pdf_is_read_exactly(kind):
    from verifications.extraction.registry import run_extractors

    assert len(samples.layouts_of(kind)) >= 4
    for layout in samples.layouts_of(kind):
        sample = samples.make_sample(kind, layout=layout, medium="text_pdf", seed=11)
        label, output = run_extractors(sample.data, sample.content_type, kind)
        assert label == "text-layer:1" and output.engine == "text"
        _assert_read(sample, output.fields)


def test_ocr_reads_a_generated_png(settings):
    from verifications.extraction.registry import run_extractors

    sample = samples.make_sample("license", layout="inline", medium="image", seed=5)
    assert sample.content_type in ("image/png", "image/jpeg")
    label, output = run_extractors(sample.data, sample.content_type, "license")
    assert label.startswith("tesseract:") and output.engine == "ocr"
    _assert_read(sample, output.fields)
    assert all(v.confidence < 0.9 for v in output.fields.values())  # OCR is less certain


def test_ocr_reads_a_scanned_pdf_without_a_text_layer():
    from verifications.extraction.registry import run_extractors
    from verifications.extraction.text import pdf_text

    sample = samples.make_sample("dea", layout="two_column", medium="scanned_pdf", seed=5)
    assert sample.content_type == "application/pdf"
    assert pdf_text(sample.data)[0].strip() == ""  # really no text layer
    label, output = run_extractors(sample.data, sample.content_type, "dea")
    assert label.startswith("tesseract:") and output.engine == "ocr"
    _assert_read(sample, output.fields)


def test_without_tesseract_an_image_says_ocr_is_unavailable(settings):
    from verifications.extraction.registry import run_extractors

    settings.TESSERACT_CMD = "/nonexistent/tesseract"
    sample = samples.make_sample("license", layout="inline", medium="image", seed=5)
    label, output = run_extractors(sample.data, sample.content_type, "license")
    assert output.usable is False and output.message == OCR_UNAVAILABLE and not output.fields
    # A text PDF is still read without OCR.
    text = samples.make_sample("license", layout="inline", medium="text_pdf", seed=5)
    label, output = run_extractors(text.data, text.content_type, "license")
    assert (
        label == "text-layer:1" and output.fields["expiry_date"].value == text.values["expiry_date"]
    )


# --- the service: suggestion, then the decision -----------------------------------------------
@pytest.fixture
def setup(tenant_a):
    """Org A's provider Jane Smith with a Texas license on file (old values)."""
    org = tenant_a.org
    owner = tenant_a.membership(tenant_a.owner)
    provider = make_provider(org, seed=77, first_name="Jane", last_name="Smith")
    with tenant_context(org):
        credential = credential_create(
            org=org,
            actor=owner,
            provider=provider,
            kind="state_license",
            number="Q120456",
            state="TX",
            issuer="Texas Medical Board",
            issue_date=date(2020, 1, 15),
            expiry_date=date(2025, 1, 31),
        )
    return tenant_a, provider, credential


LICENSE_TEXT = [
    ("title", "Texas Medical Board"),
    ("title", "Physician and Surgeon License"),
    ("pairs", [("Licensee", "Jane Q. Smith, M.D.")]),
    ("pairs", [("License No.", "Q120456"), ("Issue Date", "01/15/2020")]),
    ("pairs", [("Expiration Date", "January 31, 2027")]),
]


def _upload(tenant, provider, data, name="license.pdf", kind="license", user=None):
    with tenant_context(tenant.org):
        return document_upload(
            org=tenant.org,
            actor=tenant.membership(user or tenant.coordinator),
            provider=provider,
            kind=kind,
            file=SimpleUploadedFile(name, data),
        )


def _run(tenant, document):
    with tenant_context(tenant.org):
        return extraction_run(org=tenant.org, document=document)


def _credential_values(tenant, credential):
    with tenant_context(tenant.org):
        return Credential.objects.filter(pk=credential.pk).values().get()


def _events(tenant, prefix="verifications.extraction"):
    with tenant_context(tenant.org):
        return list(
            AuditEvent.objects.filter(organization=tenant.org, action__startswith=prefix)
            .order_by("seq")
            .values("action", "data", "actor_kind")
        )


def test_an_upload_is_read_into_a_suggestion_and_the_credential_is_not_touched(setup):
    tenant, provider, credential = setup
    before = _credential_values(tenant, credential)
    document = _upload(tenant, provider, samples.to_text_pdf(LICENSE_TEXT))
    suggestion = _run(tenant, document)
    assert suggestion.status == SuggestionStatus.PENDING
    assert suggestion.credential_id == credential.pk  # matched by number
    assert suggestion.engine == "text" and suggestion.extractor == "text-layer:1"
    assert {k: v["value"] for k, v in suggestion.fields.items()} == {
        "name": "Jane Q. Smith",
        "number": "Q120456",
        "issue_date": "2020-01-15",
        "expiry_date": "2027-01-31",
        "issuer": "Texas Medical Board",
        "state": "TX",
    }
    assert _credential_values(tenant, credential) == before
    (event,) = _events(tenant)
    assert event["action"] == "verifications.extraction.suggested"
    assert event["actor_kind"] == "system"
    assert event["data"]["fields"]["expiry_date"]["value"] == "2027-01-31"
    assert "value" not in event["data"]["fields"]["name"]  # the name is not logged


def test_running_the_extraction_twice_makes_one_suggestion(setup):
    tenant, provider, _ = setup
    document = _upload(tenant, provider, samples.to_text_pdf(LICENSE_TEXT))
    first, second = _run(tenant, document), _run(tenant, document)
    assert first.pk == second.pk
    with tenant_context(tenant.org):
        assert ExtractionSuggestion.objects.filter(document=document).count() == 1
    assert len(_events(tenant)) == 1


def test_approve_writes_only_the_values_that_differ_and_is_audited(setup):
    tenant, provider, credential = setup
    suggestion = _run(tenant, _upload(tenant, provider, samples.to_text_pdf(LICENSE_TEXT)))
    with tenant_context(tenant.org):
        decided = extraction_decide(
            org=tenant.org,
            actor=tenant.membership(tenant.coordinator),
            suggestion=suggestion,
            decision="approve",
        )
    assert decided.status == SuggestionStatus.APPROVED
    assert decided.decided_by.user == tenant.coordinator and decided.decided_at
    assert decided.applied["changes"] == {"expiry_date": {"from": "2025-01-31", "to": "2027-01-31"}}
    after = _credential_values(tenant, credential)
    assert after["expiry_date"] == date(2027, 1, 31)
    assert (after["number"], after["state"], after["issue_date"]) == (
        "Q120456",
        "TX",
        date(2020, 1, 15),
    )
    actions = [e["action"] for e in _events(tenant, "")]
    assert actions[-3:] == [
        "roster.credential.updated",
        "roster.document.accepted",  # the member checked the document with the fields
        "verifications.extraction.approved",
    ]
    approved = _events(tenant)[-1]
    assert approved["data"]["changes"]["expiry_date"] == {"from": "2025-01-31", "to": "2027-01-31"}
    assert approved["actor_kind"] == "member"
    credential_event = _events(tenant, "roster.credential.updated")[-1]
    assert credential_event["data"]["changes"] == {
        "expiry_date": {"from": "2025-01-31", "to": "2027-01-31"}
    }


def test_correct_writes_the_coordinators_values_not_the_extracted_ones(setup):
    tenant, provider, credential = setup
    suggestion = _run(tenant, _upload(tenant, provider, samples.to_text_pdf(LICENSE_TEXT)))
    with tenant_context(tenant.org):
        extraction_decide(
            org=tenant.org,
            actor=tenant.membership(tenant.coordinator),
            suggestion=suggestion,
            decision="correct",
            values={"expiry_date": "02/28/2027", "number": "", "state": "Texas"},
        )
        suggestion.refresh_from_db()
    after = _credential_values(tenant, credential)
    assert after["expiry_date"] == date(2027, 2, 28)
    assert after["number"] == "Q120456" and after["state"] == "TX"
    assert suggestion.status == SuggestionStatus.CORRECTED
    assert suggestion.applied["changes"] == {
        "expiry_date": {"from": "2025-01-31", "to": "2027-02-28"}
    }
    assert _events(tenant)[-1]["action"] == "verifications.extraction.corrected"


def test_a_bad_correction_is_refused_and_nothing_changes(setup):
    tenant, provider, credential = setup
    suggestion = _run(tenant, _upload(tenant, provider, samples.to_text_pdf(LICENSE_TEXT)))
    before = _credential_values(tenant, credential)
    with tenant_context(tenant.org), pytest.raises(InvalidInput) as err:
        extraction_decide(
            org=tenant.org,
            actor=tenant.membership(tenant.coordinator),
            suggestion=suggestion,
            decision="correct",
            values={"expiry_date": "31st of never", "state": "Narnia"},
        )
    assert set(err.value.details) == {"expiry_date", "state"}
    assert _credential_values(tenant, credential) == before
    with tenant_context(tenant.org):
        suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.PENDING and suggestion.decided_at is None
    assert [e["action"] for e in _events(tenant)] == ["verifications.extraction.suggested"]


def test_reject_writes_nothing_to_the_credential_and_is_audited(setup):
    tenant, provider, credential = setup
    suggestion = _run(tenant, _upload(tenant, provider, samples.to_text_pdf(LICENSE_TEXT)))
    before = _credential_values(tenant, credential)
    with tenant_context(tenant.org):
        decided = extraction_decide(
            org=tenant.org,
            actor=tenant.membership(tenant.coordinator),
            suggestion=suggestion,
            decision="reject",
            reason="Old copy",
        )
    assert decided.status == SuggestionStatus.REJECTED and decided.applied == {"reason": "Old copy"}
    assert _credential_values(tenant, credential) == before
    last = _events(tenant)[-1]
    assert last["action"] == "verifications.extraction.rejected"
    assert last["data"]["changes"] == {} and last["data"]["reason"] == "Old copy"


def test_a_decided_suggestion_cannot_be_decided_again(setup):
    tenant, provider, credential = setup
    suggestion = _run(tenant, _upload(tenant, provider, samples.to_text_pdf(LICENSE_TEXT)))
    member = tenant.membership(tenant.coordinator)
    with tenant_context(tenant.org):
        extraction_decide(org=tenant.org, actor=member, suggestion=suggestion, decision="reject")
        with pytest.raises(Conflict):
            extraction_decide(
                org=tenant.org, actor=member, suggestion=suggestion, decision="approve"
            )
    assert _credential_values(tenant, credential)["expiry_date"] == date(2025, 1, 31)


def test_an_auditor_cannot_decide_and_nothing_changes(setup):
    tenant, provider, credential = setup
    suggestion = _run(tenant, _upload(tenant, provider, samples.to_text_pdf(LICENSE_TEXT)))
    before = _credential_values(tenant, credential)
    with tenant_context(tenant.org), pytest.raises(Forbidden):
        extraction_decide(
            org=tenant.org,
            actor=tenant.membership(tenant.auditor),
            suggestion=suggestion,
            decision="approve",
        )
    assert _credential_values(tenant, credential) == before
    with tenant_context(tenant.org):
        suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.PENDING


def test_approving_without_a_matching_credential_adds_one_of_the_documents_kind(tenant_a):
    provider = make_provider(tenant_a.org, seed=78, first_name="Omar", last_name="Okafor")
    sample = samples.make_sample("malpractice", layout="period", medium="text_pdf", seed=2)
    document = _upload(tenant_a, provider, sample.data, kind="malpractice")
    suggestion = _run(tenant_a, document)
    assert suggestion.credential_id is None
    with tenant_context(tenant_a.org):
        decided = extraction_decide(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.coordinator),
            suggestion=suggestion,
            decision="approve",
        )
        credential = Credential.objects.get(provider=provider)
    assert decided.applied["created"] is True and decided.credential_id == credential.pk
    assert credential.kind == "malpractice"
    assert credential.expiry_date.isoformat() == sample.values["expiry_date"]
    assert credential.number == sample.values["number"]
    assert credential.details == {
        "carrier": sample.values["issuer"],
        "policy_number": sample.values["number"],
    }


def test_an_image_without_ocr_leaves_a_suggestion_saying_so(tenant_a, settings):
    settings.OCR_ENABLED = False
    provider = make_provider(tenant_a.org, seed=79)
    sample = samples.make_sample("license", layout="inline", medium="image", seed=5)
    name = "license.png" if sample.content_type == "image/png" else "license.jpg"
    suggestion = _run(tenant_a, _upload(tenant_a, provider, sample.data, name=name))
    assert suggestion.status == SuggestionStatus.FAILED
    assert suggestion.message == OCR_UNAVAILABLE and suggestion.fields == {}
    # The coordinator enters the values by hand through a correction.
    with tenant_context(tenant_a.org):
        decided = extraction_decide(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.coordinator),
            suggestion=suggestion,
            decision="correct",
            values={"expiry_date": "2027-03-01", "state": "CA", "number": "A1234"},
        )
        credential = Credential.objects.get(pk=decided.credential_id)
    assert (credential.kind, credential.expiry_date, credential.state) == (
        "state_license",
        date(2027, 3, 1),
        "CA",
    )


def test_an_uploaded_scan_is_read_with_ocr_through_the_service(tenant_a):
    provider = make_provider(tenant_a.org, seed=80, last_name="Smith")
    sample = samples.make_sample("cds", layout="inline", medium="scanned_pdf", seed=4)
    suggestion = _run(tenant_a, _upload(tenant_a, provider, sample.data, kind="cds"))
    assert suggestion.engine == "ocr" and suggestion.extractor.startswith("tesseract:")
    assert {k: v["value"] for k, v in suggestion.fields.items()} == sample.values


def test_documents_that_are_not_credentials_are_not_queued(
    tenant_a, django_capture_on_commit_callbacks
):
    provider = make_provider(tenant_a.org, seed=81)
    with django_capture_on_commit_callbacks() as callbacks:
        _upload(tenant_a, provider, samples.to_text_pdf(LICENSE_TEXT), kind="cv")
    names = [getattr(c, "__qualname__", "") for c in callbacks]
    assert not any("extraction" in n for n in names)


def test_an_upload_enqueues_extraction_on_commit_and_the_task_makes_the_suggestion(
    setup, django_capture_on_commit_callbacks, settings
):
    from credex.celery import app

    tenant, provider, credential = setup
    with django_capture_on_commit_callbacks() as callbacks:
        document = _upload(tenant, provider, samples.to_text_pdf(LICENSE_TEXT))
    with tenant_context(tenant.org):  # nothing read inside the upload's request
        assert not ExtractionSuggestion.objects.filter(document=document).exists()
    enqueue = [c for c in callbacks if "extraction" in getattr(c, "__qualname__", "")]
    assert len(enqueue) == 1
    app.conf.task_always_eager = True
    try:
        enqueue[0]()  # what the commit runs: the task, here eagerly
    finally:
        app.conf.task_always_eager = False
    with tenant_context(tenant.org):
        suggestion = ExtractionSuggestion.objects.get(document=document)
    assert suggestion.status == SuggestionStatus.PENDING
    assert suggestion.fields["expiry_date"]["value"] == "2027-01-31"
    assert _credential_values(tenant, credential)["expiry_date"] == date(2025, 1, 31)


def test_the_extraction_task_is_acknowledged_late_and_retried():
    from verifications.jobs.extraction import extraction_run_task

    assert extraction_run_task.acks_late is True
    assert extraction_run_task.max_retries >= 3 and extraction_run_task.autoretry_for


def test_a_suggestion_of_org_b_is_not_found_for_org_a(tenant_a, tenant_b):
    from credex.errors import NotFound
    from verifications.selectors.extraction import suggestion_get

    provider = make_provider(tenant_b.org, seed=82)
    document = _upload(tenant_b, provider, samples.to_text_pdf(LICENSE_TEXT), user=tenant_b.owner)
    suggestion = _run(tenant_b, document)
    with tenant_context(tenant_a.org), pytest.raises(NotFound):
        suggestion_get(org=tenant_a.org, suggestion_id=suggestion.pk)
    with tenant_context(tenant_a.org), pytest.raises(NotFound):
        extraction_decide(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            suggestion=suggestion,
            decision="reject",
        )
    with tenant_context(tenant_b.org):
        suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.PENDING


# --- the real path: commit, broker, worker -----------------------------------------------------
@pytest.fixture
def worker(committed_db):
    from tests.conftest import own_queue_worker

    with own_queue_worker():
        yield


@pytest.mark.external
def test_an_upload_is_read_by_a_real_worker_after_commit(committed_tenant, worker):
    from tests.waiting import wait_for

    tenant = committed_tenant
    provider = make_provider(tenant.org, seed=83, first_name="Jane", last_name="Smith")
    document = _upload(tenant, provider, samples.to_text_pdf(LICENSE_TEXT))

    def suggested():
        with tenant_context(tenant.org):
            return ExtractionSuggestion.objects.filter(document=document).first()

    suggestion = wait_for(suggested, what="the worker's suggestion")
    assert suggestion.status == SuggestionStatus.PENDING
    assert suggestion.fields["expiry_date"]["value"] == "2027-01-31"
    with tenant_context(tenant.org):
        assert not Credential.objects.filter(provider=provider).exists()  # nothing applied


def test_a_declarations_page_names_the_carrier_from_its_letterhead():
    from verifications.extraction.parsing import parse_fields

    text = (
        "The Doctors Company\n"
        "Physicians and Surgeons Professional Liability Declarations\n"
        "Named Insured: Jane Q. Doe, MD\n"
        "Policy Number: TDC-0098812-A\n"
        "Policy Period: From 01/01/2026 To 01/01/2027 12:01 A.M. Standard Time\n"
    )
    fields = parse_fields(text, "malpractice")
    assert fields["issuer"].value == "The Doctors Company"
    assert fields["number"].value == "TDC-0098812-A"
    assert (fields["issue_date"].value, fields["expiry_date"].value) == ("2026-01-01", "2027-01-01")


def test_an_ohio_licence_number_keeps_its_dotted_prefix():
    from verifications.extraction.parsing import parse_fields

    fields = parse_fields("STATE MEDICAL BOARD OF OHIO\nLicense No. 35.123456\n", "license")
    assert fields["number"].value == "35.123456"
