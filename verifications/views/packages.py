"""Credential package pages (under /o/<slug>/packages/): the package list, a package with its
build progress, download and payer shares, the build button's endpoint. (The payer contacts
page, /packages/contacts/, is the enrollment app's: enrollment.views.)

Reading packages (and downloading them) needs roster.view, so auditors can; building,
sharing and revoking need roster.change.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from credex import capabilities as cap
from credex import interface as ui
from credex.errors import DomainError
from credex.views import capability_required
from roster.selectors.providers import provider_get
from roster.services.providers import provider_list_record_read, provider_record_read
from verifications.forms import PackageShareForm
from verifications.models import PackageStatus
from verifications.selectors import packages as selectors
from verifications.services import packages as services
from verifications.services import shares as share_services

PAGE_SIZE = 50


# --- the list -------------------------------------------------------------------------------
@require_GET
@capability_required(cap.VIEW_ROSTER)
def packages(request, org_slug):
    org = request.org
    status = request.GET.get("status", "")
    status = status if status in PackageStatus.values else ""
    q = request.GET.get("q", "").strip()[:100]
    page = Paginator(selectors.package_list(org=org, status=status, q=q), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    provider_list_record_read(
        org=org,
        actor=request.membership,
        providers=[p.provider_id for p in page.object_list],
        part="packages",
    )
    counts = selectors.package_status_counts(org=org)
    # A build runs in one transaction, so "building" is only ever seen live (in the cache);
    # its tab shows only if a row somehow has it.
    tabs = [("", "All", counts["all"])] + [
        (value, label, counts[value])
        for value, label in PackageStatus.choices
        if value != PackageStatus.BUILDING or counts[value]
    ]
    query = {k: v for k, v in (("status", status), ("q", q)) if v}
    context = {
        "page": page,
        "counts": counts,
        "tabs": tabs,
        "filters": {"status": status, "q": q},
        "query": query,
        "can_change": ui.can_change(request),
    }
    template = "verifications/packages/list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return ui.vary_on_htmx(render(request, template, context))


# --- one package ----------------------------------------------------------------------------
def _detail_context(request, package, **extra) -> dict:
    org = request.org
    can_change = ui.can_change(request)
    shares = selectors.shares_for_package(org=org, package=package)
    for s in shares:
        # The working link, for copying into another channel (only for who can share it).
        s.url = share_services.share_url(s) if can_change and s.state == "active" else ""
    return {
        "package": package,
        "provider": package.provider,
        "progress": selectors.package_progress(package),
        "shares": shares,
        "payers": [p for p in selectors.payers_with_contacts(org=org) if p.contact_list],
        "can_change": can_change,
        "max_days": settings.PACKAGE_SHARE_MAX_AGE_DAYS,
        "form": {"days": settings.PACKAGE_SHARE_MAX_AGE_DAYS},
        "errors": {},
        **extra,
    }


@require_GET
@capability_required(cap.VIEW_ROSTER)
def package_detail(request, org_slug, package_id):
    package = selectors.package_get(org=request.org, package_id=package_id)
    provider_record_read(
        org=request.org, actor=request.membership, provider=package.provider, part="package"
    )
    return ui.vary_on_htmx(
        render(request, "verifications/packages/detail.html", _detail_context(request, package))
    )


@require_GET
@capability_required(cap.VIEW_ROSTER)
def package_progress(request, org_slug, package_id):
    """The progress fragment (htmx polls it every second while the build is open)."""
    package = selectors.package_get(org=request.org, package_id=package_id)
    context = {"package": package, "progress": selectors.package_progress(package)}
    response = render(request, "verifications/packages/_progress.html", context)
    response["Cache-Control"] = "no-store"
    return ui.vary_on_htmx(response)


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def package_build(request, org_slug, provider_id):
    org = request.org
    provider = provider_get(org=org, provider_id=provider_id)
    from verifications.templatetags.package_ui import provider_block_context

    try:
        package = services.package_request(org=org, actor=request.membership, provider=provider)
    except DomainError as exc:  # the job queue is down (503): nothing was started
        if request.htmx:
            context = provider_block_context(request, provider) | {"error": exc.message}
            return render(
                request, "verifications/packages/_provider_block.html", context, status=exc.status
            )
        messages.error(request, exc.message)
        return redirect("provider_detail", org_slug=org.slug, provider_id=provider.pk)
    if request.htmx:
        context = provider_block_context(request, provider)
        return render(request, "verifications/packages/_provider_block.html", context)
    messages.success(request, f"Building the package for {provider.full_name}.")
    return redirect("package_detail", org_slug=org.slug, package_id=package.pk)


@require_GET
@capability_required(cap.VIEW_ROSTER)
def package_download(request, org_slug, package_id):
    package = selectors.package_get(org=request.org, package_id=package_id)
    try:
        opened = services.package_download(
            org=request.org, actor=request.membership, package=package
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("package_detail", org_slug=request.org.slug, package_id=package.pk)
    return stream_package(package, opened)


def stream_package(package, opened) -> FileResponse:
    """The stored PDF as a download, never cached or sniffed."""
    name = f"credential-package-{package.provider.last_name.lower()}-{package.pk.hex[:8]}.pdf"
    response = FileResponse(
        opened, as_attachment=True, filename=name, content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    if not response.has_header("Content-Length"):
        response["Content-Length"] = str(package.size)
    return response


# --- shares ---------------------------------------------------------------------------------
@require_POST
@capability_required(cap.CHANGE_ROSTER)
def package_share(request, org_slug, package_id):
    org = request.org
    package = selectors.package_get(org=org, package_id=package_id)
    share_form = PackageShareForm(request.POST)
    form = share_form.typed(["contact", "message"], strip=False) | share_form.typed(
        ["email", "days"]
    )
    try:
        values = share_form.values()
        contact = (
            selectors.contact_get(org=org, contact_id=values["contact"])
            if values["contact"]
            else None
        )
        share = share_services.share_create(
            org=org,
            actor=request.membership,
            package=package,
            contact=contact,
            email="" if contact else values["email"],
            days=values["days"],
            message=values["message"],
        )
    except DomainError as exc:
        context = _detail_context(request, package, form=form, errors=ui.form_errors(exc))
        return render(request, "verifications/packages/detail.html", context, status=exc.status)
    messages.success(request, f"Link sent to {share.email}.")
    return redirect("package_detail", org_slug=org.slug, package_id=package.pk)


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def package_share_revoke(request, org_slug, share_id):
    org = request.org
    share = selectors.share_get(org=org, share_id=share_id)
    share_services.share_revoke(org=org, actor=request.membership, share=share)
    messages.success(request, f"The link sent to {share.email} no longer works.")
    return redirect("package_detail", org_slug=org.slug, package_id=share.package_id)


urlpatterns = [
    path("", packages, name="packages"),
    path("build/<uuid:provider_id>", package_build, name="package_build"),
    path("<uuid:package_id>/", package_detail, name="package_detail"),
    path("<uuid:package_id>/progress", package_progress, name="package_progress"),
    path("<uuid:package_id>/download", package_download, name="package_download"),
    path("<uuid:package_id>/share", package_share, name="package_share"),
    path("shares/<uuid:share_id>/revoke", package_share_revoke, name="package_share_revoke"),
]
