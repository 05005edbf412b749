"""An extraction's decision and its document: approving (or correcting) the extracted fields
also accepts the document, audited, in the same transaction; rejecting leaves the document
waiting for a manual review. And the review page's first-page preview of the document."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from roster.models import Document, DocumentStatus
from tests.test_extraction_web import _suggestion_for, api, page_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(tenant_a):
    return _suggestion_for(tenant_a)


def _document(tenant, suggestion) -> Document:
    with tenant_context(tenant.org):
        return Document.objects.get(pk=suggestion.document_id)


def _document_events(tenant, suggestion) -> list[str]:
    with tenant_context(tenant.org):
        return list(
            AuditEvent.objects.filter(
                organization=tenant.org, target_id=str(suggestion.document_id)
            )
            .order_by("seq")
            .values_list("action", flat=True)
        )


# --- the decision accepts the document ------------------------------------------------------
def test_approving_on_the_review_page_accepts_the_document_and_audits_it(tenant_a, pending, login):
    _, _, suggestion = pending
    assert _document(tenant_a, suggestion).status == DocumentStatus.PENDING_REVIEW
    response = login(tenant_a.coordinator).post(
        page_url(tenant_a, f"{suggestion.pk}/decide"), {"decision": "approve"}
    )
    assert response.status_code == 302
    document = _document(tenant_a, suggestion)
    assert document.status == DocumentStatus.ACCEPTED
    assert document.reviewed_by_id == tenant_a.membership(tenant_a.coordinator).pk
    assert "roster.document.accepted" in _document_events(tenant_a, suggestion)


def test_correcting_on_the_review_page_accepts_the_document(tenant_a, pending, login):
    _, _, suggestion = pending
    login(tenant_a.coordinator).post(
        page_url(tenant_a, f"{suggestion.pk}/decide"),
        {"decision": "correct", "value_expiry_date": "2027-03-01"},
    )
    assert _document(tenant_a, suggestion).status == DocumentStatus.ACCEPTED


def test_rejecting_the_extraction_leaves_the_document_for_manual_review(tenant_a, pending, login):
    _, _, suggestion = pending
    login(tenant_a.coordinator).post(
        page_url(tenant_a, f"{suggestion.pk}/decide"), {"decision": "reject", "reason": "Old"}
    )
    assert _document(tenant_a, suggestion).status == DocumentStatus.PENDING_REVIEW
    assert "roster.document.accepted" not in _document_events(tenant_a, suggestion)


def test_approving_through_the_api_accepts_the_document(tenant_a, pending, login):
    _, _, suggestion = pending
    response = api(login(tenant_a.coordinator), "POST", f"extractions/{suggestion.pk}/approve", {})
    assert response.status_code == 200, response.content
    assert _document(tenant_a, suggestion).status == DocumentStatus.ACCEPTED
    assert "roster.document.accepted" in _document_events(tenant_a, suggestion)


def test_rejecting_through_the_api_leaves_the_document_waiting(tenant_a, pending, login):
    _, _, suggestion = pending
    response = api(
        login(tenant_a.coordinator), "POST", f"extractions/{suggestion.pk}/reject", {"reason": "x"}
    )
    assert response.status_code == 200
    assert _document(tenant_a, suggestion).status == DocumentStatus.PENDING_REVIEW


def test_an_already_reviewed_document_stays_as_it_is_when_the_extraction_is_approved(
    tenant_a, pending, login
):
    from roster.services.documents import document_review

    _, _, suggestion = pending
    with tenant_context(tenant_a.org):
        document_review(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            document=_document(tenant_a, suggestion),
            decision="reject",
            reason="Unreadable scan",
        )
    response = api(login(tenant_a.coordinator), "POST", f"extractions/{suggestion.pk}/approve", {})
    assert response.status_code == 200
    assert _document(tenant_a, suggestion).status == DocumentStatus.REJECTED


# --- the provider file: a waiting document is not "no document on file" ----------------------
def test_the_provider_file_says_a_required_document_is_waiting_for_review_with_a_link(
    tenant_a, login
):
    from django.urls import reverse

    from tests.test_providers import add_credential, add_provider
    from tests.test_requirements import add_document, set_required

    set_required(tenant_a, "MD", {"state_license": True, "malpractice": True})
    provider = add_provider(tenant_a)
    add_credential(tenant_a, provider)
    add_credential(tenant_a, provider, kind="malpractice", number="P")
    waiting = add_document(tenant_a, provider, kind="license")  # unlinked, waiting
    add_document(tenant_a, provider, kind="malpractice", status="accepted")
    detail = reverse(
        "provider_detail", kwargs={"org_slug": tenant_a.org.slug, "provider_id": provider.pk}
    )
    html = login(tenant_a.coordinator).get(detail).content.decode()
    assert "State license: document waiting for review." in html
    assert f'href="#pdoc-{waiting.pk}"' in html and f'id="pdoc-{waiting.pk}"' in html
    assert "State license: no document on file." not in html
    assert "Malpractice insurance: document waiting" not in html  # accepted: on file
    assert "Everything required of" not in html
