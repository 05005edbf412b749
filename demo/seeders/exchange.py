"""The demo exchange: approved members with current NCQA accreditation, shared clinicians with
releases on both sides, Riverbend's listings, a quarter of price votes, a few trades, one open
dispute, and a pending application. Everything goes through the exchange's services (the
operator decides applications like the real one), so the demo exercises the production paths.

Idempotent: nothing happens when Riverbend already has a membership.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from credex.models import Membership, Organization
from credex.tenancy import tenant_context
from exchange.models import ExchangeMembership, MemberDirectory
from exchange.selectors.search import search_listings
from exchange.services import aftertrade, listings, membership, pricing, purchases, releases
from exchange.services.requirements import requirements_save
from roster.models import Credential, Provider, ProviderStatus
from roster.services.providers import credential_create, provider_create
from verifications.models import Verification, VerificationResult

OPERATOR_EMAIL = "operator@credex.example"
SHARED_CLINICIANS = 18  # on both Riverbend's and Lakeside's rosters, same NPIs
TRADES = 3

# A one-page PDF standing in for a signed release (synthetic; sniffed as a real PDF).
RELEASE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
    b"0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\nstartxref\n164\n%%EOF\n"
)

# Each approved member's vote (cents) per type this quarter: five votes reach the quorum.
VOTES = {
    "riverbend": {"state_board": 2600, "dea": 2000, "board": 3200, "education": 4500},
    "lakeside": {"state_board": 2400, "dea": 2200, "board": 3000, "education": 4200},
    "summit": {"state_board": 2800, "dea": 1800, "board": 3500, "education": 5000},
    "bayview": {"state_board": 2500, "dea": 2100, "board": 2900, "education": 4000},
    "cedar": {"state_board": 3000, "dea": 2500, "board": 3100, "education": 4800},
}
CREDENTIAL_FIELDS = (
    "kind",
    "number",
    "issuer",
    "state",
    "issue_date",
    "expiry_date",
    "start_date",
    "end_date",
    "details",
)
MEMBERS = ("riverbend", "lakeside", "summit", "bayview", "cedar")
PENDING = "northgate"


def _owner(org) -> Membership:
    return Membership.objects.select_related("user").filter(role="owner").order_by("created_at")[0]


def _apply(org, owner, *, approve: bool, operator) -> None:
    with tenant_context(org, user_id=owner.user_id):
        if ExchangeMembership.objects.exists():
            return
        membership.membership_apply(
            org=org,
            actor=owner,
            display_name=org.name,
            contact_name=owner.user.get_full_name() or owner.user.email,
            contact_email=owner.user.email,
            profile=f"{org.name} credentials its own clinicians (synthetic demo organization).",
            credentialing_requirements="NCQA CR standards; 36-month re-credentialing cycle.",
            accrediting_body="ncqa",
            accreditation_status="accredited",
            accreditation_expires_on=timezone.localdate() + timedelta(days=400),
            releases_attested=True,
        )
    if approve:
        membership.membership_approve(operator=operator, org_id=org.pk)


def _shared_clinicians(riverbend, lakeside, lakeside_owner) -> list[tuple[Provider, Provider]]:
    """Riverbend clinicians with fresh verified records, added to Lakeside's roster too."""
    cutoff = timezone.now() - timedelta(days=100)
    with tenant_context(riverbend):
        fresh = (
            Verification.objects.filter(
                result=VerificationResult.VERIFIED,
                superseded_by__isnull=True,
                verified_at__gte=cutoff,
                provider__status=ProviderStatus.ACTIVE,
                provider__npi__gt="",
            )
            .exclude(source="npdb")
            .values_list("provider_id", flat=True)
            .distinct()
        )
        chosen = list(
            Provider.objects.filter(pk__in=list(fresh)).order_by("last_name", "npi")[
                :SHARED_CLINICIANS
            ]
        )
        # The same licences, DEA registrations and board certificates on Lakeside's file
        # (a purchased verification is filed against the buyer's own credential).
        files = {
            p.pk: list(Credential.objects.filter(provider=p).values(*CREDENTIAL_FIELDS))
            for p in chosen
        }
    pairs = []
    with tenant_context(lakeside, user_id=lakeside_owner.user_id):
        for theirs in chosen:
            ours = Provider.objects.filter(npi=theirs.npi).first()
            if ours is None:
                ours = provider_create(
                    org=lakeside,
                    actor=lakeside_owner,
                    first_name=theirs.first_name,
                    last_name=theirs.last_name,
                    npi=theirs.npi,
                    provider_type=theirs.provider_type,
                    email=theirs.email,
                    status="applicant",
                )
                for fields in files[theirs.pk]:
                    credential_create(
                        org=lakeside,
                        actor=lakeside_owner,
                        provider=ours,
                        **{k: v for k, v in fields.items() if v not in (None, "")},
                    )
            pairs.append((theirs, ours))
    return pairs


