"""Leaf-row builders for tests. Real flows use services; these fill every tenant table so the
isolation tests have rows of both organizations to look for."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from credex.tenancy import tenant_context


def pdf_bytes(pages: int = 1) -> bytes:
    """A real PDF (pypdf opens it and counts its pages)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A real PNG (signature, IHDR, one IDAT of white RGB pixels, IEND), built with zlib."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def jpeg_bytes(width: int = 4, height: int = 3) -> bytes:
    """A real JPEG, encoded by Pillow (installed with WeasyPrint)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


# A real one-page PDF: the documents area sniffs uploads with pypdf.
PDF_BYTES = pdf_bytes()


def valid_npi(seed: int) -> str:
    """A 10-digit NPI starting with 1 whose check digit is right."""
    from roster.validation import npi_check_digit

    nine = f"1{seed % 100_000_000:08d}"
    return nine + str(npi_check_digit(nine))


def make_provider(org, *, seed=1, **fields):
    from roster.models import Provider

    defaults = {
        "first_name": "Pat",
        "last_name": f"Doe{seed}",
        "npi": valid_npi(seed),
        "provider_type": "MD",
        "practice_states": ["CA"],
        "status": "active",
    }
    with tenant_context(org):
        return Provider.objects.create(organization=org, **{**defaults, **fields})


def populate_every_tenant_table(tenant, seed=1):
    from committee import models as com
    from enrollment import models as enr
    from roster import models as r

    org = tenant.org
    owner = tenant.membership(tenant.owner)
    provider = make_provider(org, seed=seed, coordinator=owner)
    with tenant_context(org):
        cred = r.Credential.objects.create(
            organization=org,
            provider=provider,
            kind="state_license",
            number="A1",
            state="CA",
            issue_date=date(2024, 1, 1),
            expiry_date=date.today() + timedelta(days=20),
        )
        r.CredentialRequirement.objects.create(
            organization=org, provider_type="MD", kind="state_license"
        )
        r.CustomProviderType.objects.create(organization=org, code="RN", name="Nurse")
        link = r.UploadLink.objects.create(
            organization=org,
            provider=provider,
            requested_kinds=["cv"],
            created_by=owner,
            expires_at=timezone.now() + timedelta(days=14),
        )
        doc = r.Document(
            organization=org,
            provider=provider,
            credential=cred,
            kind="license",
            original_name="license.pdf",
            content_type="application/pdf",
            size=len(PDF_BYTES),
            sha256=hashlib.sha256(PDF_BYTES).hexdigest(),
            upload_link=link,
        )
        doc.file.save("license.pdf", ContentFile(PDF_BYTES), save=False)
        doc.save()
        payer = enr.Payer.objects.create(organization=org, name="Blue Plan")
        contract = enr.PayerContract.objects.create(
            organization=org,
            payer=payer,
            effective_date=date(2025, 1, 1),
            renewal_date=date.today() + timedelta(days=60),
        )
        enr.Enrollment.objects.create(organization=org, provider=provider, payer=payer)
        r.InboxItem.objects.create(
            organization=org,
            kind="credential_expiry",
            key=f"credential_expiry:{cred.pk}:30",
            threshold_days=30,
            due_date=cred.expiry_date,
            provider=provider,
            credential=cred,
            contract=contract,
            assigned_to=owner,
        )
        com.CommitteeReview.objects.create(
            organization=org, provider=provider, cycle="initial", ready_marked_by=owner
        )
        job = r.ImportJob(organization=org, created_by=owner, original_name="roster.csv")
        job.file.save("roster.csv", ContentFile(b"npi\n"), save=False)
        job.save()
        populate_nppes(org, provider, owner)
        populate_screening(org, provider, owner)
        packet = populate_verifications(org, provider, cred, doc, payer, link, owner)
        populate_exchange(org, provider, packet, owner)
        populate_billing(org, owner)
    return provider


def populate_billing(org, member):
    """One row of each billing tenant table for the isolation tests (the account exists: it
    opened with the organization)."""
    from datetime import date

    from billing import models as bm

    invoice = bm.Invoice.objects.create(
        organization=org,
        number=f"F-{org.slug}",
        status=bm.InvoiceStatus.NOT_COLLECTED,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        total_cents=9900,
    )
    bm.InvoiceLine.objects.create(
        organization=org, invoice=invoice, kind="base", description="Base", amount_cents=9900
    )
    bm.Charge.objects.create(
        organization=org,
        kind="membership_fee",
        description="factory",
        amount_cents=50000,
        reference_type="factory",
        reference_id=str(org.pk),
        invoice=invoice,
    )
    bm.Payout.objects.create(
        organization=org, amount_cents=100, transfer_group=f"factory-{org.pk}", requested_by=member
    )
    bm.DunningNotice.objects.create(organization=org, invoice=invoice, day=0)
    bm.SeatSync.objects.create(organization=org, source="sync", seats=1, previous_seats=0)
    bm.StripeEvent.objects.create(
        organization=org, event_id=f"evt_factory_{org.pk}", type="invoice.paid"
    )


def populate_exchange(org, provider, packet, member):
    """One row of each exchange and ledger tenant table for the isolation tests (the order is
    a self-trade, so every row belongs to this organization alone)."""
    from billing.services import Leg, entry_post
    from exchange import models as x
    from verifications.models import Verification

    record = Verification.objects.filter(provider=provider, superseded_by__isnull=True).first()
    membership = x.ExchangeMembership.objects.create(
        organization=org,
        display_name=org.name,
        contact_name="Casey Contact",
        contact_email="casey@example.com",
        attested_by=member,
    )
    x.Accreditation.objects.create(
        organization=org,
        membership=membership,
        body="ncqa",
        status="accredited",
        expires_on=date.today() + timedelta(days=365),
        recorded_by=member,
    )
    release = x.ClinicianRelease.objects.create(
        organization=org,
        provider=provider,
        signed_on=date.today(),
        expires_on=date.today() + timedelta(days=365),
        method="document",
        recorded_by=member,
    )
    x.ReleaseRequest.objects.create(
        organization=org,
        provider=provider,
        release_expires_on=date.today() + timedelta(days=365),
        email="clinician@example.com",
        release=release,
        expires_at=timezone.now() + timedelta(days=14),
        created_by=member,
    )
    x.Listing.objects.create(
        organization=org,
        verification=record,
        provider=provider,
        seller_name=org.name,
        npi=provider.npi or "1000000004",
        clinician_name="Clinician",
        source=record.source,
        method=record.method,
        verified_at=record.verified_at,
        expires_at=record.verified_at + timedelta(days=120),
        created_by=member,
    )
    x.ListingBatch.objects.create(organization=org, requested_by=member)
    profile = x.RequirementsProfile.objects.create(organization=org, updated_by=member)
    x.RequirementRule.objects.create(organization=org, profile=profile, source="state_board")
    x.PriceVote.objects.create(
        organization=org, quarter="2026Q4", source="state_board", price_cents=3000, voted_by=member
    )
    order = x.Order.objects.create(
        organization=org,
        seller_organization=org,
        seller_name=org.name,
        listing_id=uuid.uuid4(),
        seller_verification_id=record.pk,
        idempotency_key="factory",
        request_hash="0" * 64,
        provider=provider,
        verification=record,
        npi=provider.npi or "1000000004",
        clinician_name="Clinician",
        source=record.source,
        original_method=record.method,
        original_verified_at=record.verified_at,
        price_cents=3000,
        fee_cents=300,
        total_cents=3300,
        bought_by=member,
        bought_by_label=member.user.email,
    )
    x.Receipt.objects.create(
        organization=org, order=order, seller_organization=org, key_id="k", payload={}, signature=""
    )
    x.Rating.objects.create(
        organization=org, order=order, seller_organization=org, score=5, rated_by=member
    )
    x.Dispute.objects.create(
        organization=org,
        order=order,
        seller_organization=org,
        reason="other",
        description="factory",
        opened_by=member,
    )
    entry_post(
        kind="exchange_purchase",
        reference_type="factory",
        reference_id=str(order.pk),
        legs=[
            Leg(kind="exchange_due", amount_cents=3300, org_id=org.pk),
            Leg(kind="exchange_proceeds", amount_cents=-3300, org_id=org.pk),
        ],
    )


def populate_verifications(org, provider, cred, doc, payer, link, member):
    """One row of each verifications table for the isolation tests."""
    from enrollment.models import PayerContact
    from verifications import models as v

    packet = v.ReverificationPacket.objects.create(
        organization=org, provider=provider, started_by=member, upload_link=link
    )
    request = v.VerificationRequest.objects.create(
        organization=org,
        provider=provider,
        credential=cred,
        source="state_board",
        source_state="TX",
        assigned_to=member,
        created_by=member,
        packet=packet,
    )
    first = v.Verification.objects.create(
        organization=org,
        provider=provider,
        credential=cred,
        source="state_board",
        source_state="TX",
        method="web",
        result="verified",
        verifier_kind="member",
        verifier_user=member.user,
        verifier_label=member.user.email,
        verified_at=timezone.now(),
        request=request,
    )
    second = v.Verification.objects.create(
        organization=org,
        provider=provider,
        credential=cred,
        source="state_board",
        source_state="TX",
        method="web",
        result="verified",
        verifier_kind="member",
        verifier_label=member.user.email,
        verified_at=timezone.now(),
        supersedes=first,
        correction_reason="typo",
    )
    evidence = v.VerificationEvidence(
        organization=org,
        verification=second,
        original_name="board.pdf",
        content_type="application/pdf",
        size=len(PDF_BYTES),
        sha256=hashlib.sha256(PDF_BYTES).hexdigest(),
    )
    evidence.file.save("board.pdf", ContentFile(PDF_BYTES), save=False)
    evidence.save()
    v.PacketStep.objects.create(
        organization=org,
        packet=packet,
        kind="verification",
        label="Texas license",
        request=request,
        verification=second,
    )
    v.ExtractionSuggestion.objects.create(
        organization=org,
        document=doc,
        credential=cred,
        extractor="text-layer:1",
        engine="text",
        decided_by=member,
    )
    package = v.CredentialPackage.objects.create(
        organization=org, provider=provider, requested_by=member
    )
    contact = PayerContact.objects.create(
        organization=org, payer=payer, name="Pat Payer", email="pat@payer.example"
    )
    v.PackageShare.objects.create(
        organization=org,
        package=package,
        contact=contact,
        email=contact.email,
        created_by=member,
        revoked_by=member,
        expires_at=timezone.now() + timedelta(days=14),
    )
    return packet


def populate_screening(org, provider, member):
    """One row of each screening tenant table (runs, hits, results) for the isolation tests."""
    from datetime import date as _date

    from screening import models as s

    version = s.DatasetVersion.objects.create(
        source="leie", as_of=_date(2026, 11, 1), sha256="f" * 64, origin="factory"
    )
    run = s.ScreeningRun.objects.create(
        organization=org, trigger="on_demand", provider=provider, requested_by=member
    )
    s.ScreeningHit.objects.create(
        organization=org,
        provider=provider,
        run=run,
        source="leie",
        dataset_version=version,
        source_record_key="k" * 32,
        record_hash="h" * 32,
        kind="name_dob",
        score=100,
        reviewed_by=member,
    )
    s.ScreeningResult.objects.create(
        organization=org, run=run, provider=provider, leie_version=version, leie_outcome="hit"
    )
    return run


def populate_nppes(org, provider, member):
    """One row of each NPPES table (screening.nppes) for the isolation tests."""
    from screening.nppes import models as n

    n.NppesCheck.objects.create(
        organization=org, provider=provider, npi=provider.npi, outcome="mismatch"
    )
    n.NppesMismatch.objects.create(
        organization=org,
        provider=provider,
        field="name",
        our_value={"last": provider.last_name},
        nppes_value={"last": "SMITH"},
        nppes_value_hash="h",
        severity="medium",
        status="dismissed",
        decided_by=member,
    )
    n.NppesRun.objects.create(
        organization=org, provider=provider, requested_by=member, status="done"
    )
