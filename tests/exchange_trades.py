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
    """A finished purchase by `buyer_tenant` of a seller's state-board verification, made the
    production way: the seller's record, release and listing, the clinician and a release on
    the buyer's side, then `purchase_make` (copy, ledger entry, receipt, audit). Returns the
    Order (the buyer's copy is `order.verification`). `fee_cents` is what the test expects
    the exchange's fee rule to charge on `price_cents` (checked)."""
    from exchange.selectors.pricing import fee_cents as fee_for
    from exchange.services.purchases import purchase_make
    from tests.exchange_fixtures import add_clinician, make_credential, make_listing, make_release

    assert fee_for(price_cents) == fee_cents, "the fee rule charges another fee on this price"
    make_member(seller_tenant, display_name=seller_name)
    make_member(buyer_tenant)
    verified_at = timezone.now() - timedelta(days=verified_days_ago)
    seller_provider, original = _seller_record(
        seller_tenant, npi_seed=npi_seed, verified_at=verified_at
    )
    make_release(seller_tenant.org, seller_provider)
    listing = make_listing(
        seller_tenant.org, original, price_cents=price_cents, seller_name=seller_name
    )
    buyer = buyer_tenant.org
    with tenant_context(buyer):
        from roster.models import Provider

        on_roster = Provider.objects.filter(npi=seller_provider.npi).exists()
    if not on_roster:
        provider = add_clinician(
            buyer_tenant, seed=npi_seed, npi=seller_provider.npi, credential=False
        )
        with tenant_context(buyer):
            # The buyer tracks the same licence (the purchase files the record against it).
            licence = original.credential
            make_credential(
                buyer, provider, number=licence.number, state=licence.state, kind=licence.kind
            )
    with tenant_context(buyer):
        order, created = purchase_make(
            org=buyer,
            actor=buyer_tenant.membership(buyer_tenant.owner),
            listing_id=listing.pk,
            idempotency_key=f"trade-{uuid.uuid4()}",
        )
    assert created
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
