"""Orders as the buyer or the seller sees them, and a listing as a buyer sees it before buying.

An order row belongs to the buyer and is readable by the seller (RLS, migration 0002): the
seller's reads lift only the ORM's scope (`unscoped`), the database still shows it nothing but
the orders it is a party to."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from credex.errors import NotFound
from credex.tenancy import unscoped
from exchange.models import Listing, ListingStatus, MembershipStatus, Order
from exchange.selectors import directory, releases, requirements
from exchange.selectors.pricing import fee_cents, listing_price_cents
from roster.models import Provider, ProviderStatus

ROLES = ("bought", "sold")


def orders_for(*, org, role: str = "bought"):
    """The organization's purchases (`bought`) or sales (`sold`), newest first."""
    org_id = getattr(org, "pk", org)
    with unscoped():
        qs = Order.objects.all()
    if role == "sold":
        qs = qs.filter(seller_organization_id=org_id)
    else:
        qs = qs.filter(organization_id=org_id)
    return qs.order_by("-created_at", "-id")


def with_buyer_names(orders) -> list:
    """Each order with `buyer_name`: the buyer's public member name (the directory is what
    every member may see of another)."""
    from exchange.models import MemberDirectory

    orders = list(orders)
    names = dict(
        MemberDirectory.objects.filter(
            member_id__in={o.organization_id for o in orders}
        ).values_list("member_id", "display_name")
    )
    for order in orders:
        order.buyer_name = names.get(order.organization_id, "Another member")
    return orders


def order_get(*, org, order_id) -> Order:
    """One order the organization bought or sold; anything else is "not found"."""
    org_id = getattr(org, "pk", org)
    with unscoped():
        order = (
            Order.objects.filter(pk=order_id)
            .filter(Q(organization_id=org_id) | Q(seller_organization_id=org_id))
            .first()
        )
    if order is None:
        raise NotFound("Not found.")
    return order


def listing_visible(*, listing_id) -> Listing | None:
    """A listing as every approved member may see it (RLS decides; the ORM scope is lifted)."""
    with unscoped():
        return Listing.objects.filter(pk=listing_id).first()


@dataclass
class PurchasePreview:
    listing: Listing
    seller: object  # MemberDirectory or None
    price_cents: int
    fee_cents: int
    total_cents: int
    provider: Provider | None
    unmet: list = field(default_factory=list)  # [{rule, message}]
    blockers: list = field(default_factory=list)  # [{code, message}]: the buyer cannot buy
    existing_order: Order | None = None

    @property
    def fulfils_requirements(self) -> bool:
        return not self.unmet


def purchase_preview(*, org, listing_id) -> PurchasePreview:
    """What the confirmation page shows: the price, the fee, the requirements status and what
    stops the buyer now (the seller's side is checked again, and fully, at purchase)."""
    from django.utils import timezone

    listing = listing_visible(listing_id=listing_id)
    if listing is None:
        raise NotFound("Not found.")
    seller = directory.directory_entry(listing.organization_id)
    price = listing_price_cents(listing)
    fee = fee_cents(price)
    blockers = []
    if not directory.member_is_approved(org.pk):
        blockers.append(
            {"code": "buyer_not_member", "message": "Your organization is not an approved member."}
        )
    if listing.organization_id == org.pk:
        blockers.append({"code": "own_listing", "message": "This is your own listing."})
    if listing.status != ListingStatus.LIVE or listing.expires_at <= timezone.now():
        blockers.append(
            {"code": "listing_not_live", "message": "This listing is not for sale now."}
        )
    if seller is None or seller.status != MembershipStatus.APPROVED or not seller.good_standing:
        blockers.append({"code": "seller_unavailable", "message": "The seller cannot sell now."})
    provider = (
        Provider.objects.filter(organization=org, npi=listing.npi)
        .exclude(status=ProviderStatus.TERMINATED)
        .first()
        if listing.npi
        else None
    )
    if provider is None:
        blockers.append(
            {
                "code": "clinician_not_on_roster",
                "message": "The clinician (same NPI) is not on your roster.",
            }
        )
    elif releases.release_current(org=org, provider=provider, source=listing.source) is None:
        blockers.append(
            {
                "code": "buyer_release_missing",
                "message": "You hold no current release from this clinician for this type.",
            }
        )
    existing = Order.objects.filter(organization=org, listing_id=listing.pk).first()
    if existing is not None:
        blockers.append(
            {"code": "already_purchased", "message": "You already bought this listing."}
        )
    unmet = requirements.requirements_unmet(
        profile=requirements.requirements_profile(org=org),
        listing=listing,
        seller_rating=seller.rating if seller else None,
    )
    return PurchasePreview(
        listing=listing,
        seller=seller,
        price_cents=price,
        fee_cents=fee,
        total_cents=price + fee,
        provider=provider,
        unmet=[u.as_dict() for u in unmet],
        blockers=blockers,
        existing_order=existing,
    )


def order_provenance(*, org, order):
    """The buyer's copy of the record (with its evidence) and its provenance block."""
    from verifications.models import Verification

    copy = (
        Verification.objects.filter(organization=org, pk=order.verification_id)
        .prefetch_related("evidence")
        .first()
    )
    if copy is None:
        return None
    return {"verification": copy, "exchange": (copy.data or {}).get("exchange", {})}
