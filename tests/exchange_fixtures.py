"""Exchange test data built the way the product builds it, for any exchange test to reuse.

- `make_member(org)`: an approved member with a current NCQA accreditation and its public
  directory row (what membership_approve + directory_sync leave behind);
- `make_release(org, provider)`: a current clinician release;
- `make_record(tenant, provider)`: a verified state-board record with a PDF as evidence,
  through verifications.services.records.verification_record;
- `make_listing(org, record)`: a live listing of it (ORM rows until listing_create lands);
- `build_trade(seller, buyer)`: both members, one clinician (same NPI) on both rosters with
  releases in both, the seller's verified record listed. Returns a SimpleNamespace.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from credex.tenancy import tenant_context
from tests.factories import make_provider, pdf_bytes

EVIDENCE_PDF = pdf_bytes(2)


def make_member(
    org,
    *,
    status="approved",
    good_standing=True,
    display_name=None,
    rating=None,
    member=None,
):
    """Membership, accreditation and the directory row of an exchange member."""
    from exchange.models import Accreditation, ExchangeMembership, MemberDirectory

    name = display_name or org.name
    with tenant_context(org):
        membership = ExchangeMembership.objects.create(
            organization=org,
            status=status,
            display_name=name,
            contact_name="Casey Contact",
            contact_email="casey@example.com",
            releases_attested=True,
            attested_by=member,
            attested_at=timezone.now(),
            decided_at=timezone.now(),
        )
        Accreditation.objects.create(
            organization=org,
            membership=membership,
            body="ncqa",
            status="accredited" if good_standing else "expired",
            expires_on=date.today() + timedelta(days=365 if good_standing else -1),
            recorded_by=member,
        )
    entry, _ = MemberDirectory.objects.update_or_create(
        member=org,
        defaults={
            "display_name": name,
            "status": status,
            "good_standing": good_standing,
            "rating_count": 1 if rating else 0,
            "rating_sum": rating or 0,
        },
    )
    return entry


def make_release(org, provider, *, sources=None, expires_in_days=365, member=None):
    from exchange.models import ClinicianRelease

    with tenant_context(org):
        return ClinicianRelease.objects.create(
            organization=org,
            provider=provider,
            scope_all=sources is None,
            scope_sources=list(sources or []),
            signed_on=date.today() - timedelta(days=5),
            expires_on=date.today() + timedelta(days=expires_in_days),
            method="document",
            recorded_by=member,
        )


def make_credential(org, provider, *, number="TX-12345", state="TX", kind="state_license"):
    from roster.models import Credential

    with tenant_context(org):
        return Credential.objects.create(
            organization=org,
            provider=provider,
            kind=kind,
            number=number,
            state=state,
            issue_date=date(2020, 1, 1),
            expiry_date=date.today() + timedelta(days=700),
        )


def make_record(tenant, provider, *, credential=None, days_ago=10, result="verified", method="web"):
    """A verified state-board record with a PDF as evidence (the real service)."""
    from verifications.services.records import verification_record

    credential = credential or make_credential(tenant.org, provider)
    actor = tenant.membership(tenant.owner)
    with tenant_context(tenant.org):
        return verification_record(
            org=tenant.org,
            actor=actor,
            provider=provider,
            credential=credential,
            source="state_board",
            source_state=credential.state,
            source_name="Texas Medical Board",
            method=method,
            result=result,
            verified_at=timezone.now() - timedelta(days=days_ago),
            details="Active, no actions.",
            reference="TMB-REF-1",
            data={"status": "active", "expiry_date": "2028-01-31"},
            evidence_files=[SimpleUploadedFile("board.pdf", EVIDENCE_PDF, "application/pdf")],
        )


def make_listing(
    org, record, *, price_cents=None, status="live", max_age_days=120, seller_name=None
):
    from exchange.models import Listing

    with tenant_context(org):
        provider = record.provider
        return Listing.objects.create(
            organization=org,
            verification=record,
            provider=provider,
            seller_name=seller_name or org.name,
            npi=provider.npi,
            clinician_name=provider.full_name,
            source=record.source,
            source_state=record.source_state,
            source_name=record.source_name,
            method=record.method,
            verified_at=record.verified_at,
            expires_at=record.verified_at + timedelta(days=max_age_days),
            price_cents=price_cents,
            status=status,
        )


def add_clinician(tenant, *, seed, npi=None, release=True, credential=True):
    """The clinician on `tenant`'s roster (same NPI as elsewhere when `npi` is given)."""
    fields = {"npi": npi} if npi else {}
    provider = make_provider(tenant.org, seed=seed, **fields)
    if credential:
        make_credential(tenant.org, provider)
    if release:
        make_release(tenant.org, provider)
    return provider


def build_trade(seller, buyer, *, seed=None, price_cents=None, buyer_member=True, days_ago=10):
    """Seller and buyer members, a clinician on both rosters with releases, a live listing."""
    from exchange.models import MemberDirectory

    seed = seed if seed is not None else uuid.uuid4().int % 90_000_000
    if not MemberDirectory.objects.filter(member=seller.org).exists():
        make_member(seller.org)
    if buyer_member and not MemberDirectory.objects.filter(member=buyer.org).exists():
        make_member(buyer.org)
    seller_provider = make_provider(seller.org, seed=seed)
    credential = make_credential(seller.org, seller_provider)
    make_release(seller.org, seller_provider)
    record = make_record(seller, seller_provider, credential=credential, days_ago=days_ago)
    listing = make_listing(seller.org, record, price_cents=price_cents)
    buyer_provider = add_clinician(buyer, seed=seed, npi=seller_provider.npi)
    return SimpleNamespace(
        seller=seller,
        buyer=buyer,
        seller_provider=seller_provider,
        record=record,
        listing=listing,
        buyer_provider=buyer_provider,
    )
