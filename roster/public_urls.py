"""Pages for people without an account: the provider upload link (mounted at /u/).

The signed token in the address is the only credential (the UPLOAD_LINK spec of
credex.links): `signed_link_view` opens it, answers the refusals, records the visit and runs
the page in the organization's scope. Every view and upload is recorded with the actor kind
`provider_link` and the caller's IP.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from credex.errors import InvalidInput
from credex.links import OpenLink, signed_link_view
from roster.models import DocumentKind, DocumentStatus
from roster.selectors import documents as selectors
from roster.services import documents as services
from roster.views.document_forms import PublicUploadForm


def _page(request, opened: OpenLink, *, errors=None, form_kind="", status=200):
    org, link = opened.org, opened.row
    received = list(selectors.documents_for_link(org=org, link=link))
    labels = dict(DocumentKind.choices)
    items = []
    for kind in link.requested_kinds:
        docs = [d for d in received if d.kind == kind]
        items.append(
            {
                "kind": kind,
                "label": labels.get(kind, kind),
                "received": docs,
                "accepted": any(d.status == DocumentStatus.ACCEPTED for d in docs),
                "error": (errors or {}).get(kind, ""),
            }
        )
    context = {
        "token": opened.token,
        "link": link,
        "link_org": org,
        "provider": link.provider,
        "items": items,
        "received_count": len(received),
        "page_error": (errors or {}).get("__all__", ""),
        "form_kind": form_kind,
        "max_size": services.size_words(settings.DOCUMENT_MAX_BYTES),
        "read_only_notice": opened.read_only_notice,  # billing read-only: no upload form
    }
    return render(request, "roster/upload_link/public.html", context, status=status)


def _upload(request, opened: OpenLink):
    org, link = opened.org, opened.row
    # Reading request.POST parses the body (the size handler sets its flag).
    form = PublicUploadForm(request.POST, request.FILES, link=link)
    kind = form["kind"].value() or ""
    if getattr(request, "upload_too_large", False):
        message = (
            f"That file is larger than the {services.size_words(settings.DOCUMENT_MAX_BYTES)} "
            "limit. Upload a smaller copy (scan at a lower resolution or split it)."
        )
        services.upload_link_record_upload_refused(
            org=org, link=link, kind=kind, reason="file_too_large"
        )
        field = kind if kind in link.requested_kinds else "__all__"
        return _page(request, opened, errors={field: message}, form_kind=kind, status=400)
    if not form.is_valid():
        if "kind" in form.errors:
            return _page(request, opened, errors={"__all__": form.errors["kind"][0]}, status=400)
        kind = form.cleaned_data["kind"]
        return _page(
            request, opened, errors={kind: form.errors["file"][0]}, form_kind=kind, status=400
        )
    kind, upload = form.cleaned_data["kind"], form.cleaned_data["file"]
    try:
        # A link withdrawn meanwhile raises LinkGone: signed_link_view answers 410.
        document = services.upload_link_upload(
            org=org, link=link, kind=kind, file=upload, filename=upload.name
        )
    except InvalidInput as exc:
        return _page(request, opened, errors={kind: exc.message}, form_kind=kind, status=400)
    messages.success(
        request,
        f"Thank you — your {document.get_kind_display().lower()} was received. "
        f"{org.name} will review it.",
    )
    return redirect("upload_link_public", token=opened.token)


class _SizeLimitHandler(FileUploadHandler):
    """Stops keeping an uploaded file once it passes the document limit: the rest of the body
    is read and dropped instead of landing in a temporary file, and the view says why."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


@csrf_exempt  # checked below, once the size limit is in place (the CSRF check reads the body)
@require_http_methods(["GET", "POST"])
def upload_link_public(request, token):
    if hasattr(request, "_files"):
        # The body was already parsed (the hostile-input check reads every form field before
        # any view): apply the document limit to what arrived.
        limit = settings.DOCUMENT_MAX_BYTES
        request.upload_too_large = any(f.size > limit for f in request.FILES.values())
    else:
        request.upload_handlers.insert(0, _SizeLimitHandler(request, settings.DOCUMENT_MAX_BYTES))
    return _upload_link_public(request, token)


@csrf_protect
@signed_link_view(services.UPLOAD_LINK)  # records the visit on GET
def _upload_link_public(request, opened: OpenLink):
    if request.method == "POST":
        return _upload(request, opened)
    return _page(request, opened)


urlpatterns = [
    path("<str:token>/", upload_link_public, name="upload_link_public"),
]
