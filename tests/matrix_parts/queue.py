"""Permission-matrix part: verifications (PSV log, queue, requests).

Org A gets a provider with a fixed id (the request-open body names it), a current verification
with one evidence file, and a request already sent (so follow-up is allowed, send re-sends,
cancel closes it). Each matrix case runs in a savepoint, so one caller's correction or cancel
never reaches the next case.
"""

from __future__ import annotations

import uuid

FIXED_PROVIDER = "00000000-0000-4000-8000-00000000a501"

BODIES: dict = {
    ("api_provider_verifications", "POST"): {
        "source": "oig",
        "method": "web",
        "result": "verified",
        "details": "No match on the LEIE",
    },
    ("api_verification_correct", "POST"): {"reason": "Wrong method recorded", "method": "phone"},
    ("api_verification_requests", "POST"): {"provider": FIXED_PROVIDER, "source": "sam"},
    ("api_verification_request_send", "POST"): {
        "method": "email",
        "sent_to": "verify@board.example",
    },
    ("api_verification_request_follow_up", "POST"): {"note": "Called the board"},
    ("api_verification_request_cancel", "POST"): {"reason": "Verified online instead"},
}
READS_BY_POST: set = set()


def ids(tenant, base: dict) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from credex.tenancy import tenant_context
    from roster.models import Credential
    from tests.factories import make_provider, pdf_bytes
    from verifications.services.queue import request_send
    from verifications.services.records import verification_record

    owner = tenant.membership(tenant.owner)
    make_provider(tenant.org, seed=5151, id=uuid.UUID(FIXED_PROVIDER))
    provider = make_provider(tenant.org, seed=5152)
    with tenant_context(tenant.org):
        credential = Credential.objects.create(
            organization=tenant.org, provider=provider, kind="state_license", state="TX"
        )
        verification = verification_record(
            org=tenant.org,
            actor=owner,
            provider=provider,
            credential=credential,
            source="state_board",
            method="web",
            result="verified",
            evidence_files=[SimpleUploadedFile("board.pdf", pdf_bytes())],
        )
        dea = Credential.objects.create(organization=tenant.org, provider=provider, kind="dea")
        request = request_send(
            org=tenant.org,
            actor=owner,
            provider=provider,
            credential=dea,
            method="fax",
            sent_to="+1 555 0100",
        )
        evidence = verification.evidence.get()
    return {
        "verification_id": verification.pk,
        "evidence_id": evidence.pk,
        "request_id": request.pk,
    }


def snapshot(org) -> dict:
    from credex.tenancy import tenant_context
    from verifications.models import Verification, VerificationEvidence, VerificationRequest

    with tenant_context(org):
        return {
            "verifications": sorted(Verification.objects.values_list("id", flat=True)),
            "verification_evidence": sorted(
                VerificationEvidence.objects.values_list("id", flat=True)
            ),
            "verification_requests": sorted(
                VerificationRequest.objects.values_list(
                    "id", "status", "follow_up_count", "assigned_to_id", "sent_to", "due_date"
                )
            ),
        }
