"""Pages for payer contacts without an account: a shared credential package (mounted at /p/).

The signed token in the address is the only credential (the SHARE spec of credex.links):
`signed_link_view` opens it, answers the refusals, records the visit of the page and runs
each view in the organization's scope. Every view, download and refusal is recorded with the
actor kind `payer_link` and the caller's IP (the request middleware puts IP and user agent
into the audit context).
"""

from __future__ import annotations

from django.http import FileResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from credex.links import OpenLink, signed_link_view
from verifications.services import shares as services


@require_GET
@signed_link_view(services.SHARE)  # records verifications.share.viewed
def package_share_public(request, opened: OpenLink):
    share, package = opened.row, opened.row.package
    context = {
        "token": opened.token,
        "share": share,
        "share_org": opened.org,
        "package": package,
        "provider": package.provider,
        "sections": [s for s in package.sections if s.get("level") == 1],
        "documents": [s for s in package.sections if s.get("level") == 2],
    }
    return render(request, "verifications/packages/share_public.html", context)


@require_GET
@signed_link_view(services.SHARE, visit=False)  # the download records its own event
def package_share_download(request, opened: OpenLink):
    share, package = opened.row, opened.row.package
    opened_file = services.share_download(org=opened.org, share=share)
    name = f"credential-package-{package.provider.last_name.lower()}-{package.pk.hex[:8]}.pdf"
    response = FileResponse(
        opened_file, as_attachment=True, filename=name, content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    if not response.has_header("Content-Length"):
        response["Content-Length"] = str(package.size)
    return response


urlpatterns = [
    path("<str:token>/", package_share_public, name="package_share_public"),
    path("<str:token>/download", package_share_download, name="package_share_download"),
]
