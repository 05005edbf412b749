"""The seller's side of listings: its own listings, one batch, one record to list."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from credex.errors import NotFound
from exchange.models import Listing, ListingBatch, ListingStatus
from exchange.selectors.pricing import listing_price_cents, market_rate_cents

STATUS_FILTERS = list(ListingStatus.values)


def own_listings(*, org, status: str = ""):
    """The organization's listings, newest first (another organization's never)."""
    qs = Listing.objects.filter(organization=org).order_by("-created_at", "id")
    if status in STATUS_FILTERS:
        qs = qs.filter(status=status)
    return qs


def with_prices(listings) -> list:
    """Each listing with `price_now` (its own price or this quarter's market rate), one rate
    lookup per verification type."""
    rates: dict[str, int] = {}
    out = []
    for listing in listings:
        if listing.price_cents is None and listing.source not in rates:
            rates[listing.source] = market_rate_cents(listing.source)
        listing.price_now = (
            listing.price_cents if listing.price_cents is not None else rates[listing.source]
        )
        out.append(listing)
    return out


def batch_get(*, org, batch_id) -> ListingBatch:
    try:
        return ListingBatch.objects.get(organization=org, pk=batch_id)
    except (ListingBatch.DoesNotExist, ValueError, ValidationError) as exc:
        raise NotFound("Not found.") from exc


def latest_batch(*, org) -> ListingBatch | None:
    return ListingBatch.objects.filter(organization=org).order_by("-created_at").first()


__all__ = [
    "batch_get",
    "latest_batch",
    "listing_price_cents",
    "own_listings",
    "with_prices",
]
