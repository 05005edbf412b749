"""Prices: the quarter, the market rate of a verification type, a listing's price, the fee."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from exchange.models import DefaultPrice, ExchangeSettings, MarketRate

# Until the operator sets one, a verification type without a default price costs this.
FALLBACK_PRICE_CENTS = 2500


def quarter_of(day: date | None = None) -> str:
    day = day or timezone.localdate()
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def market_rate_cents(source: str, *, quarter: str | None = None) -> int:
    """The quarter's market rate: the recomputed MarketRate row if there is one, otherwise the
    operator's default price for the type."""
    quarter = quarter or quarter_of()
    rate = MarketRate.objects.filter(quarter=quarter, source=source).first()
    if rate is not None:
        return rate.rate_cents
    default = DefaultPrice.objects.filter(source=source).first()
    return default.price_cents if default else FALLBACK_PRICE_CENTS


def listing_price_cents(listing) -> int:
    """What a listing sells for now: its own price, or the market rate when it has none."""
    if listing.price_cents is not None:
        return listing.price_cents
    return market_rate_cents(listing.source)


def fee_cents(price_cents: int, settings: ExchangeSettings | None = None) -> int:
    """The facilitation fee on a price: a percentage (basis points, rounded half up), at
    least the minimum."""
    settings = settings or ExchangeSettings.current()
    percent = (price_cents * settings.fee_basis_points + 5000) // 10000
    return max(percent, settings.fee_minimum_cents)
