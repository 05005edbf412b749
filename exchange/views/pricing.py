"""Exchange pages: prices. Per verification type this quarter's market rate and its basis,
the band sellers may list within, the fee on a sale, the member's own vote (owners and admins
change it while the quarter is open) and the price history as an inline SVG chart."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from credex import capabilities as cap
from credex import interface as ui
from credex.errors import DomainError
from credex.views import capability_required
from exchange.models import ExchangeSettings
from exchange.pricing_chart import history_chart
from exchange.selectors import pricing as sel
from exchange.selectors.directory import member_is_approved
from exchange.services.pricing import price_vote_cast
from exchange.views.pricing_forms import PriceForm


def _context(request, *, errors=None, typed_price="") -> dict:
    org = request.org
    is_member = member_is_approved(org)
    types = sel.pricing_overview(org=org) if is_member else []
    for t in types:
        t.chart = history_chart(t.history)
    return {
        "tab": "pricing",
        "is_member": is_member,
        "quarter": sel.quarter_of(),
        "types": types,
        "no_history": [t.label for t in types if not t.chart["points"]],
        "fee_rule": sel.fee_rule(),
        "settings": ExchangeSettings.current(),
        "can_vote": is_member and ui.can_change(request, cap.MANAGE_EXCHANGE),
        "errors": errors or {},
        "typed_price": typed_price,
    }


@require_GET
@capability_required(cap.VIEW_EXCHANGE)
def pricing(request, org_slug):
    return render(request, "exchange/pricing/page.html", _context(request))


@require_POST
@capability_required(cap.MANAGE_EXCHANGE)
def price_vote(request, org_slug):
    form = PriceForm(request.POST)
    try:
        data = form.checked()
        vote = price_vote_cast(org=request.org, actor=request.membership, **data)
    except DomainError as exc:
        ui.raise_http(exc)
        source = request.POST.get("source", "")
        context = _context(
            request,
            errors={"source": source, "message": exc.message},
            typed_price=request.POST.get("price", "")[:20],
        )
        return render(request, "exchange/pricing/page.html", context, status=400)
    messages.success(request, f"Your vote for {vote.get_source_display()} is recorded.")
    return redirect(reverse("exchange_pricing", kwargs={"org_slug": request.org.slug}))


urlpatterns = [
    path("pricing/", pricing, name="exchange_pricing"),
    path("pricing/vote/", price_vote, name="exchange_price_vote"),
]
