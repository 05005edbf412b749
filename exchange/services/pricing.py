"""Member-governed prices: a member's quarterly vote per verification type, the market rate
recomputed from every member's votes, and the operator's default prices and exchange settings.

The market rate of a (quarter, type) is the median of the members' votes when at least
`ExchangeSettings.vote_quorum` members voted, otherwise the operator's default price. Every
vote, default price or quorum change recomputes it under a transaction-level advisory lock per
(quarter, type), taken before the vote is written: two votes at once serialize, and the second
reads the first's committed vote (READ COMMITTED), so no rate is left computed from a stale set.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from audit.services import Actor, audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, Forbidden, InvalidInput
from credex.models import Membership
from credex.tenancy import platform_path
from exchange.models import (
    DefaultPrice,
    ExchangeSettings,
    MarketRate,
    MemberDirectory,
    MembershipStatus,
    PriceVote,
)
from exchange.selectors.directory import member_is_approved
from exchange.selectors.pricing import (
    MAX_PRICE_CENTS,
    PRICED_SOURCES,
    default_price_cents,
    median_cents,
    quarter_of,
)

# The operator's settings: field -> (lowest, highest) accepted value.
SETTINGS_RANGES: dict[str, tuple[int, int]] = {
    "max_age_days": (1, 365),
    "vote_quorum": (1, 1000),
    "price_band_percent": (0, 90),
    "fee_basis_points": (0, 5000),  # at most 50% of the price
    "fee_minimum_cents": (0, 100_000),  # at most $1,000
    "dispute_window_days": (1, 365),
}
# Settings whose change moves this quarter's rates.
RATE_SETTINGS = {"vote_quorum"}


def _check_source(source) -> str:
    if source not in PRICED_SOURCES:
        raise InvalidInput(
            "Choose a verification type that is traded on the exchange.",
            details={"source": "NPDB results are never traded" if source == "npdb" else "unknown"},
        )
    return source


def _check_price(price_cents) -> int:
    if isinstance(price_cents, bool) or not isinstance(price_cents, int):
        raise InvalidInput("The price is a whole number of cents.", details={"price_cents": "int"})
    if not 1 <= price_cents <= MAX_PRICE_CENTS:
        raise InvalidInput(
            f"A price is between $0.01 and ${MAX_PRICE_CENTS // 100:,}.",
            details={"price_cents": "out_of_range"},
        )
    return price_cents


def _lock_rate(quarter: str, source: str) -> None:
    """Serialize every recomputation of one (quarter, type) until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            [f"exchange.market_rate:{quarter}:{source}"],
        )


def price_vote_cast(
    *, org, actor, source: str, price_cents: int, quarter: str | None = None
) -> PriceVote:
    """Cast or change the organization's vote for a type's price this quarter, then recompute
    the quarter's market rate. A closed quarter (`quarter` other than the current one) is
    refused."""
    require(actor, cap.MANAGE_EXCHANGE)
    _check_source(source)
    _check_price(price_cents)
    current = quarter_of()
    if quarter is not None and quarter != current:
        raise Conflict(
            f"Voting for {quarter} is closed; votes are taken for {current} only.",
            code="quarter_closed",
            details={"quarter": quarter},
        )
    if not member_is_approved(org):
        raise Conflict("Only approved exchange members vote on prices.", code="not_a_member")
    with transaction.atomic():
        _lock_rate(current, source)
        vote = PriceVote.objects.filter(organization=org, quarter=current, source=source).first()
        old = vote.price_cents if vote else None
        membership = actor if isinstance(actor, Membership) else None  # a key has no member
        if vote is None:
            vote = PriceVote(organization=org, quarter=current, source=source)
        vote.price_cents = price_cents
        vote.voted_by = membership
        vote.updated_at = timezone.now()
        vote.save()
        audit_record(
            action="exchange.price_vote.changed" if old is not None else "exchange.price_vote.cast",
            actor=audit_actor(actor),
            org=org,
            target=vote,
            data={
                "quarter": current,
                "source": source,
                "old_price_cents": old,
                "price_cents": price_cents,
            },
        )
        market_rate_recompute(quarter=current, source=source, actor=audit_actor(actor), locked=True)
    return vote