def _release(org, owner, provider) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    today = timezone.localdate()
    releases.release_record_document(
        org=org,
        actor=owner,
        provider=provider,
        scope_all=True,
        scope_sources=[],
        signed_on=today - timedelta(days=20),
        expires_on=today + timedelta(days=345),
        file=SimpleUploadedFile("release.pdf", RELEASE_PDF, content_type="application/pdf"),
    )


def seed_demo_exchange() -> dict:
    """Seed the exchange across the demo organizations (after their rosters exist)."""
    orgs = {o.slug: o for o in Organization.objects.filter(slug__in=[*MEMBERS, PENDING])}
    if "riverbend" not in orgs or "lakeside" not in orgs:
        return {}
    if MemberDirectory.objects.filter(member=orgs["riverbend"]).exists():
        return {"skipped": True}
    operator, _ = membership.operator_flag(email=OPERATOR_EMAIL, password=None)
    owners = {}
    for slug, org in orgs.items():
        with tenant_context(org):
            owners[slug] = _owner(org)
    for slug in MEMBERS:
        if slug in orgs:
            _apply(orgs[slug], owners[slug], approve=True, operator=operator)
    if PENDING in orgs:
        _apply(orgs[PENDING], owners[PENDING], approve=False, operator=operator)

    riverbend, lakeside = orgs["riverbend"], orgs["lakeside"]
    pairs = _shared_clinicians(riverbend, lakeside, owners["lakeside"])
    for org, index in ((riverbend, 0), (lakeside, 1)):
        with tenant_context(org, user_id=owners[org.slug].user_id):
            for pair in pairs:
                _release(org, owners[org.slug], pair[index])

    # A quarter of votes from five members: market rates by median.
    for slug, votes in VOTES.items():
        if slug not in orgs:
            continue
        with tenant_context(orgs[slug], user_id=owners[slug].user_id):
            for source, cents in votes.items():
                pricing.price_vote_cast(
                    org=orgs[slug], actor=owners[slug], source=source, price_cents=cents
                )

    # Lakeside takes state licences, DEA and board certifications from the exchange.
    with tenant_context(lakeside, user_id=owners["lakeside"].user_id):
        requirements_save(
            org=lakeside,
            actor=owners["lakeside"],
            rules=[
                {"source": "state_board", "max_age_days": 120, "methods": [], "source_states": []},
                {"source": "dea", "max_age_days": 120, "methods": [], "source_states": []},
                {"source": "board", "max_age_days": 120, "methods": [], "source_states": []},
                {"source": "education", "max_age_days": 120, "methods": [], "source_states": []},
            ],
        )

    listed = 0
    with tenant_context(riverbend, user_id=owners["riverbend"].user_id):
        for theirs, _ in pairs:
            for record in Verification.objects.filter(
                provider=theirs, superseded_by__isnull=True
            ).order_by("source"):
                if listings.listing_eligibility(org=riverbend, verification=record):
                    continue
                listings.listing_create(
                    org=riverbend, actor=owners["riverbend"], verification_id=record.pk
                )
                listed += 1

    orders = []
    with tenant_context(lakeside, user_id=owners["lakeside"].user_id):
        # A few clinicians' state licence verifications bought; the rest wait on the first
        # screen of Lakeside's exchange page.
        for theirs, _ in pairs[:TRADES]:
            found = [
                f
                for group in search_listings(org=lakeside, npi=theirs.npi)
                for f in group.listings
                if not f.unmet
            ]
            if not found:
                continue
            listing = found[0].listing
            order, _ = purchases.purchase_make(
                org=lakeside,
                actor=owners["lakeside"],
                listing_id=listing.pk,
                idempotency_key=f"demo-{uuid.uuid5(uuid.NAMESPACE_URL, str(listing.pk))}",
            )
            orders.append(order)
        if orders:
            aftertrade.rating_record(
                org=lakeside,
                actor=owners["lakeside"],
                order=orders[0],
                score=5,
                comment="Complete record with the board's screenshot.",
            )
        if len(orders) > 1:
            aftertrade.dispute_open(
                org=lakeside,
                actor=owners["lakeside"],
                order=orders[-1],
                reason="incomplete",
                description="The evidence file shows only the first page of the board lookup.",
            )
    return {"shared": len(pairs), "listed": listed, "orders": len(orders)}
