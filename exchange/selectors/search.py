"""Exchange search: live listings of other members, by clinician NPI or by clinician name.

Only approved members search. A search never returns the searcher's own listings, a listing
that is not live, one past its expiry (even before the daily task marks it expired) or one
of a seller that is not an approved member in good standing. Results are grouped by
clinician; each listing carries the seller's public record (rating, trades), its price and
whether it fulfils the searcher's requirements (or the message of each unmet rule).

The query count does not grow with the number of results: the membership check, one read of
the listings (with each seller's public record and the price, as subqueries), one of the
requirements profile (with its rules) and one of the searcher's roster.

Listings of other organizations are read under `unscoped()` (the ORM's organization filter
lifted); the database's policy on the listing table still admits only approved members.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import IntegerField, JSONField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, JSONObject
from django.utils import timezone

from credex.errors import Forbidden, InvalidInput
from credex.tenancy import unscoped
from exchange.models import (
    DefaultPrice,
    Listing,
    ListingStatus,
    MarketRate,
    MemberDirectory,
    MembershipStatus,
)
from exchange.selectors.directory import member_is_approved
from exchange.selectors.pricing import FALLBACK_PRICE_CENTS, quarter_of
from exchange.selectors.requirements import requirements_profile, requirements_unmet
from roster.validation import npi_problem

NAME_MIN = 3
NAME_MAX = 100
MAX_CLINICIANS = 20  # a name search answers at most this many clinicians
MAX_LISTINGS = 200  # and at most this many listings in all
NAME_RE = re.compile(r"^[\w .,'\-]+$")


@dataclass
class Found:
    """One listing as the searcher sees it."""

    listing: Listing
    seller_name: str
    seller_rating: float | None
    seller_trades: int
    price_cents: int
    days_left: int
    unmet: list[dict]

    @property
    def fulfils_requirements(self) -> bool:
        return not self.unmet

    def as_dict(self) -> dict:
        x = self.listing
        return {
            "id": str(x.pk),
            "npi": x.npi,
            "clinician_name": x.clinician_name,
            "source": x.source,
            "source_label": x.get_source_display(),
            "source_state": x.source_state,
            "source_name": x.source_name,
            "method": x.method,
            "method_label": x.get_method_display(),
            "verified_at": x.verified_at.isoformat(),
            "expires_at": x.expires_at.isoformat(),
            "days_left": self.days_left,
            "seller_organization_id": str(x.organization_id),
            "seller_name": self.seller_name,
            "seller_rating": self.seller_rating,
            "seller_trades": self.seller_trades,
            "price_cents": self.price_cents,
            "fulfils_requirements": self.fulfils_requirements,
            "unmet": self.unmet,
        }


@dataclass
class ClinicianGroup:
    npi: str
    clinician_name: str
    on_roster: bool
    roster_provider_id: object = None
    listings: list[Found] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "npi": self.npi,
            "clinician_name": self.clinician_name,
            "on_roster": self.on_roster,
            "roster_provider_id": str(self.roster_provider_id) if self.roster_provider_id else None,
            "listings": [f.as_dict() for f in self.listings],
        }


def clean_query(*, npi=None, q=None) -> tuple[str | None, str | None]:
    """(npi, q) validated: exactly one, an NPI of 10 digits with its check digit, or a name
    of at least NAME_MIN characters."""
    npi = (npi or "").strip() or None
    q = " ".join((q or "").split()) or None
    if npi and q:
        raise InvalidInput("Search by NPI or by name, not both.", details={"q": "one of npi, q"})
    if npi:
        problem = npi_problem(npi) if "\x00" not in npi else "An NPI is exactly 10 digits."
        if problem:
            raise InvalidInput(problem, code="invalid_npi", details={"npi": problem})
        return npi, None
    if q:
        if len(q) < NAME_MIN:
            message = f"Type at least {NAME_MIN} letters of the clinician's name."
            raise InvalidInput(message, code="query_too_short", details={"q": message})
        if len(q) > NAME_MAX or not NAME_RE.match(q):
            message = "Type a clinician's name (letters, spaces, hyphens, apostrophes)."
            raise InvalidInput(message, code="invalid_query", details={"q": message})
        return None, q
    message = "Give a clinician's NPI or at least three letters of their name."
    raise InvalidInput(message, code="query_missing", details={"q": message})


def _with_seller_and_price(qs):
    """Each listing with `seller` (the seller's public directory row as a dict) and
    `price_now` (its own price, else this quarter's market rate, else the default price,
    else the fallback: exchange.selectors.pricing.listing_price_cents), in the same query."""
    directory = MemberDirectory.objects.filter(member_id=OuterRef("organization_id")).values(
        row=JSONObject(
            display_name="display_name",
            trade_count="trade_count",
            rating_count="rating_count",
            rating_sum="rating_sum",
        )
    )[:1]
    rate = MarketRate.objects.filter(quarter=quarter_of(), source=OuterRef("source")).values(
        "rate_cents"
    )[:1]
    default = DefaultPrice.objects.filter(source=OuterRef("source")).values("price_cents")[:1]
    return qs.annotate(
        seller=Subquery(directory, output_field=JSONField()),
        price_now=Coalesce(
            "price_cents",
            Subquery(rate),
            Subquery(default),
            Value(FALLBACK_PRICE_CENTS),
            output_field=IntegerField(),
        ),
    )


def live_listings_for_others(*, org, now=None):
    """The listings a member may buy from: live, not past expiry, of other approved members in
    good standing (read under unscoped(); the table's policy still applies)."""
    now = now or timezone.now()
    sellers = MemberDirectory.objects.filter(
        status=MembershipStatus.APPROVED, good_standing=True
    ).values("member_id")
    return (
        Listing.objects.filter(
            status=ListingStatus.LIVE, expires_at__gt=now, organization_id__in=sellers
        )
        .exclude(organization_id=org.pk)
        .only(
            "id",
            "organization_id",
            "npi",
            "clinician_name",
            "source",
            "source_state",
            "source_name",
            "method",
            "verified_at",
            "expires_at",
            "price_cents",
        )
    )


def search_listings(*, org, npi=None, q=None, now=None) -> list[ClinicianGroup]:
    """Listings of other members for one clinician (by NPI) or for the clinicians whose name
    contains `q`, grouped by clinician. Refused (Forbidden) to non-members."""
    npi, q = clean_query(npi=npi, q=q)
    if not member_is_approved(org):
        raise Forbidden(
            "Only approved members of the exchange can search it; apply from the Membership page.",
            code="not_a_member",
        )
    now = now or timezone.now()
    with unscoped():
        qs = _with_seller_and_price(live_listings_for_others(org=org, now=now))
        if npi:
            qs = qs.filter(npi=npi).order_by("source", "-verified_at")
        else:
            qs = qs.filter(clinician_name__icontains=q).order_by(
                "clinician_name", "npi", "source", "-verified_at"
            )
        listings = list(qs[:MAX_LISTINGS])
    if not listings:
        return []
    # Groups, in order, capped at MAX_CLINICIANS clinicians.
    groups: dict[str, ClinicianGroup] = {}
    kept = []
    for listing in listings:
        if listing.npi not in groups:
            if len(groups) >= MAX_CLINICIANS:
                continue
            groups[listing.npi] = ClinicianGroup(
                npi=listing.npi, clinician_name=listing.clinician_name, on_roster=False
            )
        kept.append(listing)
    profile = requirements_profile(org=org)
    from roster.models import Provider

    roster = dict(
        Provider.objects.filter(organization=org, npi__in=list(groups)).values_list("npi", "pk")
    )
    for listing in kept:
        seller = listing.seller or {}
        count = seller.get("rating_count") or 0
        rating = round(seller.get("rating_sum", 0) / count, 1) if count else None
        unmet = requirements_unmet(profile=profile, listing=listing, seller_rating=rating, now=now)
        groups[listing.npi].listings.append(
            Found(
                listing=listing,
                seller_name=seller.get("display_name", ""),
                seller_rating=rating,
                seller_trades=seller.get("trade_count", 0),
                price_cents=listing.price_now,
                days_left=max((listing.expires_at - now).days, 0),
                unmet=[u.as_dict() for u in unmet],
            )
        )
    for group in groups.values():
        group.roster_provider_id = roster.get(group.npi)
        group.on_roster = group.roster_provider_id is not None
    return list(groups.values())
