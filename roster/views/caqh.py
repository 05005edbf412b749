"""The CAQH ProView export of a provider (under /o/<slug>/caqh/<provider id>/): a page with
every section, and the same as CSV (?format=csv) or JSON (?format=json). Every view and
download is audited (roster.caqh.exported). Every role may read it (roster.view)."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from credex import capabilities as cap
from credex.views import capability_required
from roster.caqh import OMITTED_LABELS, SECTION_TITLES, caqh_csv, caqh_export_record, caqh_profile
from roster.selectors.providers import provider_get


@require_GET
@never_cache
@capability_required(cap.VIEW_ROSTER)
def provider_caqh(request, org_slug, provider_id):
    org = request.org
    provider = provider_get(org=org, provider_id=provider_id)
    fmt = request.GET.get("format", "html")
    if fmt not in ("html", "csv", "json"):
        fmt = "html"
    profile = caqh_profile(org=org, provider=provider)
    caqh_export_record(org=org, actor=request.membership, provider=provider, fmt=fmt)
    stamp = timezone.localdate().isoformat()
    name = f"caqh-{provider.last_name or 'provider'}-{provider.npi or provider.pk}-{stamp}"
    name = "".join(ch for ch in name if ch.isalnum() or ch in "-_.")
    if fmt == "csv":
        response = HttpResponse(caqh_csv(profile), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if fmt == "json":
        response = HttpResponse(
            json.dumps(profile, indent=2), content_type="application/json; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
    sections = [
        (key, SECTION_TITLES[key], items, list(items[0]) if items else [])
        for key, items in profile["sections"].items()
    ]
    return render(
        request,
        "verifications/packets/caqh.html",
        {
            "provider": provider,
            "sections": sections,
            "omitted": [(OMITTED_LABELS[k], why) for k, why in profile["omitted"].items()],
        },
    )


urlpatterns = [path("<uuid:provider_id>/", provider_caqh, name="provider_caqh")]
