"""Exchange pages: the organization's own listings (status, sales, price), listing one record
(?verification=<id>, linked from the PSV log), listing every eligible record in the
background with a progress bar (?batch=<id> answers the progress fragment to htmx), and
pausing, resuming or withdrawing a listing. Every role reads; selling needs exchange.trade.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from credex import capabilities as cap
from credex import interface as ui
from credex.errors import DomainError, InvalidInput, NotFound
from credex.views import capability_required
from exchange.models import ListingStatus
from exchange.selectors import listings as sel
from exchange.services import listings as svc
from roster.services.providers import provider_list_record_read

ACTIONS = {
    "pause": svc.listing_pause,
    "resume": svc.listing_resume,
    "withdraw": svc.listing_withdraw,
}
DONE = {"pause": "Listing paused.", "resume": "Listing resumed.", "withdraw": "Listing withdrawn."}


def _price_cents(raw: str):
    """'27.50' (dollars, as the form shows them) -> 2750; blank -> None (market rate)."""
    raw = (raw or "").strip().lstrip("$").replace(",", "")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise InvalidInput(
            "Give the price in dollars, e.g. 27.50.", details={"price": "not a price"}
        ) from exc
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise InvalidInput(
            "Give the price in dollars and cents, e.g. 27.50.", details={"price": "not a price"}
        )
    return int(value * 100)


def _record_to_list(org, verification_id):
    """(verification, refusals, band) for the list-one-record card, or None."""
    if not verification_id:
        return None
    try:
        verification = svc.verification_for_listing(org, verification_id)
    except NotFound:
        return None
    refusals = svc.listing_eligibility(org=org, verification=verification)
    low, high = svc.price_band(verification.source)
    from exchange.selectors.pricing import market_rate_cents

    return {
        "verification": verification,
        "refusals": refusals,
        "band_low": low,
        "band_high": high,
        "rate": market_rate_cents(verification.source),
    }


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@capability_required(cap.VIEW_EXCHANGE)
def listings(request, org_slug):
    org = request.org
    can_trade = ui.can_change(request, cap.TRADE_EXCHANGE)
    error, status = None, 200
    posted_verification = ""
    if request.method == "POST":
        if not can_trade:
            raise PermissionDenied
        action = request.POST.get("action", "")
        try:
            if action == "create":
                posted_verification = request.POST.get("verification", "")
                listing = svc.listing_create(
                    org=org,
                    actor=request.membership,
                    verification_id=posted_verification,
                    price_cents=_price_cents(request.POST.get("price", "")),
                )
                messages.success(
                    request, f"Listed: {listing.get_source_display()} of {listing.clinician_name}."
                )
                return redirect("exchange_listings", org_slug=org.slug)
            if action == "bulk":
                batch = svc.listing_batch_start(org=org, actor=request.membership)
                return redirect(f"{_url(org)}?batch={batch.pk}")
            if action in ACTIONS:
                listing = svc.listing_get(org=org, listing_id=request.POST.get("listing", ""))
                ACTIONS[action](org=org, actor=request.membership, listing=listing)
                messages.success(request, DONE[action])
                return redirect(ui.safe_next(request, _url(org)))
            raise InvalidInput("Choose what to do.", details={"action": "unknown"})
        except DomainError as exc:
            ui.raise_http(exc)
            error, status = exc, exc.status
    batch = None
    batch_id = request.GET.get("batch", "")
    if batch_id:
        try:
            batch = sel.batch_get(org=org, batch_id=batch_id)
        except NotFound:
            batch = None
    else:
        batch = sel.latest_batch(org=org)
    if batch is not None and ui.is_partial(request) and request.method == "GET":
        return render(request, "exchange/listings/_batch.html", {"batch": batch})
    status_filter = request.GET.get("status", "")
    if status_filter not in ListingStatus.values:
        status_filter = ""
    page = Paginator(sel.own_listings(org=org, status=status_filter), 50).get_page(
        request.GET.get("page")
    )
    page.object_list = sel.with_prices(page.object_list)
    provider_list_record_read(
        org=org,
        actor=request.membership,
        providers=[x.provider_id for x in page.object_list],
        part="exchange_listings",
    )
    context = {
        "tab": "listings",
        "page": page,
        "status_filter": status_filter,
        "statuses": ListingStatus.choices,
        "can_trade": can_trade,
        "seller_refusals": svc.seller_refusals(org),
        "batch": batch,
        "record": _record_to_list(org, posted_verification or request.GET.get("verification", "")),
        "error": error,
        "errors": ui.form_errors(error) if error else {},
    }
    return render(request, "exchange/listings/index.html", context, status=status)


def _url(org) -> str:
    from django.urls import reverse

    return reverse("exchange_listings", kwargs={"org_slug": org.slug})


urlpatterns = [
    path("listings/", listings, name="exchange_listings"),
]
