"""Exchange pages: search the exchange for a clinician's verifications, by NPI or by name.

Approved members only (others see why, and how to apply). Results are grouped by clinician;
each listing shows its type and source, method, verification date and freshness clock, the
seller with its rating and trades, the price, and whether it fulfils the organization's
requirements (or which rule it fails), with a link to buy it.
"""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from credex import capabilities as cap
from credex import interface as ui
from credex.errors import DomainError
from credex.views import capability_required
from exchange.selectors.directory import member_is_approved
from exchange.selectors.search import MAX_CLINICIANS, NAME_MIN, search_listings
from roster.services.providers import provider_list_record_read


@require_GET
@capability_required(cap.VIEW_EXCHANGE)
def search(request, org_slug):
    org = request.org
    npi = request.GET.get("npi", "")[:40]
    q = request.GET.get("q", "")[:200]
    member = member_is_approved(org)
    groups, error, status = None, None, 200
    if member and (npi.strip() or q.strip()):
        try:
            groups = search_listings(org=org, npi=npi, q=q)
            # The roster providers the results mark "on your roster" were shown.
            provider_list_record_read(
                org=org,
                actor=request.membership,
                providers=[g.roster_provider_id for g in groups],
                part="exchange_search",
            )
        except DomainError as exc:
            ui.raise_http(exc)
            error, status = exc, exc.status
    context = {
        "tab": "search",
        "member": member,
        "npi": npi,
        "q": q,
        "groups": groups,
        "error": error,
        "can_buy": ui.can_change(request, cap.TRADE_EXCHANGE),
        "name_min": NAME_MIN,
        "max_clinicians": MAX_CLINICIANS,
    }
    return render(request, "exchange/search/index.html", context, status=status)


urlpatterns = [
    path("search/", search, name="exchange_search"),
]
