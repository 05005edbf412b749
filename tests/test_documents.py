"""Documents: type sniffing and size refusal, storage, authorized and audited download, the
review queue, provider upload links (public pages), and the documents API.

Real Postgres (RLS on) through the real middleware; real files in a temporary MEDIA_ROOT.
Org A has an owner, an admin, a coordinator and an auditor (read-only); org B an outsider.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from credex.errors import InvalidInput
from credex.services import api_key_create
from credex.tenancy import tenant_context
from roster.models import Document, DocumentStatus, UploadLink
from roster.selectors.documents import documents_recent
from roster.services import documents as services
from tests.factories import jpeg_bytes, make_provider, pdf_bytes, png_bytes

pytestmark = pytest.mark.django_db

HTML = b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def zip_file() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("license.pdf", pdf_bytes())
    return out.getvalue()


@pytest.fixture(autouse=True)
def _generous_limits(settings, monkeypatch):
    # The counters live in the shared Redis; tests get limits they cannot reach unless a test
    # is about the limit.
    settings.INVALID_UPLOAD_LINK_REQUESTS_PER_HOUR = 100_000
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


@pytest.fixture
def provider(tenant_a):
    return make_provider(
        tenant_a.org, seed=7, first_name="Rosa", last_name="Diaz", email="rosa.diaz@example.org"
    )


# --- helpers ---------------------------------------------------------------------------------
def docs_url(tenant, provider) -> str:
    return f"/o/{tenant.org.slug}/documents/provider/{provider.pk}/"


def queue_url(tenant) -> str:
    return f"/o/{tenant.org.slug}/documents/"


def upload(
    client,
    tenant,
    provider,
    data: bytes,
    name="license.pdf",
    kind="license",
    *,
    htmx=False,
    **fields,
):
    return client.post(
        docs_url(tenant, provider),
        {"kind": kind, "file": SimpleUploadedFile(name, data, "application/pdf"), **fields},
        headers={"HX-Request": "true"} if htmx else {},
    )


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def documents(org) -> list[Document]:
    with tenant_context(org):
        return list(Document.objects.order_by("created_at"))


def events(org, prefix="roster.") -> list[AuditEvent]:
    with tenant_context(org):
        return list(
            AuditEvent.objects.filter(organization=org, action__startswith=prefix).order_by("seq")
        )


def actions(org, prefix="roster.") -> list[str]:
    return [e.action for e in events(org, prefix)]


def upload_as_service(tenant, provider, data=None, *, user=None, kind="license", **kw):
    member = tenant.membership(user or tenant.coordinator)
    with tenant_context(tenant.org):
        return services.document_upload(
            org=tenant.org,
            actor=member,
            provider=provider,
            kind=kind,
            file=SimpleUploadedFile("scan.pdf", data or pdf_bytes()),
            **kw,
        )


def make_link(tenant, provider, *, kinds=("license", "cv"), **kw) -> UploadLink:
    with tenant_context(tenant.org):
        return services.upload_link_create(
            org=tenant.org,
            actor=tenant.membership(tenant.coordinator),
            provider=provider,
            kinds=list(kinds),
            **kw,
        )


def link_path(link) -> str:
    return f"/u/{services.upload_link_token(link)}/"


# --- sniffing: the type comes from the bytes ---------------------------------------------------
def test_real_pdf_png_and_jpeg_are_recognised_from_their_bytes():
    pdf = services.sniff(pdf_bytes(pages=3))
    assert (pdf.content_type, pdf.pages) == ("application/pdf", 3)
    png = services.sniff(png_bytes(5, 4))
    assert (png.content_type, png.width, png.height) == ("image/png", 5, 4)
    jpeg = services.sniff(jpeg_bytes(4, 3))
    assert (jpeg.content_type, jpeg.width, jpeg.height) == ("image/jpeg", 4, 3)


@pytest.mark.parametrize(
    "data,looks_like",
    [
        (HTML, "an HTML page"),
        (EXE, "a Windows program (EXE)"),
        (zip_file(), "a ZIP archive"),
        (b"GIF89a\x01\x00\x01\x00", "a GIF image"),
        (b"name,npi\nRosa,123\n", "a plain-text file"),
    ],
)
def test_anything_but_pdf_png_or_jpeg_is_refused_saying_what_it_looks_like(data, looks_like):
    with pytest.raises(InvalidInput) as refused:
        services.sniff(data)
    assert f"Only PDF, PNG or JPEG files — this file looks like {looks_like}" in str(refused.value)
    assert refused.value.details["file"]


def test_a_password_protected_pdf_is_refused_and_a_permissions_only_one_is_accepted():
    from pypdf import PdfWriter

    def encrypted(**passwords):
        writer = PdfWriter()
        writer.add_blank_page(width=100, height=100)
        writer.encrypt(**passwords)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    with pytest.raises(InvalidInput, match="protected by a password"):
        services.sniff(encrypted(user_password="secret", owner_password="secret"))
    assert services.sniff(encrypted(user_password="", owner_password="owner")).pages == 1


def test_a_damaged_pdf_and_a_damaged_png_are_refused():
    with pytest.raises(InvalidInput, match="damaged"):
        services.sniff(pdf_bytes()[:120])
    with pytest.raises(InvalidInput, match="damaged"):
        services.sniff(b"%PDF-1.4\n<html>not really</html>")
    with pytest.raises(InvalidInput, match="PNG image is damaged"):
        services.sniff(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    with pytest.raises(InvalidInput, match="JPEG image is damaged"):
        services.sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 10)


# --- coordinator upload on the provider's file ------------------------------------------------
def test_coordinator_uploads_a_document_that_waits_for_review(tenant_a, provider, login):
    client = login(tenant_a.coordinator)
    data = pdf_bytes(pages=2)
    response = upload(client, tenant_a, provider, data, name="Rosa Diaz license 2025.pdf")
    assert response.status_code == 302
    [doc] = documents(tenant_a.org)
    assert doc.status == DocumentStatus.PENDING_REVIEW
    assert (doc.kind, doc.content_type, doc.size) == ("license", "application/pdf", len(data))
    assert doc.original_name == "Rosa Diaz license 2025.pdf"
    import hashlib

    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    assert "Rosa" not in doc.file.name and "license" not in doc.file.name
    assert doc.file.name == f"documents/{tenant_a.org.pk}/{provider.pk}/{doc.pk}"
    with tenant_context(tenant_a.org):
        assert doc.uploaded_by.user == tenant_a.coordinator
    [event] = events(tenant_a.org, "roster.document.uploaded")
    assert event.actor_kind == "member" and event.target_id == str(doc.pk)
    assert event.data["pages"] == 2 and event.data["source"] == "member"


def test_an_html_page_renamed_pdf_is_refused_next_to_the_file_field_and_nothing_is_stored(
    tenant_a, provider, login
):
    client = login(tenant_a.coordinator)
    response = upload(client, tenant_a, provider, HTML, name="license.pdf")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Only PDF, PNG or JPEG files — this file looks like an HTML page" in page
    assert 'class="field-error" id="up-file-' in page
    assert documents(tenant_a.org) == [] and stored_files() == []
    assert actions(tenant_a.org, "roster.document.") == []


@pytest.mark.parametrize("data", [EXE, zip_file(), b""], ids=["exe", "zip", "empty"])
def test_programs_archives_and_empty_files_are_refused_and_nothing_is_stored(
    tenant_a, provider, login, data
):
    client = login(tenant_a.coordinator)
    response = upload(client, tenant_a, provider, data, name="license.pdf")
    assert response.status_code == 400
    text = response.content.decode()
    assert ("Only PDF, PNG or JPEG files" in text) or ("The file is empty" in text)
    assert documents(tenant_a.org) == [] and stored_files() == []


def test_an_oversize_file_is_refused_naming_the_limit_and_nothing_is_stored(
    tenant_a, provider, login, settings
):
    settings.DOCUMENT_MAX_BYTES = 2048
    client = login(tenant_a.coordinator)
    big = pdf_bytes() + b"%" + b"x" * 4096 + b"\n"
    response = upload(client, tenant_a, provider, big)
    assert response.status_code == 400
    assert "larger than the 2 KB limit" in response.content.decode()
    assert documents(tenant_a.org) == [] and stored_files() == []


def test_the_accept_box_accepts_the_upload_at_once(tenant_a, provider, login):
    client = login(tenant_a.coordinator)
    upload(client, tenant_a, provider, png_bytes(), name="cv.png", kind="cv", accept="on")
    [doc] = documents(tenant_a.org)
    assert doc.status == DocumentStatus.ACCEPTED and doc.content_type == "image/png"
    assert doc.reviewed_at is not None


def test_an_htmx_upload_answers_with_the_documents_fragment(tenant_a, provider, login):
    client = login(tenant_a.coordinator)
    response = upload(
        client,
        tenant_a,
        provider,
        jpeg_bytes(),
        name="card.jpg",
        kind="life_support",
        htmx=True,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith("{") is False and 'id="provider-documents"' in body
    assert "<html" not in body and "Life-support card uploaded" in body
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_an_htmx_upload_error_keeps_the_chosen_kind(tenant_a, provider, login):
    client = login(tenant_a.coordinator)
    response = upload(client, tenant_a, provider, HTML, kind="dea", htmx=True)
    assert response.status_code == 400
    assert '<option value="dea" selected>' in response.content.decode()


def test_auditor_reads_the_documents_page_but_gets_403_uploading(tenant_a, provider, login):
    upload_as_service(tenant_a, provider)
    client = login(tenant_a.auditor)
    page = client.get(docs_url(tenant_a, provider))
    assert page.status_code == 200 and "Upload a document" not in page.content.decode()
    response = upload(client, tenant_a, provider, pdf_bytes())
    assert response.status_code == 403
    assert len(documents(tenant_a.org)) == 1 and len(stored_files()) == 1


def test_reading_a_providers_documents_page_is_recorded(tenant_a, provider, login):
    login(tenant_a.auditor).get(docs_url(tenant_a, provider))
    [event] = events(tenant_a.org, "roster.provider.documents_viewed")
    assert event.target_id == str(provider.pk) and event.actor_label == tenant_a.auditor.email


# --- download ----------------------------------------------------------------------------------
def test_download_streams_the_bytes_as_an_attachment_and_is_recorded(tenant_a, provider, login):
    data = pdf_bytes(pages=2)
    doc = upload_as_service(tenant_a, provider, data)
    client = login(tenant_a.coordinator)
    response = client.get(f"/o/{tenant_a.org.slug}/documents/{doc.pk}/download")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="scan.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    [event] = events(tenant_a.org, "roster.document.downloaded")
    assert event.target_id == str(doc.pk) and event.data["disposition"] == "attachment"
    assert event.actor_label == tenant_a.coordinator.email and event.ip == "127.0.0.1"


def test_an_auditor_may_download_and_view_inline_and_both_are_recorded(tenant_a, provider, login):
    doc = upload_as_service(tenant_a, provider, png_bytes())
    client = login(tenant_a.auditor)
    url = f"/o/{tenant_a.org.slug}/documents/{doc.pk}/download"
    assert client.get(url).status_code == 200
    inline = client.get(url + "?inline=1")
    assert inline.status_code == 200 and inline["Content-Type"] == "image/png"
    assert inline["Content-Disposition"].startswith("inline")
    assert "sandbox" in inline["Content-Security-Policy"]
    dispositions = [
        e.data["disposition"] for e in events(tenant_a.org, "roster.document.downloaded")
    ]
    assert dispositions == ["attachment", "inline"]


def test_stored_files_are_never_served_from_a_media_url(tenant_a, provider, login):
    doc = upload_as_service(tenant_a, provider)
    client = login(tenant_a.owner)
    assert client.get(f"{settings.MEDIA_URL}{doc.file.name}").status_code == 404
    page = client.get(docs_url(tenant_a, provider)).content.decode()
    assert settings.MEDIA_URL + "documents" not in page and doc.file.name not in page


# --- the review queue -------------------------------------------------------------------------
def test_the_review_queue_lists_documents_waiting_newest_first_with_counts(
    tenant_a, provider, login
):
    older = upload_as_service(tenant_a, provider, kind="cv")
    newer = upload_as_service(tenant_a, provider, kind="license")
    accepted = upload_as_service(tenant_a, provider, kind="dea", accept=True)
    response = login(tenant_a.auditor).get(queue_url(tenant_a))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index(f"doc-{newer.pk}") < page.index(f"doc-{older.pk}")
    assert f"doc-{accepted.pk}" not in page
    assert "2 documents" in page
    tabs = response.context["tabs"]
    assert [(t["value"], t["count"]) for t in tabs] == [
        ("pending_review", 2),
        ("accepted", 1),
        ("rejected", 0),
        ("all", 3),
    ]
    # read-only: no actions, no bulk form
    assert "Accept selected" not in page and 'name="decision"' not in page


def test_review_queue_filters_live_in_the_url_and_htmx_gets_only_the_results(
    tenant_a, provider, login
):
    cv = upload_as_service(tenant_a, provider, kind="cv")
    lic = upload_as_service(tenant_a, provider, kind="license")
    link = make_link(tenant_a, provider)
    client = login(tenant_a.coordinator)
    public = client.post(
        link_path(link), {"kind": "license", "file": SimpleUploadedFile("l.pdf", pdf_bytes())}
    )
    assert public.status_code == 302
    by_kind = client.get(queue_url(tenant_a), {"kind": "cv"}).content.decode()
    assert f"doc-{cv.pk}" in by_kind and f"doc-{lic.pk}" not in by_kind
    from_links = client.get(queue_url(tenant_a), {"source": "link"})
    [linked] = list(from_links.context["page"].object_list)
    assert linked.upload_link_id == link.pk and "Provider link" in from_links.content.decode()
    partial = client.get(
        queue_url(tenant_a), {"status": "all", "kind": "license"}, HTTP_HX_REQUEST="true"
    )
    body = partial.content.decode()
    assert "<html" not in body and 'id="doc-status"' in body and "2 documents" in body
    assert "HX-Request" in partial["Vary"]
    bad = client.get(queue_url(tenant_a), {"status": "nonsense", "kind": "nope"})
    assert bad.status_code == 200 and bad.context["filters"]["status"] == "pending_review"


def test_pagination_keeps_the_filters(tenant_a, provider, login, monkeypatch):
    from roster.views import documents as views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for _ in range(3):
        upload_as_service(tenant_a, provider, kind="cv")
    page = login(tenant_a.coordinator).get(queue_url(tenant_a), {"kind": "cv"}).content.decode()
    assert "?kind=cv&amp;page=2" in page


def test_accepting_through_htmx_answers_with_the_row_and_is_recorded(tenant_a, provider, login):
    doc = upload_as_service(tenant_a, provider)
    client = login(tenant_a.coordinator)
    response = client.post(
        f"/o/{tenant_a.org.slug}/documents/{doc.pk}/review",
        {"decision": "accept", "bulk": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.strip().startswith(f'<tr id="doc-{doc.pk}"') and "Accepted" in body
    assert 'hx-swap-oob="true"' in body
    [stored] = documents(tenant_a.org)
    assert stored.status == DocumentStatus.ACCEPTED and stored.reviewed_at
    [event] = events(tenant_a.org, "roster.document.accepted")
    assert (
        event.data["from"] == "pending_review" and event.actor_label == tenant_a.coordinator.email
    )


def test_rejecting_needs_a_reason_shown_next_to_the_field(tenant_a, provider, login):
    doc = upload_as_service(tenant_a, provider)
    client = login(tenant_a.coordinator)
    url = f"/o/{tenant_a.org.slug}/documents/{doc.pk}/review"
    response = client.post(url, {"decision": "reject", "reason": "  "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert f'id="reason-{doc.pk}-error"' in response.content.decode()
    assert documents(tenant_a.org)[0].status == DocumentStatus.PENDING_REVIEW
    response = client.post(url, {"decision": "reject", "reason": "Expired in 2023"})
    assert response.status_code == 302
    [stored] = documents(tenant_a.org)
    assert (stored.status, stored.review_note) == (DocumentStatus.REJECTED, "Expired in 2023")
    [event] = events(tenant_a.org, "roster.document.rejected")
    assert event.data["reason"] == "Expired in 2023"


def test_reviewing_twice_the_same_way_is_refused_with_a_message(tenant_a, provider, login):
    doc = upload_as_service(tenant_a, provider)
    client = login(tenant_a.coordinator)
    url = f"/o/{tenant_a.org.slug}/documents/{doc.pk}/review"
    client.post(url, {"decision": "accept"})
    again = client.post(url, {"decision": "accept"}, HTTP_HX_REQUEST="true")
    assert again.status_code == 422 and "already accepted" in again.content.decode()
    assert len(events(tenant_a.org, "roster.document.accepted")) == 1


def test_bulk_accept_accepts_the_ticked_documents_still_waiting(tenant_a, provider, login):
    a = upload_as_service(tenant_a, provider, kind="cv")
    b = upload_as_service(tenant_a, provider, kind="license")
    c = upload_as_service(tenant_a, provider, kind="dea")
    done = upload_as_service(tenant_a, provider, kind="cds", accept=True)
    client = login(tenant_a.coordinator)
    response = client.post(
        f"/o/{tenant_a.org.slug}/documents/bulk-accept/",
        {"ids": [a.pk, b.pk, done.pk, "not-a-uuid"], "next": queue_url(tenant_a) + "?kind=cv"},
    )
    assert response.status_code == 302 and response["Location"].endswith("?kind=cv")
    status = {d.pk: d.status for d in documents(tenant_a.org)}
    assert status[a.pk] == status[b.pk] == DocumentStatus.ACCEPTED
    assert status[c.pk] == DocumentStatus.PENDING_REVIEW
    assert len(events(tenant_a.org, "roster.document.accepted")) == 2


def test_auditor_gets_403_reviewing_and_bulk_accepting_and_nothing_changes(
    tenant_a, provider, login
):
    doc = upload_as_service(tenant_a, provider)
    client = login(tenant_a.auditor)
    slug = tenant_a.org.slug
    assert (
        client.post(f"/o/{slug}/documents/{doc.pk}/review", {"decision": "accept"}).status_code
        == 403
    )
    assert client.post(f"/o/{slug}/documents/bulk-accept/", {"ids": [doc.pk]}).status_code == 403
    assert documents(tenant_a.org)[0].status == DocumentStatus.PENDING_REVIEW
    assert actions(tenant_a.org, "roster.document.accepted") == []


def test_the_empty_queue_says_what_to_do_next(tenant_a, login):
    page = login(tenant_a.coordinator).get(queue_url(tenant_a)).content.decode()
    assert "Nothing waiting for review" in page and "upload link" in page


def test_documents_recent_lists_what_arrived_since_a_time(tenant_a, provider):
    old = upload_as_service(tenant_a, provider, kind="cv")
    with tenant_context(tenant_a.org):
        Document.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    new = upload_as_service(tenant_a, provider, kind="license")
    with tenant_context(tenant_a.org):
        recent = list(
            documents_recent(org=tenant_a.org, since=timezone.now() - timedelta(hours=24))
        )
    assert recent == [new]


# --- provider upload links -------------------------------------------------------------------
def _link_from(mail) -> str:
    match = re.search(r"https?://\S+?(/u/\S+?/)", mail.body)
    assert match, mail.body
    return match.group(1)


def test_upload_link_lifecycle_from_request_to_accepted(
    tenant_a, provider, login, client, mailoutbox, django_capture_on_commit_callbacks
):
    coordinator = login(tenant_a.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(
            f"/o/{tenant_a.org.slug}/documents/provider/{provider.pk}/links/",
            {
                "kinds": ["license", "malpractice"],
                "message": "Please send the renewed ones.",
                "days": "7",
            },
        )
    assert response.status_code == 302
    [mail] = mailoutbox
    assert mail.to == ["rosa.diaz@example.org"] and "Acme Health" in mail.subject
    assert "License" in mail.body and "Malpractice declarations page" in mail.body
    assert "Please send the renewed ones." in mail.body
    path = _link_from(mail)
    with tenant_context(tenant_a.org):
        link = UploadLink.objects.get()
    assert link.requested_kinds == ["license", "malpractice"]
    assert timedelta(days=6, hours=23) < link.expires_at - timezone.now() <= timedelta(days=7)

    coordinator.logout()
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Acme Health asks for your documents" in html and "Rosa Diaz" in html
    assert "Please send the renewed ones." in html and html.count('name="file"') == 2
    assert 'class="sidenav"' not in html and page["Cache-Control"] == "private, no-store"
    # "no-referrer" would make browsers send "Origin: null" and fail the CSRF check.
    assert page["Referrer-Policy"] == "same-origin"

    sent = client.post(
        path, {"kind": "license", "file": SimpleUploadedFile("My License.PDF", pdf_bytes())}
    )
    assert sent.status_code == 302 and sent["Location"] == path
    after = client.get(path).content.decode()
    assert "My License.PDF" in after and "waiting for review" in after
    assert "was received" in after

    [doc] = documents(tenant_a.org)
    assert doc.upload_link_id == link.pk and doc.status == DocumentStatus.PENDING_REVIEW
    assert doc.uploaded_by is None and "License" not in doc.file.name

    queue = login(tenant_a.coordinator).get(queue_url(tenant_a)).content.decode()
    assert f"doc-{doc.pk}" in queue and "Provider link" in queue
    assert (
        login(tenant_a.coordinator)
        .post(f"/o/{tenant_a.org.slug}/documents/{doc.pk}/review", {"decision": "accept"})
        .status_code
        == 302
    )
    client.logout()
    assert "accepted" in client.get(path).content.decode()

    link_events = [e for e in events(tenant_a.org) if e.actor_kind == "provider_link"]
    assert [e.action for e in link_events] == [
        "roster.upload_link.viewed",
        "roster.document.uploaded",
        "roster.upload_link.viewed",
        "roster.upload_link.viewed",
    ]
    assert all(e.actor_id == str(link.pk) and e.actor_label == "Rosa Diaz" for e in link_events)
    assert all(e.ip == "127.0.0.1" for e in link_events)
    assert {"roster.upload_link.created", "roster.document.accepted"} <= set(actions(tenant_a.org))
    with tenant_context(tenant_a.org):
        assert UploadLink.objects.get().last_used_at is not None


def test_a_link_upload_of_the_wrong_type_is_refused_plainly_and_recorded(
    tenant_a, provider, client
):
    link = make_link(tenant_a, provider)
    response = client.post(
        link_path(link), {"kind": "cv", "file": SimpleUploadedFile("cv.pdf", HTML)}
    )
    assert response.status_code == 400
    assert (
        "Only PDF, PNG or JPEG files — this file looks like an HTML page"
        in response.content.decode()
    )
    assert documents(tenant_a.org) == [] and stored_files() == []
    [event] = events(tenant_a.org, "roster.upload_link.upload_refused")
    assert event.actor_kind == "provider_link" and event.data["reason"] == "file_type"


def test_a_link_accepts_only_the_kinds_it_requests(tenant_a, provider, client):
    link = make_link(tenant_a, provider, kinds=["cv"])
    response = client.post(
        link_path(link), {"kind": "license", "file": SimpleUploadedFile("l.pdf", pdf_bytes())}
    )
    assert response.status_code == 400 and documents(tenant_a.org) == []


def test_an_oversize_upload_through_a_link_is_dropped_while_it_is_read(
    tenant_a, provider, client, settings
):
    settings.DOCUMENT_MAX_BYTES = 1024
    link = make_link(tenant_a, provider)
    big = b"%PDF-" + b"x" * (300 * 1024)
    response = client.post(
        link_path(link), {"kind": "cv", "file": SimpleUploadedFile("cv.pdf", big)}
    )
    assert response.status_code == 400
    assert "larger than the 1 KB limit" in response.content.decode()
    assert documents(tenant_a.org) == [] and stored_files() == []


def test_an_expired_link_says_so_plainly_with_410(tenant_a, provider, client, monkeypatch):
    link = make_link(tenant_a, provider)
    path = link_path(link)
    later = time.time() + (settings.UPLOAD_LINK_MAX_AGE_DAYS + 1) * 86400
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    response = client.get(path)
    assert response.status_code == 410
    page = response.content.decode()
    assert "This link has expired" in page and "Ask Acme Health for a new one" in page
    upload_try = client.post(path, {"kind": "cv", "file": SimpleUploadedFile("c.pdf", pdf_bytes())})
    assert upload_try.status_code == 410 and documents(tenant_a.org) == []
    refused = events(tenant_a.org, "roster.upload_link.refused")
    assert [e.data["reason"] for e in refused] == ["expired", "expired"]
    assert refused[0].actor_kind == "provider_link"


def test_a_link_past_its_chosen_lifetime_is_expired_even_with_a_fresh_signature(
    tenant_a, provider, client
):
    link = make_link(tenant_a, provider, days=3)
    with tenant_context(tenant_a.org):
        UploadLink.objects.filter(pk=link.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    response = client.get(link_path(link))
    assert response.status_code == 410 and "expired" in response.content.decode()


def test_a_withdrawn_link_says_so_plainly_with_410(tenant_a, provider, login, client):
    link = make_link(tenant_a, provider)
    path = link_path(link)
    coordinator = login(tenant_a.coordinator)
    response = coordinator.post(f"/o/{tenant_a.org.slug}/documents/links/{link.pk}/revoke")
    assert response.status_code == 302
    coordinator.logout()
    page = client.get(path)
    assert page.status_code == 410 and "withdrawn by Acme Health" in page.content.decode()
    assert "roster.upload_link.revoked" in actions(tenant_a.org)


def test_a_tampered_link_is_not_valid(tenant_a, provider, client):
    link = make_link(tenant_a, provider)
    token = services.upload_link_token(link)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (tampered, "not-a-token", token.replace(":", ":x", 1)):
        response = client.get(f"/u/{bad}/")
        assert response.status_code == 404
        assert "not valid" in response.content.decode()
    assert actions(tenant_a.org, "roster.upload_link.viewed") == []


def test_an_invitation_token_does_not_open_an_upload_page(tenant_a, provider, client):
    from django.core import signing

    forged = signing.dumps(
        {"org": str(tenant_a.org.pk), "link": str(make_link(tenant_a, provider).pk)},
        salt="credex.invitation",
    )
    assert client.get(f"/u/{forged}/").status_code == 404


def test_the_public_page_is_rate_limited_per_link(tenant_a, provider, client, settings):
    settings.UPLOAD_LINK_REQUESTS_PER_HOUR = 3
    link = make_link(tenant_a, provider)
    path = link_path(link)
    assert [client.get(path).status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get(path)
    assert limited.status_code == 429 and "Wait" in limited.content.decode()
    other = make_link(tenant_a, provider)
    assert client.get(link_path(other)).status_code == 200


def test_requesting_documents_needs_a_kind_and_an_email(tenant_a, login):
    no_email = make_provider(tenant_a.org, seed=8, email="")
    client = login(tenant_a.coordinator)
    url = f"/o/{tenant_a.org.slug}/documents/provider/{no_email.pk}/links/"
    response = client.post(url, {"days": "14"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="link-kinds-error"' in body and f'id="link-email-{no_email.pk}-error"' in body
    bad_days = client.post(url, {"kinds": ["cv"], "email": "x@example.org", "days": "99"})
    assert bad_days.status_code == 400 and "Choose from 1 to 14 days" in bad_days.content.decode()
    with tenant_context(tenant_a.org):
        assert not UploadLink.objects.exists()


def test_auditor_gets_403_creating_or_withdrawing_links(tenant_a, provider, login, mailoutbox):
    link = make_link(tenant_a, provider)
    client = login(tenant_a.auditor)
    slug = tenant_a.org.slug
    created = client.post(f"/o/{slug}/documents/provider/{provider.pk}/links/", {"kinds": ["cv"]})
    assert created.status_code == 403
    assert client.post(f"/o/{slug}/documents/links/{link.pk}/revoke").status_code == 403
    with tenant_context(tenant_a.org):
        assert UploadLink.objects.count() == 1 and UploadLink.objects.get().revoked_at is None
    assert mailoutbox == []


def test_the_link_address_is_shown_to_coordinators_only(tenant_a, provider, login):
    make_link(tenant_a, provider)
    coordinator_page = (
        login(tenant_a.coordinator).get(docs_url(tenant_a, provider)).content.decode()
    )
    assert "/u/" in coordinator_page and "Copy link" in coordinator_page
    auditor_page = login(tenant_a.auditor).get(docs_url(tenant_a, provider)).content.decode()
    assert "/u/" not in auditor_page and "Request documents" not in auditor_page


def test_a_rolled_back_link_sends_no_email(
    tenant_a, provider, mailoutbox, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                make_link(tenant_a, provider)
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert callbacks == [] and mailoutbox == []


# --- API -------------------------------------------------------------------------------------
@pytest.fixture
def keys(tenant_a, tenant_b):
    with tenant_context(tenant_a.org):
        owner = tenant_a.membership(tenant_a.owner)
        coordinator = api_key_create(org=tenant_a.org, actor=owner, name="c", role="coordinator")[1]
        auditor = api_key_create(org=tenant_a.org, actor=owner, name="a", role="auditor")[1]
    with tenant_context(tenant_b.org):
        outsider = api_key_create(
            org=tenant_b.org, actor=tenant_b.membership(tenant_b.owner), name="b", role="admin"
        )[1]
    return {"coordinator": coordinator, "auditor": auditor, "outsider": outsider}


def api_get(client, path, key, **extra):
    return client.get(f"/api/v1/{path}", HTTP_AUTHORIZATION=f"Api-Key {key}", **extra)


def api_upload(client, provider, key, data, *, name="scan.pdf", kind="license", **fields):
    return client.post(
        f"/api/v1/providers/{provider.pk}/documents",
        {"kind": kind, "file": SimpleUploadedFile(name, data), **fields},
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )


def test_api_upload_list_read_download_and_review(tenant_a, provider, client, keys):
    data = pdf_bytes()
    created = api_upload(client, provider, keys["coordinator"], data)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "pending_review" and body["source"] == "api_key"
    assert body["content_type"] == "application/pdf" and body["size"] == len(data)
    assert body["download"] == f"/api/v1/documents/{body['id']}/download"
    assert "file" not in body and "/media/" not in json.dumps(body)

    listed = api_get(client, f"providers/{provider.pk}/documents", keys["auditor"])
    assert listed.status_code == 200 and [d["id"] for d in listed.json()["results"]] == [body["id"]]
    assert (
        api_get(
            client, f"providers/{provider.pk}/documents?status=accepted", keys["auditor"]
        ).json()["results"]
        == []
    )
    bad = api_get(client, f"providers/{provider.pk}/documents?kind=nope", keys["auditor"])
    assert bad.status_code == 400 and bad.json()["details"]["kind"]

    detail = api_get(client, f"documents/{body['id']}", keys["auditor"])
    assert detail.status_code == 200 and detail.json()["sha256"] == body["sha256"]

    download = api_get(
        client, f"documents/{body['id']}/download", keys["auditor"], HTTP_ACCEPT="application/pdf"
    )
    assert download.status_code == 200 and b"".join(download.streaming_content) == data
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")

    reviewed = client.post(
        f"/api/v1/documents/{body['id']}/review",
        json.dumps({"decision": "reject", "reason": "Blurry"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {keys['coordinator']}",
    )
    assert reviewed.status_code == 200 and reviewed.json()["status"] == "rejected"
    assert reviewed.json()["review_note"] == "Blurry"
    by_action = {e.action: e for e in events(tenant_a.org)}
    assert by_action["roster.document.downloaded"].actor_kind == "api_key"
    assert {
        "roster.document.uploaded",
        "roster.document.viewed",
        "roster.provider.documents_viewed",
        "roster.document.rejected",
    } <= set(by_action)


def test_api_refuses_a_disguised_file_with_the_error_shape_and_stores_nothing(
    tenant_a, provider, client, keys
):
    response = api_upload(client, provider, keys["coordinator"], EXE, name="license.pdf")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == "file_type"
    assert "looks like a Windows program" in body["message"]
    assert documents(tenant_a.org) == [] and stored_files() == []


def test_api_upload_needs_multipart(provider, client, keys):
    response = client.post(
        f"/api/v1/providers/{provider.pk}/documents",
        json.dumps({"kind": "cv"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {keys['coordinator']}",
    )
    assert response.status_code == 415


def test_api_auditor_gets_403_on_writes_and_nothing_changes(tenant_a, provider, client, keys):
    doc = upload_as_service(tenant_a, provider)
    assert api_upload(client, provider, keys["auditor"], pdf_bytes()).status_code == 403
    review = client.post(
        f"/api/v1/documents/{doc.pk}/review",
        json.dumps({"decision": "accept"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {keys['auditor']}",
    )
    assert review.status_code == 403 and review.json()["code"] == "forbidden"
    [stored] = documents(tenant_a.org)
    assert stored.status == DocumentStatus.PENDING_REVIEW and len(stored_files()) == 1


def test_api_outsider_gets_404_and_anonymous_401(tenant_a, provider, client, keys):
    doc = upload_as_service(tenant_a, provider)
    for path in (
        f"providers/{provider.pk}/documents",
        f"documents/{doc.pk}",
        f"documents/{doc.pk}/download",
    ):
        assert api_get(client, path, keys["outsider"]).status_code == 404
        assert client.get(f"/api/v1/{path}").status_code == 401
    assert api_upload(client, provider, keys["outsider"], pdf_bytes()).status_code == 404
    assert actions(tenant_a.org, "roster.document.downloaded") == []
    assert len(documents(tenant_a.org)) == 1


def test_the_public_upload_form_is_csrf_protected_and_works_with_its_token(tenant_a, provider):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    link = make_link(tenant_a, provider, kinds=["cv"])
    path = link_path(link)
    page = browser.get(path)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    forged = browser.post(path, {"kind": "cv", "file": SimpleUploadedFile("cv.pdf", pdf_bytes())})
    assert forged.status_code == 403 and documents(tenant_a.org) == []
    sent = browser.post(
        path,
        {
            "csrfmiddlewaretoken": token,
            "kind": "cv",
            "file": SimpleUploadedFile("cv.pdf", pdf_bytes()),
        },
    )
    assert sent.status_code == 302 and len(documents(tenant_a.org)) == 1


def test_an_oversize_upload_with_a_csrf_token_gets_the_size_message_not_a_csrf_error(
    tenant_a, provider, settings
):
    from django.test import Client

    settings.DOCUMENT_MAX_BYTES = 4096
    browser = Client(enforce_csrf_checks=True)
    link = make_link(tenant_a, provider, kinds=["cv"])
    path = link_path(link)
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get(path).content.decode()
    )[1]
    big = pdf_bytes() + b"%" + b"x" * 200_000
    response = browser.post(
        path,
        {"csrfmiddlewaretoken": token, "kind": "cv", "file": SimpleUploadedFile("cv.pdf", big)},
    )
    assert response.status_code == 400
    assert 'id="file-cv-error"' in response.content.decode()
    assert "larger than the 4 KB limit" in response.content.decode()
    assert documents(tenant_a.org) == [] and stored_files() == []
    [event] = events(tenant_a.org, "roster.upload_link.upload_refused")
    assert event.data == {"provider": str(provider.pk), "kind": "cv", "reason": "file_too_large"}


def test_the_uploaded_name_is_kept_as_a_label_without_folders_or_control_characters(
    tenant_a, provider, login
):
    with tenant_context(tenant_a.org):
        doc = services.document_upload(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.coordinator),
            provider=provider,
            kind="cv",
            file=SimpleUploadedFile("x.pdf", pdf_bytes()),
            filename="..\\..\\etc/pass\r\nwd\x00 cv.pdf",
        )
    assert doc.original_name == "passwd cv.pdf"
    response = login(tenant_a.coordinator).get(
        f"/o/{tenant_a.org.slug}/documents/{doc.pk}/download"
    )
    assert (
        response.status_code == 200
        and 'filename="passwd cv.pdf"' in response["Content-Disposition"]
    )


def test_reviewing_from_the_provider_fragment_answers_with_the_fragment(tenant_a, provider, login):
    doc = upload_as_service(tenant_a, provider)
    client = login(tenant_a.coordinator)
    url = f"/o/{tenant_a.org.slug}/documents/{doc.pk}/review"
    page = f"/o/{tenant_a.org.slug}/providers/{provider.pk}/"
    response = client.post(
        url,
        {"decision": "accept", "view": "provider", "next": page},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="provider-documents"')
    assert f'name="next" value="{page}"' in body and "✓ Accepted" in body
    again = client.post(
        url, {"decision": "accept", "view": "provider"}, headers={"HX-Request": "true"}
    )
    assert again.status_code == 422 and "already accepted" in again.content.decode()
