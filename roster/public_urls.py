"""Pages for people without an account: the provider upload link (mounted at /u/).

The signed token in the address is the only credential. It names the organization, whose
scope is entered only to read and write that link's rows (like an invitation). Every view and
upload is recorded with the actor kind `provider_link` and the caller's IP.
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
from credex.links import private_link_response
from credex.tenancy import tenant_context
from roster.models import DocumentKind, DocumentStatus
from roster.selectors import documents as selectors
from roster.services import documents as services


def _unavailable(request, *, title: str, message: str, status: int, link_org=None):
    context = {"title": title, "message": message, "link_org": link_org, "status": status}
    return private_link_response(
        render(request, "roster/upload_link/unavailable.html", context, status=status)
    )


def _page(request, token, org, link, *, errors=None, form_kind="", status=200):
    with tenant_context(org):
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
        "token": token,
        "link": link,
        "link_org": org,
        "provider": link.provider,
        "items": items,
        "received_count": len(received),
        "page_error": (errors or {}).get("__all__", ""),
        "form_kind": form_kind,
        "max_size": services.size_words(settings.DOCUMENT_MAX_BYTES),
    }
    return private_link_response(
        render(request, "roster/upload_link/public.html", context, status=status)
    )


def _upload(request, token, org, link):
    kind = request.POST.get("kind", "")  # parses the body (the size handler sets its flag)
    if getattr(request, "upload_too_large", False):
        message = (
            f"That file is larger than the {services.size_words(settings.DOCUMENT_MAX_BYTES)} "
            "limit. Upload a smaller copy (scan at a lower resolution or split it)."
        )
        services.upload_link_record_upload_refused(
            org=org, link=link, kind=kind, reason="file_too_large"
        )
        field = kind if kind in link.requested_kinds else "__all__"
        return _page(request, token, org, link, errors={field: message}, form_kind=kind, status=400)
    upload = request.FILES.get("file")
    if kind not in link.requested_kinds:
        return _page(
            request,
            token,
            org,
            link,
            errors={"__all__": "Choose one of the requested documents and upload it again."},
            status=400,
        )
    if upload is None:
        return _page(
            request,
            token,
            org,
            link,
            errors={kind: "Choose a file first (PDF, PNG or JPEG)."},
            form_kind=kind,
            status=400,
        )
    try:
        document = services.upload_link_upload(
            org=org, link=link, kind=kind, file=upload, filename=upload.name
        )
    except services.UploadLinkGone as exc:
        return _unavailable(
            request,
            title="This link no longer works",
            message=exc.message,
            status=410,
            link_org=org,
        )
    except InvalidInput as exc:
        return _page(
            request, token, org, link, errors={kind: exc.message}, form_kind=kind, status=400
        )
    messages.success(
        request,
        f"Thank you — your {document.get_kind_display().lower()} was received. "
        f"{org.name} will review it.",
    )
    return redirect("upload_link_public", token=token)


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
def _upload_link_public(request, token):
    try:
        org, link = services.upload_link_open(token)
    except services.UploadLinkInvalid as exc:
        try:
            services.upload_link_throttle_invalid(request.META.get("REMOTE_ADDR"))
        except services.UploadLinkRateLimited as limited:
            return _unavailable(request, title="Please wait", message=limited.message, status=429)
        return _unavailable(
            request, title="This link is not valid", message=exc.message, status=400
        )
    except services.UploadLinkGone as exc:
        if exc.link is not None:
            try:
                services.upload_link_throttle(exc.link)
            except services.UploadLinkRateLimited as limited:
                return _unavailable(
                    request, title="Please wait", message=limited.message, status=429
                )
            services.upload_link_record_refusal(org=exc.org, link=exc.link, reason=exc.reason)
        title = "This link was withdrawn" if exc.reason == "revoked" else "This link has expired"
        return _unavailable(request, title=title, message=exc.message, status=410, link_org=exc.org)
    try:
        services.upload_link_throttle(link)
    except services.UploadLinkRateLimited as limited:
        return _unavailable(
            request, title="Please wait", message=limited.message, status=429, link_org=org
        )
    if request.method == "POST":
        return _upload(request, token, org, link)
    services.upload_link_visit(org=org, link=link)
    return _page(request, token, org, link)


urlpatterns = [
    path("<str:token>/", upload_link_public, name="upload_link_public"),
]
