"""Extraction review in the browser (worklist, review page, decisions, provider file block) and
through the API: allowed roles work, auditors get 403 on writes, outsiders 404, anonymous
callers are sent to sign in (pages) or get 401 (API)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from credex.tenancy import tenant_context
from roster.models import Credential
from roster.services.documents import document_upload
from roster.services.providers import credential_create
from tests.factories import make_provider
from verifications.extraction import samples
from verifications.models import ExtractionSuggestion, SuggestionStatus
from verifications.services.extraction import extraction_run

LICENSE_ROWS = [
    ("title", "Texas Medical Board"),
    ("pairs", [("Licensee", "Jane Smith")]),
    ("pairs", [("License No.", "Q120456"), ("Issue Date", "01/15/2020")]),
    ("pairs", [("Expiration Date", "January 31, 2027")]),
]


def _suggestion_for(tenant, seed=90, user=None):
    """A provider with a Texas license expiring 2025-01-31 and a read upload that says 2027."""
    org = tenant.org
    member = tenant.membership(user or tenant.owner)
    provider = make_provider(org, seed=seed, first_name="Jane", last_name="Smith")
    with tenant_context(org):
        credential = credential_create(
            org=org,
            actor=member,
            provider=provider,
            kind="state_license",
            number="Q120456",
            state="TX",
            issue_date=date(2020, 1, 15),
            expiry_date=date(2025, 1, 31),
        )
        document = document_upload(
            org=org,
            actor=member,
            provider=provider,
            kind="license",
            file=SimpleUploadedFile("license.pdf", samples.to_text_pdf(LICENSE_ROWS)),
        )
        suggestion = extraction_run(org=org, document=document)
    assert suggestion.status == SuggestionStatus.PENDING
    return provider, credential, suggestion


@pytest.fixture
def pending(tenant_a):
    return _suggestion_for(tenant_a)


def _expiry(tenant, credential):
    with tenant_context(tenant.org):
        return Credential.objects.get(pk=credential.pk).expiry_date


def _status(tenant, suggestion):
    with tenant_context(tenant.org):
        return ExtractionSuggestion.objects.get(pk=suggestion.pk).status


def page_url(tenant, suffix=""):
    return f"/o/{tenant.org.slug}/extractions/{suffix}"


# --- pages ------------------------------------------------------------------------------------
def test_the_worklist_shows_pending_suggestions_with_counts_and_what_differs(
    tenant_a, pending, login
):
    provider, _, suggestion = pending
    response = login(tenant_a.coordinator).get(page_url(tenant_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Extraction review" in html and provider.full_name in html
    assert "1 suggestion" in html
    assert "1 differs" in html and "Expiration date" in html
    assert f"/extractions/{suggestion.pk}/" in html


def test_worklist_filters_live_in_the_url_and_an_empty_result_says_what_to_do(
    tenant_a, pending, login
):
    client = login(tenant_a.coordinator)
    html = client.get(page_url(tenant_a) + "?kind=dea").content.decode()
    assert "No suggestions match these filters." in html
    assert 'value="dea" selected' in html
    html = client.get(page_url(tenant_a) + "?kind=license&engine=text").content.decode()
    assert "1 suggestion" in html
    fragment = client.get(page_url(tenant_a) + "?status=decided", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    assert "No suggestions yet." in fragment.content.decode()


def test_the_empty_worklist_tells_the_coordinator_what_to_do(tenant_a, login):
    html = login(tenant_a.coordinator).get(page_url(tenant_a)).content.decode()
    assert "Nothing waiting for review." in html and "uploaded to a provider" in html


def test_the_review_page_shows_the_credential_beside_the_extracted_values(tenant_a, pending, login):
    _, _, suggestion = pending
    response = login(tenant_a.coordinator).get(page_url(tenant_a, f"{suggestion.pk}/"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "2025-01-31" in html and "2027-01-31" in html
    assert "ext-differs" in html and "differs" in html
    assert 'name="value_expiry_date"' in html and 'value="2027-01-31"' in html
    assert 'value="approve"' in html and 'value="correct"' in html and 'value="reject"' in html
    assert "?inline=1" in html  # the document preview link


def test_an_auditor_sees_the_review_page_without_decision_buttons(tenant_a, pending, login):
    _, _, suggestion = pending
    html = login(tenant_a.auditor).get(page_url(tenant_a, f"{suggestion.pk}/")).content.decode()
    assert "2027-01-31" in html
    assert 'value="approve"' not in html and 'name="value_expiry_date"' not in html


def test_approving_in_the_browser_updates_the_credential(tenant_a, pending, login):
    _, credential, suggestion = pending
    response = login(tenant_a.coordinator).post(
        page_url(tenant_a, f"{suggestion.pk}/decide"), {"decision": "approve"}
    )
    assert response.status_code == 302 and response["Location"] == page_url(tenant_a)
    assert _expiry(tenant_a, credential) == date(2027, 1, 31)
    assert _status(tenant_a, suggestion) == SuggestionStatus.APPROVED


def test_saving_corrections_in_the_browser_writes_the_typed_values(tenant_a, pending, login):
    _, credential, suggestion = pending
    response = login(tenant_a.coordinator).post(
        page_url(tenant_a, f"{suggestion.pk}/decide"),
        {"decision": "correct", "value_expiry_date": "March 1, 2027", "value_state": "TX"},
    )
    assert response.status_code == 302
    assert _expiry(tenant_a, credential) == date(2027, 3, 1)
    assert _status(tenant_a, suggestion) == SuggestionStatus.CORRECTED


def test_a_bad_correction_shows_the_error_beside_the_field_and_keeps_what_was_typed(
    tenant_a, pending, login
):
    _, credential, suggestion = pending
    response = login(tenant_a.coordinator).post(
        page_url(tenant_a, f"{suggestion.pk}/decide"),
        {"decision": "correct", "value_expiry_date": "sometime soon"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="sometime soon"' in html and "Enter a date such as" in html
    assert _expiry(tenant_a, credential) == date(2025, 1, 31)
    assert _status(tenant_a, suggestion) == SuggestionStatus.PENDING


def test_rejecting_in_the_browser_changes_nothing_on_the_credential(tenant_a, pending, login):
    _, credential, suggestion = pending
    response = login(tenant_a.coordinator).post(
        page_url(tenant_a, f"{suggestion.pk}/decide"), {"decision": "reject", "reason": "Old"}
    )
    assert response.status_code == 302
    assert _expiry(tenant_a, credential) == date(2025, 1, 31)
    assert _status(tenant_a, suggestion) == SuggestionStatus.REJECTED


def test_an_auditor_cannot_decide_in_the_browser(tenant_a, pending, login):
    _, credential, suggestion = pending
    response = login(tenant_a.auditor).post(
        page_url(tenant_a, f"{suggestion.pk}/decide"), {"decision": "approve"}
    )
    assert response.status_code == 403
    assert _expiry(tenant_a, credential) == date(2025, 1, 31)
    assert _status(tenant_a, suggestion) == SuggestionStatus.PENDING


def test_a_suggestion_of_org_b_is_404_in_org_a(tenant_a, tenant_b, login):
    _, credential_b, theirs = _suggestion_for(tenant_b, seed=91)
    client = login(tenant_a.owner)
    assert client.get(page_url(tenant_a, f"{theirs.pk}/")).status_code == 404
    response = client.post(page_url(tenant_a, f"{theirs.pk}/decide"), {"decision": "approve"})
    assert response.status_code == 404
    assert _status(tenant_b, theirs) == SuggestionStatus.PENDING
    assert _expiry(tenant_b, credential_b) == date(2025, 1, 31)


def test_the_provider_file_lists_pending_suggestions_with_a_review_link(tenant_a, pending, login):
    provider, _, suggestion = pending
    html = (
        login(tenant_a.coordinator)
        .get(f"/o/{tenant_a.org.slug}/providers/{provider.pk}/")
        .content.decode()
    )
    assert "Read from documents" in html
    assert f"/extractions/{suggestion.pk}/" in html


# --- API --------------------------------------------------------------------------------------
def api(client, method, path, body=None, *, org=None):
    extra = {"HTTP_X_CREDEX_ORGANIZATION": org} if org else {}
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, f"/api/v1/{path}", data, content_type="application/json", **extra)


def test_the_api_lists_and_shows_suggestions_beside_the_credential(tenant_a, pending, login):
    provider, credential, suggestion = pending
    client = login(tenant_a.auditor)
    listed = api(client, "GET", "extractions?status=pending&document_kind=license")
    assert listed.status_code == 200
    (row,) = listed.json()["results"]
    assert row["id"] == str(suggestion.pk) and row["credential"] == str(credential.pk)
    assert row["fields"]["expiry_date"]["value"] == "2027-01-31"
    assert api(client, "GET", "extractions?document_kind=dea").json()["results"] == []
    assert api(client, "GET", "extractions?status=nope").status_code == 400
    one = api(client, "GET", f"extractions/{suggestion.pk}").json()
    expiry = next(c for c in one["comparison"] if c["field"] == "expiry_date")
    assert expiry == {
        "field": "expiry_date",
        "current": "2025-01-31",
        "extracted": "2027-01-31",
        "confidence": 0.95,
        "differs": True,
        "applicable": True,
    }


def test_the_api_approves_and_the_credential_changes(tenant_a, pending, login):
    _, credential, suggestion = pending
    response = api(login(tenant_a.coordinator), "POST", f"extractions/{suggestion.pk}/approve", {})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved"
    assert body["applied"]["changes"] == {
        "expiry_date": {"from": "2025-01-31", "to": "2027-01-31"},
        "issuer": {"from": "", "to": "Texas Medical Board"},  # was empty on the credential
    }
    assert body["decided_by"] == tenant_a.coordinator.email
    assert _expiry(tenant_a, credential) == date(2027, 1, 31)
    again = api(login(tenant_a.coordinator), "POST", f"extractions/{suggestion.pk}/approve", {})
    assert again.status_code == 409 and again.json()["code"] == "conflict"


def test_the_api_corrects_with_the_given_values(tenant_a, pending, login):
    _, credential, suggestion = pending
    response = api(
        login(tenant_a.coordinator),
        "POST",
        f"extractions/{suggestion.pk}/correct",
        {"expiry_date": "2027-06-30", "reason": "Board site says June"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "corrected"
    assert _expiry(tenant_a, credential) == date(2027, 6, 30)


def test_the_api_refuses_a_bad_correction_with_field_details(tenant_a, pending, login):
    _, credential, suggestion = pending
    response = api(
        login(tenant_a.coordinator),
        "POST",
        f"extractions/{suggestion.pk}/correct",
        {"expiry_date": "not a date", "state": "ZZ"},
    )
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"expiry_date", "state"}
    assert _expiry(tenant_a, credential) == date(2025, 1, 31)
    assert _status(tenant_a, suggestion) == SuggestionStatus.PENDING


def test_the_api_rejects_and_writes_nothing(tenant_a, pending, login):
    _, credential, suggestion = pending
    response = api(
        login(tenant_a.coordinator), "POST", f"extractions/{suggestion.pk}/reject", {"reason": "x"}
    )
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert _expiry(tenant_a, credential) == date(2025, 1, 31)


def test_an_auditor_gets_403_on_api_writes_and_nothing_changes(tenant_a, pending, login):
    _, credential, suggestion = pending
    client = login(tenant_a.auditor)
    for action, body in (
        ("approve", {}),
        ("correct", {"expiry_date": "2030-01-01"}),
        ("reject", {}),
    ):
        response = api(client, "POST", f"extractions/{suggestion.pk}/{action}", body)
        assert response.status_code == 403, action
    assert _expiry(tenant_a, credential) == date(2025, 1, 31)
    assert _status(tenant_a, suggestion) == SuggestionStatus.PENDING


def test_an_outsider_gets_404_from_the_api(tenant_a, tenant_b, pending, login):
    _, credential, suggestion = pending
    client = login(tenant_b.owner)
    slug = tenant_a.org.slug
    assert api(client, "GET", "extractions", org=slug).status_code == 404
    assert api(client, "GET", f"extractions/{suggestion.pk}", org=slug).status_code == 404
    response = api(client, "POST", f"extractions/{suggestion.pk}/approve", {}, org=slug)
    assert response.status_code == 404
    # In their own organization, org A's suggestion does not exist either.
    assert api(client, "GET", f"extractions/{suggestion.pk}").status_code == 404
    response = api(client, "POST", f"extractions/{suggestion.pk}/approve", {})
    assert response.status_code == 404
    assert _expiry(tenant_a, credential) == date(2025, 1, 31)


def test_anonymous_api_callers_get_401(tenant_a, pending, client):
    _, _, suggestion = pending
    assert api(client, "GET", "extractions").status_code == 401
    assert api(client, "POST", f"extractions/{suggestion.pk}/approve", {}).status_code == 401


def test_the_extraction_endpoints_are_in_the_openapi_schema(tenant_a, login):
    schema = login(tenant_a.coordinator).get("/api/schema/").content.decode()
    for route in ("extractions:", "{suggestion_id}:", "approve:", "correct:", "reject:"):
        assert route in schema
