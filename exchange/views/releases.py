"""Exchange pages: clinician releases (under /o/<slug>/exchange/releases/).

The list (current / expiring within 30 days / expired / revoked, per provider: filters in the
URL), recording a signed document, asking the clinician for an e-signature, one release
(with the text an e-signed release showed) and its revocation, and the audited download of a
release document. Every role reads (exchange.view); writes need exchange.trade.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credex import capabilities as cap
from credex.errors import DomainError
from credex.interface import can_change, form_errors, raise_http
from credex.views import capability_required
from exchange.selectors import releases as selectors
from exchange.services import releases as services
from exchange.views.release_forms import (
    SOURCE_CHOICES,
    STATUSES,
    ReleaseDocumentForm,
    ReleaseEsignForm,
    ReleaseFilterForm,
    ReleaseRevokeForm,
)
from roster.models import Provider, ProviderStatus
from roster.selectors.providers import provider_get
from roster.services.providers import provider_list_record_read

PAGE_SIZE = 50


def _providers(org):
    return Provider.objects.filter(
        organization=org, status__in=(ProviderStatus.APPLICANT, ProviderStatus.ACTIVE)
    ).order_by("last_name", "first_name", "id")


@require_GET
@capability_required(cap.VIEW_EXCHANGE)
def release_list(request, org_slug):
    org = request.org
    filters = ReleaseFilterForm(request.GET)
    status, provider_id = "", None
    if filters.is_valid():
        status = filters.cleaned_data["status"] or ""
        provider_id = filters.cleaned_data["provider"]
    provider = provider_get(org=org, provider_id=provider_id) if provider_id else None
    releases = selectors.release_list(org=org, status=status, provider_id=provider_id)
    page = Paginator(releases, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [(r, selectors.release_status(r, today)) for r in page.object_list]
    provider_list_record_read(
        org=org,
        actor=request.membership,
        providers=[r.provider_id for r, _ in rows],
        part="exchange_releases",
    )
    return render(
        request,
        "exchange/releases/list.html",
        {
            "tab": "releases",
            "rows": rows,
            "page": page,
            "status": status,
            "statuses": STATUSES,
            "counts": selectors.release_counts(org=org, provider_id=provider_id),
            "provider": provider,
            "pending": list(selectors.release_requests_pending(org=org, provider_id=provider_id)),
            "can_trade": can_change(request, cap.TRADE_EXCHANGE),
            "query": {"status": status, "provider": provider_id or ""},
        },
    )


def _form_page(request, template: str, form_values: dict, errors: dict, status: int = 200):
    org = request.org
    return render(
        request,
        template,
        {
            "tab": "releases",
            "providers": _providers(org),
            "sources": SOURCE_CHOICES,
            "form": form_values,
            "errors": errors,
            "page_error": errors.get("__all__", ""),
        },
        status=status,
    )


def _initial(request) -> dict:
    return {"provider": request.GET.get("provider", ""), "scope": "all", "sources": []}


def _provider_of(org, form) -> Provider:
    # A foreign or unknown provider id answers 404, as if it did not exist.
    return provider_get(org=org, provider_id=form.cleaned_data["provider"])


@require_http_methods(["GET", "POST"])
@capability_required(cap.TRADE_EXCHANGE)
def release_record(request, org_slug):
    template = "exchange/releases/record.html"
    if request.method == "GET":
        return _form_page(request, template, _initial(request), {})
    org = request.org
    form = ReleaseDocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _form_page(request, template, form.typed(), form_errors(form), 400)
    provider = _provider_of(org, form)
    upload = form.cleaned_data["file"]
    try:
        release = services.release_record_document(
            org=org,
            actor=request.membership,
            provider=provider,
            signed_on=form.cleaned_data["signed_on"],
            expires_on=form.cleaned_data["expires_on"],
            file=upload,
            filename=upload.name,
            **form.scope_values(),
        )
    except DomainError as exc:
        raise_http(exc, not_found=True)
        return _form_page(request, template, form.typed(), form_errors(exc), exc.status)
    messages.success(request, f"Release for {provider.full_name} recorded.")
    return redirect("exchange_release", org_slug=org.slug, release_id=release.pk)


@require_http_methods(["GET", "POST"])
@capability_required(cap.TRADE_EXCHANGE)
def release_esign_request(request, org_slug):
    template = "exchange/releases/esign.html"
    if request.method == "GET":
        return _form_page(request, template, _initial(request), {})
    org = request.org
    form = ReleaseEsignForm(request.POST)
    if not form.is_valid():
        return _form_page(request, template, form.typed(), form_errors(form), 400)
    provider = _provider_of(org, form)
    try:
        release_request = services.release_request_esign(
            org=org,
            actor=request.membership,
            provider=provider,
            expires_on=form.cleaned_data["expires_on"],
            email=form.cleaned_data["email"] or None,
            **form.scope_values(),
        )
    except DomainError as exc:
        raise_http(exc, not_found=True)
        return _form_page(request, template, form.typed(), form_errors(exc), exc.status)
    messages.success(
        request,
        f"{provider.full_name} was e-mailed a link to sign the release at {release_request.email}.",
    )
    url = reverse("exchange_releases", kwargs={"org_slug": org.slug})
    return redirect(f"{url}?provider={provider.pk}")


def _detail(request, release, *, errors=None, typed=None, status=200):
    return render(
        request,
        "exchange/releases/detail.html",
        {
            "tab": "releases",
            "release": release,
            "state": selectors.release_status(release),
            "scope": services.scope_words(release),
            "can_trade": can_change(request, cap.TRADE_EXCHANGE),
            "errors": errors or {},
            "page_error": (errors or {}).get("__all__", ""),
            "typed": typed or {},
        },
        status=status,
    )


@require_GET
@never_cache
@capability_required(cap.VIEW_EXCHANGE)
def release_detail(request, org_slug, release_id):
    release = selectors.release_get(org=request.org, release_id=release_id)
    provider_list_record_read(
        org=request.org,
        actor=request.membership,
        providers=[release.provider_id],
        part="exchange_release",
    )
    return _detail(request, release)


@require_POST
@capability_required(cap.TRADE_EXCHANGE)
def release_revoke(request, org_slug, release_id):
    org = request.org
    release = selectors.release_get(org=org, release_id=release_id)
    form = ReleaseRevokeForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")
    try:
        services.release_revoke(org=org, actor=request.membership, release=release, reason=reason)
    except DomainError as exc:
        raise_http(exc, not_found=True)
        return _detail(
            request, release, errors=form_errors(exc), typed={"reason": reason}, status=exc.status
        )
    messages.success(request, f"Release for {release.provider.full_name} revoked.")
    return redirect("exchange_release", org_slug=org.slug, release_id=release.pk)


@require_GET
@never_cache
@capability_required(cap.VIEW_EXCHANGE)
def release_document(request, org_slug, release_id):
    org = request.org
    release = selectors.release_get(org=org, release_id=release_id)
    handle = services.release_document_open(org=org, actor=request.membership, release=release)
    name = "".join(ch for ch in release.document_name if ch.isalnum() or ch in "-_. ") or "release"
    return FileResponse(
        handle, as_attachment=True, filename=name, content_type="application/octet-stream"
    )


urlpatterns = [
    path("releases/", release_list, name="exchange_releases"),
    path("releases/record/", release_record, name="exchange_release_record"),
    path("releases/esign/", release_esign_request, name="exchange_release_esign"),
    path("releases/<uuid:release_id>/", release_detail, name="exchange_release"),
    path("releases/<uuid:release_id>/revoke/", release_revoke, name="exchange_release_revoke"),
    path(
        "releases/<uuid:release_id>/document/", release_document, name="exchange_release_document"
    ),
]
