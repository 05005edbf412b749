"""Documents pages (under /o/<slug>/documents/): the review queue, a provider's documents with
the upload form and upload links, review actions, and the one authorized download."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credex import capabilities as cap
from credex import interface as ui
from credex.errors import DomainError
from credex.views import capability_required
from roster.models import Document, DocumentKind, DocumentStatus
from roster.selectors import documents as selectors
from roster.services import documents as services
from roster.services.providers import provider_list_record_read
from roster.views.document_forms import (
    BulkAcceptForm,
    DocumentReviewForm,
    DocumentUploadForm,
    UploadLinkForm,
)

PAGE_SIZE = 50
CHECK_FIELDS = "Check the marked fields."
TABS = [
    (DocumentStatus.PENDING_REVIEW, "Waiting for review"),
    (DocumentStatus.ACCEPTED, "Accepted"),
    (DocumentStatus.REJECTED, "Rejected"),
    ("all", "All"),
]


# --- the review queue ---------------------------------------------------------------------
def _queue_context(request) -> dict:
    org = request.org
    filters = selectors.clean_queue_filters(request.GET)
    documents = selectors.document_queue(org=org, **filters)
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.document_status_counts(
        org=org, kind=filters["kind"], source=filters["source"]
    )
    # Only non-default filters go in links (bookmarkable, short URLs).
    defaults = {"status": DocumentStatus.PENDING_REVIEW, "sort": "newest"}
    query = {k: v for k, v in filters.items() if v and defaults.get(k) != v}
    can_change = ui.can_change(request)
    tabs = []
    for value, label in TABS:
        tab_query = {k: v for k, v in query.items() if k not in ("status", "page")}
        if value != DocumentStatus.PENDING_REVIEW:
            tab_query["status"] = value
        tabs.append(
            {
                "value": value,
                "label": label,
                "count": counts[value],
                "href": "?" + urlencode(tab_query) if tab_query else "?",
                "current": filters["status"] == value,
            }
        )
    return {
        "page": page,
        "filters": filters,
        "query": query,
        "counts": counts,
        "tabs": tabs,
        "kinds": DocumentKind.choices,
        "sources": selectors.SOURCES.items(),
        "sorts": [("newest", "Newest first"), ("oldest", "Oldest first"), ("provider", "Provider")],
        "can_change": can_change,
        "bulk_column": can_change and filters["status"] == DocumentStatus.PENDING_REVIEW,
    }


@require_GET
@capability_required(cap.VIEW_ROSTER)
def documents_review(request, org_slug):
    context = _queue_context(request)
    provider_list_record_read(
        org=request.org,
        actor=request.membership,
        providers=[d.provider_id for d in context["page"].object_list],
        part="documents review",
    )
    template = "roster/documents/review.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return ui.vary_on_htmx(render(request, template, context))


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def documents_bulk_accept(request, org_slug):
    form = BulkAcceptForm(request.POST)
    ids = form.cleaned_data["ids"] if form.is_valid() else []
    fallback = reverse("documents_review", kwargs={"org_slug": org_slug})
    if not ids:
        messages.error(request, "Tick the documents to accept first.")
        return redirect(ui.safe_next(request, fallback))
    accepted, skipped = services.documents_bulk_accept(
        org=request.org, actor=request.membership, document_ids=ids
    )
    text = f"Accepted {accepted} document{'s' if accepted != 1 else ''}."
    if skipped:
        text += f" {skipped} {'was' if skipped == 1 else 'were'} no longer waiting for review."
    messages.success(request, text)
    return redirect(ui.safe_next(request, fallback))


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def document_review(request, org_slug, document_id):
    org = request.org
    document = selectors.document_get(org=org, document_id=document_id)
    form = DocumentReviewForm(request.POST)
    errors, status = {}, 200
    if not form.is_valid():
        errors, status = {**ui.form_errors(form), "__all__": CHECK_FIELDS}, 400
    else:
        try:
            document = services.document_review(
                org=org, actor=request.membership, document=document, **form.as_service()
            )
        except DomainError as exc:
            ui.raise_http(exc)
            # htmx swaps 400 and 422 answers only (base.html): a conflict (already reviewed)
            # answers 422 so the row shows the current state and the message.
            errors, status = ui.form_errors(exc), (400 if exc.status == 400 else 422)
            document = selectors.document_get(org=org, document_id=document_id)
    if request.htmx:
        if form.cleaned_data.get("view") == "provider":
            context = _provider_context(
                request, document.provider, review_errors=errors, review_document_id=document.pk
            )
            return ui.vary_on_htmx(
                render(request, "roster/documents/_provider_documents.html", context, status=status)
            )
        context = {
            "d": document,
            "errors": errors,
            "can_change": True,
            "just_reviewed": not errors,
            "bulk_column": form.cleaned_data.get("bulk") == "1",
            "next_url": ui.safe_next(request, ""),
        }
        return ui.vary_on_htmx(
            render(request, "roster/documents/review.html#row", context, status=status)
        )
    if errors:
        messages.error(request, errors["__all__"])
    else:
        verb = "accepted" if document.status == DocumentStatus.ACCEPTED else "rejected"
        messages.success(
            request, f"{document.get_kind_display()} for {document.provider.full_name} {verb}."
        )
    return redirect(
        ui.safe_next(request, reverse("documents_review", kwargs={"org_slug": org_slug}))
    )


# --- download -----------------------------------------------------------------------------
def stream_document(document: Document, opened, *, inline: bool = False) -> FileResponse:
    """The stored bytes as a download: the sniffed type, never sniffed again by the browser."""
    response = FileResponse(
        opened,
        as_attachment=not inline,
        filename=document.original_name or "document",
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # Shown in a tab of its own at most; never able to run script or be framed.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    if not response.has_header("Content-Length"):
        response["Content-Length"] = str(document.size)
    return response


@require_GET
@capability_required(cap.VIEW_ROSTER)
def document_download(request, org_slug, document_id):
    document = selectors.document_get(org=request.org, document_id=document_id)
    inline = request.GET.get("inline") == "1"
    opened = services.document_download(
        org=request.org, actor=request.membership, document=document, inline=inline
    )
    return stream_document(document, opened, inline=inline)


@require_GET
@capability_required(cap.VIEW_ROSTER)
def document_preview(request, org_slug, document_id):
    """Page 1 of the document as PNG (review pages show it beside the fields); audited."""
    document = selectors.document_get(org=request.org, document_id=document_id)
    try:
        png = services.document_preview(
            org=request.org, actor=request.membership, document=document
        )
    except DomainError as exc:
        ui.raise_http(exc)
        return HttpResponse(
            exc.message, status=exc.status, content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(png, content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


# --- one provider's documents (standalone; the provider file page includes the fragment) ---
def _provider_context(request, provider, **extra) -> dict:
    context = selectors.provider_documents_context(
        org=request.org, provider=provider, membership=request.membership
    )
    if request.method == "POST":
        # Keep the page the fragment lives on (e.g. the provider file) as the forms' "next".
        context["next_url"] = ui.safe_next(request, "")
    return context | extra


def _fragment_or_page(request, provider, context, status=200):
    if request.htmx:
        template = "roster/documents/_provider_documents.html"
    else:
        template = "roster/documents/provider.html"
    return ui.vary_on_htmx(render(request, template, context, status=status))


@require_http_methods(["GET", "POST"])
@capability_required(cap.VIEW_ROSTER)
def provider_documents(request, org_slug, provider_id):
    org = request.org
    provider = selectors.provider_get(org=org, provider_id=provider_id)
    if request.method == "GET":
        services.provider_documents_viewed(
            org=org, actor=request.membership, provider=provider, via="documents_page"
        )
        return _fragment_or_page(request, provider, _provider_context(request, provider))
    ui.require_change(request)
    upload_form = DocumentUploadForm(request.POST, request.FILES, provider=provider)
    form = upload_form.typed()
    errors = {} if upload_form.is_valid() else ui.form_errors(upload_form)
    if not errors:
        upload = upload_form.cleaned_data["file"]
        try:
            document = services.document_upload(
                org=org,
                actor=request.membership,
                provider=provider,
                kind=upload_form.cleaned_data["kind"],
                file=upload,
                filename=upload.name,
                credential=upload_form.cleaned_data["credential"],
                accept=upload_form.cleaned_data["accept"],
            )
        except DomainError as exc:
            ui.raise_http(exc)
            errors = ui.form_errors(exc)
    if errors:
        context = _provider_context(request, provider, upload_form=form, upload_errors=errors)
        return _fragment_or_page(request, provider, context, status=400)
    note = f"{document.get_kind_display()} uploaded" + (
        " and accepted." if document.status == DocumentStatus.ACCEPTED else " — waiting for review."
    )
    if request.htmx:
        context = _provider_context(request, provider, upload_notice=note)
        return _fragment_or_page(request, provider, context)
    messages.success(request, note)
    fallback = reverse(
        "provider_documents", kwargs={"org_slug": org_slug, "provider_id": provider.pk}
    )
    return redirect(ui.safe_next(request, fallback))


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def upload_link_new(request, org_slug, provider_id):
    org = request.org
    provider = selectors.provider_get(org=org, provider_id=provider_id)
    link_form = UploadLinkForm(request.POST)
    form = link_form.typed()
    errors = {}
    if not link_form.is_valid():
        errors = {**ui.form_errors(link_form), "__all__": CHECK_FIELDS}
    else:
        try:
            link = services.upload_link_create(
                org=org, actor=request.membership, provider=provider, **link_form.as_service()
            )
        except DomainError as exc:
            ui.raise_http(exc)
            errors = ui.form_errors(exc)
    if errors:
        context = _provider_context(request, provider, link_form=form, link_errors=errors)
        return _fragment_or_page(request, provider, context, status=400)
    email = link_form.cleaned_data["email"].strip() or provider.email
    note = f"Upload link sent to {email}. It works until {link.expires_at:%-d %b %Y}."
    if request.htmx:
        return _fragment_or_page(
            request, provider, _provider_context(request, provider, link_notice=note)
        )
    messages.success(request, note)
    fallback = reverse(
        "provider_documents", kwargs={"org_slug": org_slug, "provider_id": provider.pk}
    )
    return redirect(ui.safe_next(request, fallback))


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def upload_link_revoke(request, org_slug, link_id):
    org = request.org
    link = selectors.upload_link_get(org=org, link_id=link_id)
    services.upload_link_revoke(org=org, actor=request.membership, link=link)
    note = "Upload link withdrawn. It stops working at once."
    if request.htmx:
        return _fragment_or_page(
            request, link.provider, _provider_context(request, link.provider, link_notice=note)
        )
    messages.success(request, note)
    fallback = reverse(
        "provider_documents", kwargs={"org_slug": org_slug, "provider_id": link.provider_id}
    )
    return redirect(ui.safe_next(request, fallback))


urlpatterns = [
    path("", documents_review, name="documents_review"),
    path("bulk-accept/", documents_bulk_accept, name="documents_bulk_accept"),
    path("<uuid:document_id>/download", document_download, name="document_download"),
    path("<uuid:document_id>/review", document_review, name="document_review"),
    path("<uuid:document_id>/preview.png", document_preview, name="document_preview"),
    path("provider/<uuid:provider_id>/", provider_documents, name="provider_documents"),
    path("provider/<uuid:provider_id>/links/", upload_link_new, name="upload_link_new"),
    path("links/<uuid:link_id>/revoke", upload_link_revoke, name="upload_link_revoke"),
]
