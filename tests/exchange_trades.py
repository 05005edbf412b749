"""Test builders for finished trades: what a purchase writes, without the purchase service.

`make_trade` writes what exchange.services.purchases.purchase_make writes for the buyer and
the seller: the buyer's provider and its copied Verification (method and verifier "exchange",
provenance in data["exchange"], verified_at = the original's), the Order, and the balanced
journal entry (buyer's purchases due +total, seller's proceeds -price, platform fees -fee).
Once purchase_make is merged, `make_trade` should call it instead (same return value).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from django.utils import timezone

from credex.tenancy import tenant_context
from tests.factories import make_provider


def make_member(tenant, *, display_name: str | None = None):
    """An approved exchange member in good standing (membership row + directory row)."""
    from exchange.models import ExchangeMembership, MemberDirectory

    org = tenant.org
    name = display_name or org.name
    with tenant_context(org):
        membership = ExchangeMembership.objects.filter(organization=org).first()
        if membership is None:
            membership = ExchangeMembership.objects.create(
                organization=org,
                status="approved",
                display_name=name,
                contact_name="Casey Contact",
                contact_email=f"exchange@{tenant.owner.email.split('@')[1]}",
                releases_attested=True,
                decided_at=timezone.now(),
            )
    MemberDirectory.objects.update_or_create(
        member_id=org.pk,
        defaults={"display_name": name, "status": "approved", "good_standing": True},
    )
    return membership


def _credential(org, provider, state="CA"):
    from roster.models import Credential

    return Credential.objects.create(
        organization=org,
        provider=provider,
        kind="state_license",
        number=f"L{uuid.uuid4().hex[:6]}",
        state=state,
        issue_date=date(2024, 1, 1),
        expiry_date=date.today() + timedelta(days=700),
        status="active",
    )


def _seller_record(seller_tenant, *, npi_seed, verified_at):
    from verifications.models import Verification

    org = seller_tenant.org
    provider = make_provider(org, seed=npi_seed)
    with tenant_context(org):
        credential = _credential(org, provider)
        record = Verification.objects.create(
            organization=org,
            provider=provider,
            credential=credential,
            source="state_board",
            source_state="CA",
            source_name="Medical Board of California",
            method="web",
            result="verified",
            verifier_kind="member",
            verifier_user=seller_tenant.owner,
            verifier_label=seller_tenant.owner.email,
            verified_at=verified_at,
            details="License active, no actions.",
            data={"status": "active"},
        )
    return provider, record


def make_trade(
    buyer_tenant,
    seller_tenant,
    *,
    price_cents: int = 3000,
    fee_cents: int = 300,
    npi_seed: int = 7001,
    verified_days_ago: int = 10,
    seller_name: str | None = None,
):
    """A finished purchase by `buyer_tenant` of a seller's state-board verification: returns
    the Order (the buyer's copy is `order.verification`)."""
    from billing.services import Leg, entry_post
    from exchange.models import MemberDirectory, Order
    from verifications.models import Verification

    make_member(seller_tenant, display_name=seller_name)
    make_member(buyer_tenant)
    verified_at = timezone.now() - timedelta(days=verified_days_ago)
    seller_provider, original = _seller_record(
        seller_tenant, npi_seed=npi_seed, verified_at=verified_at
    )
    buyer = buyer_tenant.org
    seller = seller_tenant.org
    seller_display = MemberDirectory.objects.get(member_id=seller.pk).display_name
    listing_id = uuid.uuid4()
    order_id = uuid.uuid4()
    buyer_member = buyer_tenant.membership(buyer_tenant.owner)
    with tenant_context(buyer):
        from roster.models import Provider

        provider = Provider.objects.filter(npi=seller_provider.npi).first()
        if provider is None:
            provider = Provider.objects.create(
                organization=buyer,
                first_name=seller_provider.first_name,
                last_name=seller_provider.last_name,
                npi=seller_provider.npi,
                provider_type="MD",
                practice_states=["CA"],
                status="active",
            )
        credential = _credential(buyer, provider)
        copy = Verification.objects.create(
            organization=buyer,
            provider=provider,
            credential=credential,
            source=original.source,
            source_state=original.source_state,
            source_name=original.source_name,
            method="exchange",
            result="verified",
            verifier_kind="exchange",
            verifier_label=f"Purchased from {seller_display}",
            verified_at=original.verified_at,
            details=original.details,
            reference=f"exchange order {order_id}",
            data={
                **original.data,
                "exchange": {
                    "order_id": str(order_id),
                    "listing_id": str(listing_id),
                    "seller_organization_id": str(seller.pk),
                    "seller_name": seller_display,
                    "original_method": original.method,
                    "original_verifier": original.verifier_label,
                    "original_verified_at": original.verified_at.isoformat(),
                    "original_source": original.source,
                    "original_verification_id": str(original.pk),
                },
            },
        )
        entry = entry_post(
            kind="exchange_purchase",
            reference_type="exchange.order",
            reference_id=str(order_id),
            memo=f"Purchase of order {order_id}",
            legs=[
                Leg(kind="exchange_due", amount_cents=price_cents + fee_cents, org_id=buyer.pk),
                Leg(kind="exchange_proceeds", amount_cents=-price_cents, org_id=seller.pk),
                Leg(kind="platform_fees", amount_cents=-fee_cents, org_id=None),
            ],
        )
        order = Order.objects.create(
            id=order_id,
            organization=buyer,
            seller_organization=seller,
            seller_name=seller_display,
            listing_id=listing_id,
            seller_verification_id=original.pk,
            idempotency_key=f"trade-{order_id}",
            request_hash="0" * 64,
            provider=provider,
            verification=copy,
            npi=provider.npi,
            clinician_name=f"{provider.first_name} {provider.last_name}",
            source=original.source,
            source_state=original.source_state,
            original_method=original.method,
            original_verified_at=original.verified_at,
            price_cents=price_cents,
            fee_cents=fee_cents,
            total_cents=price_cents + fee_cents,
            journal_entry_id=entry.pk,
            bought_by=buyer_member,
            bought_by_label=buyer_member.user.email,
        )
    MemberDirectory.objects.filter(member_id=seller.pk).update(trade_count=1)
    return order


def make_payout(seller_tenant, amount_cents: int):
    """CredEx paid the seller: its proceeds go down, the platform's clearing account pays."""
    from billing.services import Leg, entry_post

    with tenant_context(seller_tenant.org):
        return entry_post(
            kind="payout",
            reference_type="test.payout",
            reference_id=uuid.uuid4().hex,
            legs=[
                Leg(
                    kind="exchange_proceeds", amount_cents=amount_cents, org_id=seller_tenant.org.pk
                ),
                Leg(kind="platform_clearing", amount_cents=-amount_cents, org_id=None),
            ],
        )
