"""Permission-matrix part: the exchange's clinician releases.

POST exchange/releases asks for an e-signature (JSON; the document form is multipart and is
covered in tests/test_exchange_releases.py) for a provider of org A with a fixed id; the
revoke names a release recorded the production way (ids `release_id`).
"""

from __future__ import annotations

import uuid

PROVIDER_ID = uuid.UUID("00000000-0000-4000-8000-0000000e1e01")

BODIES: dict = {
    ("api_exchange_releases", "POST"): {
        "method": "esign",
        "provider_id": str(PROVIDER_ID),
        "scope_all": True,
        "expires_on": "2099-01-01",
        "email": "matrix.clinician@example.com",
    },
    ("api_exchange_release_revoke", "POST"): {"reason": "matrix"},
}
READS_BY_POST: set = set()


def ids(tenant, base: dict) -> dict:
    from datetime import timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from credex.tenancy import tenant_context
    from exchange.services.releases import release_record_document
    from tests.factories import make_provider, pdf_bytes

    provider = make_provider(tenant.org, seed=4961, id=PROVIDER_ID)
    with tenant_context(tenant.org):
        release = release_record_document(
            org=tenant.org,
            actor=tenant.membership(tenant.owner),
            provider=provider,
            scope_all=True,
            scope_sources=[],
            signed_on=timezone.localdate(),
            expires_on=timezone.localdate() + timedelta(days=365),
            file=SimpleUploadedFile("matrix-release.pdf", pdf_bytes()),
        )
    return {"release_id": release.pk}


def snapshot(org) -> dict:
    from credex.tenancy import tenant_context
    from exchange.models import ClinicianRelease, ReleaseRequest

    with tenant_context(org):
        return {
            "exchange_releases": sorted(
                ClinicianRelease.objects.values_list("id", "revoked_at", "revoked_reason")
            ),
            "exchange_release_requests": sorted(ReleaseRequest.objects.values_list("id")),
        }
