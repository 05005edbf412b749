"""Permission-matrix part: exchange listings, search and requirements.

Org A is made an approved member in good standing (update_or_create: the membership part may
have made it one already) with a released provider, a live listing (`listing_id`), a
finished bulk batch (`batch_id`) and a verified record with a fixed id that the listing POST
names (an allowed caller lists it: 201)."""

from __future__ import annotations

import uuid

FIXED_VERIFICATION = uuid.UUID("00000000-0000-4000-8000-00000000ec01")

BODIES: dict = {
    ("api_exchange_listings", "POST"): {
        "verification_id": str(FIXED_VERIFICATION),
        "price_cents": None,
    },
    ("api_exchange_listings_bulk", "POST"): {},
    ("api_exchange_listing_pause", "POST"): {},
    ("api_exchange_listing_resume", "POST"): {},  # live: 409, changes nothing
    ("api_exchange_listing_withdraw", "POST"): {},
    ("api_exchange_requirements", "PUT"): {"rules": [{"source": "dea", "max_age_days": 90}]},
}
READS_BY_POST: set = set()


def ids(tenant, base: dict) -> dict:
    from datetime import date, timedelta

    from django.utils import timezone

    from credex.tenancy import tenant_context
    from exchange.models import (
        ClinicianRelease,
        ExchangeMembership,
        ListingBatch,
        MemberDirectory,
    )
    from exchange.services.listings import listing_create
    from tests.factories import make_provider
    from verifications.models import Verification

    org = tenant.org
    owner = tenant.membership(tenant.owner)
    provider = make_provider(org, seed=4901)
    with tenant_context(org):
        ExchangeMembership.objects.update_or_create(
            organization=org,
            defaults={
                "status": "approved",
                "display_name": org.name,
                "contact_name": "Matrix Contact",
                "contact_email": "matrix@example.com",
            },
        )
        ClinicianRelease.objects.create(
            organization=org,
            provider=provider,
            signed_on=date.today() - timedelta(days=1),
            expires_on=date.today() + timedelta(days=365),
            method="document",
        )
    MemberDirectory.objects.update_or_create(
        member=org,
        defaults={"display_name": org.name, "status": "approved", "good_standing": True},
    )
    with tenant_context(org):
        common = {
            "organization": org,
            "provider": provider,
            "source": "nppes",
            "method": "api",
            "result": "verified",
            "verifier_kind": "member",
            "verifier_label": "matrix",
            "verified_at": timezone.now() - timedelta(days=3),
        }
        listed = Verification.objects.create(**common)
        Verification.objects.create(id=FIXED_VERIFICATION, **{**common, "source": "oig"})
        listing = listing_create(org=org, actor=owner, verification_id=listed.pk)
        batch = ListingBatch.objects.create(organization=org, status="done", requested_by=owner)
    return {"listing_id": listing.pk, "batch_id": batch.pk}


def snapshot(org) -> dict:
    from credex.tenancy import tenant_context
    from exchange.models import Listing, ListingBatch, RequirementRule, RequirementsProfile

    with tenant_context(org):
        return {
            "exchange_listings": sorted(Listing.objects.values_list("id", "status")),
            "exchange_batches": sorted(ListingBatch.objects.values_list("id", "status")),
            "exchange_requirements": sorted(
                RequirementsProfile.objects.values_list("id", "min_seller_rating")
            ),
            "exchange_rules": sorted(RequirementRule.objects.values_list("source", "max_age_days")),
        }
