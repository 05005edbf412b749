"""Pages for payer contacts without an account: a shared credential package (mounted at /p/).

The signed token in the address is the only credential. It names the organization, whose
scope is entered only to read and write that share's rows. Every view, download and refusal
is recorded with the actor kind `payer_link` and the caller's IP (the request middleware
puts IP and user agent into the audit context).
"""

from __future__ import annotations

from django.http import FileResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from credex.links import private_link_response
from verifications.services import shares as services


def _unavailable(request, *, title: str, message: str, status: int, share_org=None):
    context = {"title": title, "message": message, "share_org": share_org, "status": status}
    return private_link_response(
        render(request, "verifications/packages/share_unavailable.html", context, status=status)
    )


def _open(request, token):
    """(org, share, None) for a working link, or (None, None, the refusal page)."""
    try:
        org, share = services.share_open(token)
    except services.ShareInvalid as exc:
        try:
            services.share_throttle_invalid(request.META.get("REMOTE_ADDR"))
        except services.ShareRateLimited as limited:
            page = _unavailable(request, title="Please wait", message=limited.message, status=429)
            return None, None, page
        page = _unavailable(
            request, title="This link is not valid", message=exc.message, status=400
        )
        return None, None, page
    except services.ShareGone as exc:
        try:
            services.share_throttle(exc.share)
        except services.ShareRateLimited as limited:
            page = _unavailable(request, title="Please wait", message=limited.message, status=429)
            return None, None, page
        services.share_record_refusal(org=exc.org, share=exc.share, reason=exc.reason)
        title = {
            "revoked": "This link was withdrawn",
            "expired": "This link has expired",
        }.get(exc.reason, "This package is no longer available")
        page = _unavailable(
            request, title=title, message=exc.message, status=410, share_org=exc.org
        )
        return None, None, page
    try:
        services.share_throttle(share)
    except services.ShareRateLimited as limited:
        page = _unavailable(
            request, title="Please wait", message=limited.message, status=429, share_org=org
        )
        return None, None, page
    return org, share, None


@require_GET
def package_share_public(request, token):
    org, share, refused = _open(request, token)
    if refused is not None:
        return refused
    services.share_visit(org=org, share=share)
    package = share.package
    context = {
        "token": token,
        "share": share,
        "share_org": org,
        "package": package,
        "provider": package.provider,
        "sections": [s for s in package.sections if s.get("level") == 1],
        "documents": [s for s in package.sections if s.get("level") == 2],
    }
    return private_link_response(
        render(request, "verifications/packages/share_public.html", context)
    )


@require_GET
def package_share_download(request, token):
    org, share, refused = _open(request, token)
    if refused is not None:
        return refused
    opened = services.share_download(org=org, share=share)
    package = share.package
    name = f"credential-package-{package.provider.last_name.lower()}-{package.pk.hex[:8]}.pdf"
    response = FileResponse(
        opened, as_attachment=True, filename=name, content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    if not response.has_header("Content-Length"):
        response["Content-Length"] = str(package.size)
    return private_link_response(response)


urlpatterns = [
    path("<str:token>/", package_share_public, name="package_share_public"),
    path("<str:token>/download", package_share_download, name="package_share_download"),
]
