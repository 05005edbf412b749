"""Exchange pages: the member's exchange home (under /o/<slug>/exchange/): what the exchange
is and how to join, the application's status and the operator's message, or the member's
standing and the way in to search, listings and orders."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from credex import capabilities as cap
from credex import interface as ui
from credex.views import capability_required
from exchange.selectors.directory import directory_entry
from exchange.selectors.membership import accreditation_current, membership_get
from exchange.selectors.suggestions import roster_offers


@require_GET
@capability_required(cap.VIEW_EXCHANGE)
def exchange_home(request, org_slug):
    membership = membership_get(org=request.org)
    context = {
        "tab": "home",
        "application": membership,
        "current": accreditation_current(membership) if membership else None,
        "directory": directory_entry(request.org) if membership else None,
        "can_manage": ui.can_change(request, cap.MANAGE_EXCHANGE),
        "offers": roster_offers(org=request.org),
        "can_trade": ui.can_change(request, cap.TRADE_EXCHANGE),
    }
    return render(request, "exchange/membership/home.html", context)


urlpatterns = [
    path("", exchange_home, name="exchange_home"),
]
