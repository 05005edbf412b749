"""Exchange pages: buy a listing (confirmation, then one POST), the orders bought and sold,
and one order as either party sees it.

The confirmation page renders a fresh idempotency key in a hidden field: a double submit, a
reload of the POST or a retried request sends the same key and gets the same order.
"""

from __future__ import annotations

import uuid

from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from credex import capabilities as cap
from credex.errors import DomainError
from credex.interface import can_change, raise_http
from credex.views import capability_required
from exchange.selectors import orders as sel
from exchange.selectors.aftertrade import order_actions
from exchange.services.purchases import purchase_make
from roster.services.providers import provider_list_record_read

RECEIPT_LINKS = (
    ("exchange_order_receipt", "Signed receipt"),
    ("exchange_order_packet", "PDF packet"),
    ("exchange_order_json", "JSON"),
)


@require_http_methods(["GET", "POST"])
@never_cache
@capability_required(cap.TRADE_EXCHANGE)
def buy(request, org_slug, listing_id):
    org = request.org
    error = None
    key = None
    reason = ""
    if request.method == "POST":
        key = request.POST.get("idempotency_key", "")
        reason = request.POST.get("override_reason", "")
        try:
            order, _created = purchase_make(
                org=org,
                actor=request.membership,
                listing_id=listing_id,
                idempotency_key=key,
                override_reason=reason,
            )
        except DomainError as exc:
            raise_http(exc, not_found=True)
            error = exc
        else:
            return redirect("exchange_order", org_slug=org.slug, order_id=order.pk)
    try:
        preview = sel.purchase_preview(org=org, listing_id=listing_id)
    except DomainError as exc:
        raise_http(exc, not_found=True)
        raise
    context = {
        "tab": "search",
        "preview": preview,
        "listing": preview.listing,
        # A fresh key per rendering of the page; a re-rendered refusal keeps the one sent.
        "idempotency_key": key
        if key and error is not None and len(key) <= 255 and "\x00" not in key
        else str(uuid.uuid4()),
        "override_reason": reason.replace("\x00", "")[:2000],
        "error": error,
        "unmet_codes": [u.get("rule") for u in (error.details.get("unmet") or [])]
        if error is not None and isinstance(error.details, dict)
        else [],
    }
    status = error.status if error is not None else 200
    return render(request, "exchange/orders/buy.html", context, status=status)


@require_GET
@never_cache
@capability_required(cap.VIEW_EXCHANGE)
def orders(request, org_slug):
    org = request.org
    role = request.GET.get("role", "bought")
    if role not in sel.ROLES:
        role = "bought"
    rows = sel.with_buyer_names(sel.orders_for(org=org, role=role)[:200])
    # The clinicians of the orders it bought are the organization's own providers (a seller
    # sees the buyer's clinician by name and NPI only, as listed: no provider row of its own).
    provider_list_record_read(
        org=org,
        actor=request.membership,
        providers=[o.provider_id for o in rows if o.organization_id == org.pk],
        part="exchange_orders",
    )
    return render(
        request,
        "exchange/orders/list.html",
        {"tab": "orders", "role": role, "orders": rows},
    )


def _receipt_links(org, order) -> list[tuple[str, str]]:
    """The receipts helper's pages, linked only when their routes exist."""
    links = []
    for name, label in RECEIPT_LINKS:
        try:
            links.append(
                (reverse(name, kwargs={"org_slug": org.slug, "order_id": order.pk}), label)
            )
        except NoReverseMatch:
            continue
    return links


@require_GET
@never_cache
@capability_required(cap.VIEW_EXCHANGE)
def order_detail(request, org_slug, order_id):
    org = request.org
    order = sel.with_buyer_names([sel.order_get(org=org, order_id=order_id)])[0]
    as_buyer = order.organization_id == org.pk
    if as_buyer:
        provider_list_record_read(
            org=org, actor=request.membership, providers=[order.provider_id], part="exchange_order"
        )
    return render(
        request,
        "exchange/orders/detail.html",
        {
            "tab": "orders",
            "order": order,
            "as_buyer": as_buyer,
            "provenance": sel.order_provenance(org=org, order=order) if as_buyer else None,
            "receipt_links": _receipt_links(org, order),
            # Rate the seller and open a dispute (exchange/views/disputes.py posts them).
            **order_actions(org=org, order=order),
            "can_trade": can_change(request, cap.TRADE_EXCHANGE),
        },
    )


urlpatterns = [
    path("orders/", orders, name="exchange_orders"),
    path("orders/<uuid:order_id>/", order_detail, name="exchange_order"),
    path("buy/<uuid:listing_id>/", buy, name="exchange_buy"),
]
