"""Leaf-row builders for tests. Real flows use services; these fill every tenant table so the
isolation tests have rows of both organizations to look for."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from credex.tenancy import tenant_context

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


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
        payer = r.Payer.objects.create(organization=org, name="Blue Plan")
        contract = r.PayerContract.objects.create(
            organization=org,
            payer=payer,
            effective_date=date(2025, 1, 1),
            renewal_date=date.today() + timedelta(days=60),
        )
        r.Enrollment.objects.create(organization=org, provider=provider, payer=payer)
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
        r.CommitteeReview.objects.create(
            organization=org, provider=provider, cycle="initial", ready_marked_by=owner
        )
        job = r.ImportJob(organization=org, created_by=owner, original_name="roster.csv")
        job.file.save("roster.csv", ContentFile(b"npi\n"), save=False)
        job.save()
    return provider
