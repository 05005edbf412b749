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


# --- the first-page preview ------------------------------------------------------------------
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _preview_url(tenant, document_id):
    return f"/o/{tenant.org.slug}/documents/{document_id}/preview.png"


def _upload(tenant, data, name, kind="license"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from roster.services.documents import document_upload
    from tests.factories import make_provider

    provider = make_provider(tenant.org, seed=77)
    with tenant_context(tenant.org):
        return document_upload(
            org=tenant.org,
            actor=tenant.membership(tenant.owner),
            provider=provider,
            kind=kind,
            file=SimpleUploadedFile(name, data),
        )


def test_the_preview_of_a_pdf_is_its_first_page_as_png_audited_and_sandboxed(
    tenant_a, pending, login
):
    from PIL import Image

    _, _, suggestion = pending
    response = login(tenant_a.coordinator).get(_preview_url(tenant_a, suggestion.document_id))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content.startswith(PNG_MAGIC)
    import io

    with Image.open(io.BytesIO(response.content)) as image:
        assert image.height == 1200 and image.width < image.height  # a portrait page
    assert _document_events(tenant_a, suggestion).count("roster.document.previewed") == 1
    # cached per document: the second view is the same picture, audited again
    again = login(tenant_a.coordinator).get(_preview_url(tenant_a, suggestion.document_id))
    assert again.content == response.content
    assert _document_events(tenant_a, suggestion).count("roster.document.previewed") == 2


def test_the_preview_of_an_image_is_the_image_as_png(tenant_a, login):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (1200, 1600), "white").save(buffer, format="JPEG")
    document = _upload(tenant_a, buffer.getvalue(), "scan.jpg")
    response = login(tenant_a.coordinator).get(_preview_url(tenant_a, document.pk))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.format == "PNG" and image.size == (900, 1200)


def test_a_document_that_cannot_be_rendered_has_no_preview_and_no_500(tenant_a, login):
    from django.core.files.base import ContentFile

    from tests.test_providers import add_provider
    from tests.test_requirements import add_document

    document = add_document(tenant_a, add_provider(tenant_a))
    with tenant_context(tenant_a.org):
        document.file.save("broken.pdf", ContentFile(b"%PDF-1.4 not really"))
    response = login(tenant_a.coordinator).get(_preview_url(tenant_a, document.pk))
    assert response.status_code == 404


def test_another_organizations_document_preview_is_404(tenant_a, tenant_b, login):
    _, _, theirs = _suggestion_for(tenant_b, seed=91)
    client = login(tenant_a.owner)
    assert client.get(_preview_url(tenant_a, theirs.document_id)).status_code == 404
    assert client.get(_preview_url(tenant_b, theirs.document_id)).status_code == 404


def test_the_review_page_shows_the_preview_beside_the_fields(tenant_a, pending, login):
    _, _, suggestion = pending
    html = login(tenant_a.auditor).get(page_url(tenant_a, f"{suggestion.pk}/")).content.decode()
    assert f'src="{_preview_url(tenant_a, suggestion.document_id)}"' in html
    assert "First page of the License uploaded for" in html


def test_a_credential_whose_linked_document_waits_says_so_in_its_row(tenant_a, login):
    from django.urls import reverse

    from tests.test_providers import add_credential, add_provider
    from tests.test_requirements import add_document

    provider = add_provider(tenant_a)
    license_ = add_credential(tenant_a, provider)
    waiting = add_document(tenant_a, provider, kind="license", credential=license_)
    detail = reverse(
        "provider_detail", kwargs={"org_slug": tenant_a.org.slug, "provider_id": provider.pk}
    )
    html = login(tenant_a.coordinator).get(detail).content.decode()
    assert f'href="#pdoc-{waiting.pk}">waiting for review</a>' in html


def test_a_pdf_page_of_any_shape_renders_within_the_bounded_size(tenant_a, login):
    import io

    from PIL import Image
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=20, height=14000)  # a ribbon: unbounded height if scaled by width
    writer.add_blank_page(width=600, height=800)  # only page 1 is rendered
    buffer = io.BytesIO()
    writer.write(buffer)
    document = _upload(tenant_a, buffer.getvalue(), "ribbon.pdf", kind="other")
    response = login(tenant_a.coordinator).get(_preview_url(tenant_a, document.pk))
    assert response.status_code == 200
    with Image.open(io.BytesIO(response.content)) as image:
        assert max(image.size) == 1200 and image.width < 10
