"""Permission-matrix part: verifications (extraction)."""

BODIES: dict = {
    ("api_extraction_approve", "POST"): {},
    ("api_extraction_correct", "POST"): {"expiry_date": "2031-01-31"},
    ("api_extraction_reject", "POST"): {"reason": "matrix"},
}
READS_BY_POST: set = set()


def ids(tenant, base: dict) -> dict:
    """A pending suggestion in org A, on a license document of a provider with a license."""
    from datetime import date

    from django.core.files.base import ContentFile

    from credex.tenancy import tenant_context
    from roster.models import Credential, Document
    from tests.factories import make_provider
    from verifications.models import ExtractionSuggestion

    org = tenant.org
    provider = make_provider(org, seed=484_811, last_name="Matrix")
    with tenant_context(org):
        credential = Credential.objects.create(
            organization=org,
            provider=provider,
            kind="state_license",
            number="M12345",
            state="TX",
            expiry_date=date(2026, 1, 31),
        )
        document = Document(
            organization=org,
            provider=provider,
            credential=credential,
            kind="license",
            original_name="license.pdf",
            content_type="application/pdf",
            size=4,
            sha256="0" * 64,
        )
        document.file.save("license.pdf", ContentFile(b"%PDF"), save=False)
        document.save()
        suggestion = ExtractionSuggestion.objects.create(
            organization=org,
            document=document,
            credential=credential,
            extractor="text-layer:1",
            engine="text",
            fields={"expiry_date": {"value": "2030-01-31", "confidence": 0.95, "snippet": "x"}},
        )
    return {"suggestion_id": suggestion.pk}


def snapshot(org) -> dict:
    from credex.tenancy import tenant_context
    from verifications.models import ExtractionSuggestion

    with tenant_context(org):
        return {
            "extraction_suggestions": sorted(
                ExtractionSuggestion.objects.values_list("id", "status", "decided_at")
            )
        }