def market_rate_recompute(
    *, quarter: str, source: str, actor: Actor, locked: bool = False
) -> MarketRate:
    """Recompute a (quarter, type)'s market rate from every member's votes (read on the
    platform path). A change of rate or basis is audited on the platform chain."""
    with transaction.atomic():
        if not locked:
            _lock_rate(quarter, source)
        # Read under the lock: a quorum or default changed meanwhile is committed by now.
        settings = ExchangeSettings.current()
        # Only approved members' votes count: a member suspended or rejected since it voted
        # no longer sets the price (its vote stays on record).
        approved = MemberDirectory.objects.filter(status=MembershipStatus.APPROVED).values(
            "member_id"
        )
        with platform_path():
            prices = list(
                PriceVote.objects.filter(
                    quarter=quarter, source=source, organization_id__in=approved
                ).values_list("price_cents", flat=True)
            )
        if len(prices) >= settings.vote_quorum:
            cents, basis = median_cents(prices), "median"
        else:
            cents, basis = default_price_cents(source), "default"
        rate = MarketRate.objects.select_for_update().filter(quarter=quarter, source=source).first()
        before = (rate.rate_cents, rate.basis) if rate else None
        if rate is None:
            rate = MarketRate(quarter=quarter, source=source)
        rate.rate_cents, rate.basis, rate.vote_count = cents, basis, len(prices)
        rate.computed_at = timezone.now()
        rate.save()
        if before != (cents, basis):
            audit_record(
                action="exchange.market_rate.changed",
                actor=actor,
                org=None,
                target=rate,
                data={
                    "quarter": quarter,
                    "source": source,
                    "old_rate_cents": before[0] if before else None,
                    "rate_cents": cents,
                    "basis": basis,
                    "vote_count": len(prices),
                },
            )
    return rate


def _require_operator(operator) -> Actor:
    if not getattr(operator, "is_exchange_operator", False):
        raise Forbidden("Only the exchange operator changes prices and settings.")
    return Actor.member(operator)


def default_price_set(*, operator, source: str, price_cents: int) -> DefaultPrice:
    """The operator sets a type's default price; this quarter's rate is recomputed (it is the
    rate until the votes reach quorum)."""
    actor = _require_operator(operator)
    _check_source(source)
    _check_price(price_cents)
    with transaction.atomic():
        row = DefaultPrice.objects.select_for_update().filter(source=source).first()
        old = row.price_cents if row else None
        if row is None:
            row = DefaultPrice(source=source)
        row.price_cents, row.updated_at = price_cents, timezone.now()
        row.save()
        audit_record(
            action="exchange.default_price.set",
            actor=actor,
            org=None,
            target=row,
            data={"source": source, "old_price_cents": old, "price_cents": price_cents},
        )
        market_rate_recompute(quarter=quarter_of(), source=source, actor=actor)
    return row


def exchange_settings_update(*, operator, **changes) -> ExchangeSettings:
    """The operator changes exchange settings (any of SETTINGS_RANGES); every value is
    checked, the change is audited with old and new values, and a quorum change recomputes
    this quarter's rates."""
    actor = _require_operator(operator)
    unknown = set(changes) - set(SETTINGS_RANGES)
    if unknown:
        raise InvalidInput("Unknown setting.", details=dict.fromkeys(sorted(unknown), "unknown"))
    errors = {}
    for name, value in changes.items():
        low, high = SETTINGS_RANGES[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[name] = f"Enter a whole number from {low:,} to {high:,}."
    if errors:
        raise InvalidInput("Nothing was saved: a setting is out of range.", details=errors)
    with transaction.atomic():
        ExchangeSettings.current()
        settings = ExchangeSettings.objects.select_for_update().get(pk=1)
        diff = {
            name: [getattr(settings, name), value]
            for name, value in changes.items()
            if getattr(settings, name) != value
        }
        if not diff:
            return settings
        for name, (_, value) in diff.items():
            setattr(settings, name, value)
        settings.updated_at = timezone.now()
        settings.save()
        audit_record(
            action="exchange.settings.updated",
            actor=actor,
            org=None,
            target=settings,
            data={"changes": diff},
        )
        if RATE_SETTINGS & set(diff):
            for source in PRICED_SOURCES:
                market_rate_recompute(quarter=quarter_of(), source=source, actor=actor)
    return settings


def market_rates_recompute_quarter(*, actor: Actor, quarter: str | None = None) -> None:
    """Every priced type's rate this quarter again (a member's status changed: its votes
    count again, or no longer)."""
    for source in PRICED_SOURCES:
        market_rate_recompute(quarter=quarter or quarter_of(), source=source, actor=actor)


def operator_rates_read_record(*, operator) -> None:
    """The operator read every member's votes (on the platform path): recorded on the
    platform chain, as every cross-organization read is."""
    actor = _require_operator(operator)
    audit_record(
        action="exchange.price_votes.read",
        actor=actor,
        org=None,
        target_type="exchange.pricevote",
        data={"page": "operator_rates"},
    )
