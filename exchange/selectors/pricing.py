"""Prices: the quarter, the market rate of a verification type, the band a seller may list
within, a listing's price, the fee, and the reads behind the pricing pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from credex.tenancy import platform_path
from exchange.models import DefaultPrice, ExchangeSettings, MarketRate, MemberDirectory, PriceVote
from verifications.models import VerificationSource

# Until the operator sets one, a verification type without a default price costs this.
FALLBACK_PRICE_CENTS = 2500
# NPDB results are never tradable (federal law), so they have no price.
PRICED_SOURCES: tuple[str, ...] = tuple(
    s for s in VerificationSource.values if s != VerificationSource.NPDB
)
# A vote or default price above this is a typo, not a price.
MAX_PRICE_CENTS = 1_000_000  # $10,000


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
    return default_price_cents(source)


def default_price_cents(source: str) -> int:
    """The operator's default price for the type (the fallback when none is set)."""
    default = DefaultPrice.objects.filter(source=source).first()
    return default.price_cents if default else FALLBACK_PRICE_CENTS


def band_of(rate_cents: int, percent: int) -> tuple[int, int]:
    """(low, high) around a rate: the low end rounded up and the high end rounded down to the
    cent, so a price inside the band is never more than `percent` away from the rate."""
    low = -(-rate_cents * (100 - percent) // 100)
    high = rate_cents * (100 + percent) // 100
    return max(low, 1), high


def price_band_cents(source: str, quarter: str | None = None) -> tuple[int, int]:
    """The prices a seller may list the type at this quarter: the market rate
    ± ExchangeSettings.price_band_percent (default 25%), both ends included."""
    percent = ExchangeSettings.current().price_band_percent
    return band_of(market_rate_cents(source, quarter=quarter), percent)


def price_band_refusal(source: str, price_cents: int, quarter: str | None = None) -> dict | None:
    """None when a seller may list the type at `price_cents` (inside the band, both ends
    included), otherwise the refusal {code, message} a listing shows."""
    low, high = price_band_cents(source, quarter)
    if low <= price_cents <= high:
        return None
    return {
        "code": "price_outside_band",
        "message": f"List at the market rate or between ${low // 100:,}.{low % 100:02d} and "
        f"${high // 100:,}.{high % 100:02d} this quarter.",
    }


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


def median_cents(prices: list[int]) -> int:
    """The median of the prices; of an even count, the mean of the two middle ones rounded
    half up to the cent ($20.00 and $20.01 -> $20.01)."""
    if not prices:
        raise ValueError("the median of no prices")
    ordered = sorted(prices)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle] + 1) // 2


def fee_rule(settings: ExchangeSettings | None = None) -> str:
    """The fee rule in words ("10% of the price, at least $2.00")."""
    settings = settings or ExchangeSettings.current()
    whole, part = divmod(settings.fee_basis_points, 100)
    percent = f"{whole}" if not part else f"{whole}.{part:02d}".rstrip("0")
    minimum = settings.fee_minimum_cents
    return f"{percent}% of the price, at least ${minimum // 100}.{minimum % 100:02d}"


# --- the member's pricing page -------------------------------------------------------------


@dataclass
class TypePrice:
    """One verification type's price this quarter, as a member sees it."""

    source: str
    label: str
    rate_cents: int
    basis: str  # "median" or "default"
    vote_count: int
    band: tuple[int, int]
    fee_cents: int
    my_vote_cents: int | None
    history: list[MarketRate]


def my_votes(*, org, quarter: str | None = None) -> dict[str, PriceVote]:
    """The organization's own votes in the quarter, by verification type."""
    quarter = quarter or quarter_of()
    votes = PriceVote.objects.filter(organization=org, quarter=quarter)
    return {v.source: v for v in votes}


def rate_history(*, quarters: int = 8) -> dict[str, list[MarketRate]]:
    """The last `quarters` quarters' MarketRate rows per type, oldest first."""
    known = sorted(set(MarketRate.objects.values_list("quarter", flat=True)))[-quarters:]
    rows: dict[str, list[MarketRate]] = {s: [] for s in PRICED_SOURCES}
    for rate in MarketRate.objects.filter(quarter__in=known).order_by("quarter"):
        rows.setdefault(rate.source, []).append(rate)
    return rows


def current_rates(*, quarter: str | None = None) -> dict[str, MarketRate]:
    quarter = quarter or quarter_of()
    return {r.source: r for r in MarketRate.objects.filter(quarter=quarter)}


def pricing_overview(*, org, quarter: str | None = None) -> list[TypePrice]:
    """Every priced type this quarter: rate, basis, band, fee, the org's vote and history."""
    quarter = quarter or quarter_of()
    settings = ExchangeSettings.current()
    rates = current_rates(quarter=quarter)
    defaults = dict(DefaultPrice.objects.values_list("source", "price_cents"))
    votes = my_votes(org=org, quarter=quarter)
    history = rate_history()
    labels = dict(VerificationSource.choices)
    out = []
    for source in PRICED_SOURCES:
        rate = rates.get(source)
        cents = rate.rate_cents if rate else defaults.get(source, FALLBACK_PRICE_CENTS)
        vote = votes.get(source)
        out.append(
            TypePrice(
                source=source,
                label=labels[source],
                rate_cents=cents,
                basis=rate.basis if rate else "default",
                vote_count=rate.vote_count if rate else 0,
                band=band_of(cents, settings.price_band_percent),
                fee_cents=fee_cents(cents, settings),
                my_vote_cents=vote.price_cents if vote else None,
                history=history.get(source, []),
            )
        )
    return out


# --- the operator's console ----------------------------------------------------------------


def operator_rates(*, quarters: int = 4) -> list[dict]:
    """For the operator: per quarter (newest first) and type, the market rate and every vote
    with the voting member's name. Reads every member's votes on the platform path."""
    with transaction.atomic(), platform_path():
        votes = list(
            PriceVote.objects.order_by("-quarter", "source", "price_cents").values(
                "quarter", "source", "price_cents", "organization_id", "updated_at"
            )
        )
    names = dict(MemberDirectory.objects.values_list("member_id", "display_name"))
    rates = {(r.quarter, r.source): r for r in MarketRate.objects.all()}
    quarter_keys = sorted({q for q, _ in rates} | {v["quarter"] for v in votes}, reverse=True)
    quarter_keys = quarter_keys[:quarters] or [quarter_of()]
    if quarter_of() not in quarter_keys:
        quarter_keys.insert(0, quarter_of())
    labels = dict(VerificationSource.choices)
    defaults = dict(DefaultPrice.objects.values_list("source", "price_cents"))
    out = []
    for quarter in quarter_keys:
        current = quarter == quarter_of()
        types = []
        for source in PRICED_SOURCES:
            these = [v for v in votes if v["quarter"] == quarter and v["source"] == source]
            rate = rates.get((quarter, source))
            if not (current or rate or these):
                continue  # a closed quarter lists only the types that had a rate or votes
            for v in these:
                v["member"] = names.get(v["organization_id"], str(v["organization_id"]))
            types.append(
                {
                    "source": source,
                    "label": labels[source],
                    "rate": rate,
                    # no row yet this quarter: the default price is the rate
                    "default_cents": defaults.get(source, FALLBACK_PRICE_CENTS),
                    "votes": these,
                }
            )
        out.append({"quarter": quarter, "current": current, "types": types})
    return out
