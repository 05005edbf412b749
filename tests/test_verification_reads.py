"""Pages that show what was read from a provider's documents, a provider's package or a
packet (with its upload link) record the read, like the provider file does."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from roster.services.documents import document_upload
from tests.factories import make_provider, pdf_bytes
from verifications.models import CredentialPackage, ExtractionSuggestion, ReverificationPacket

pytestmark = pytest.mark.django_db


def reads(tenant, provider) -> list[dict]:
    with tenant_context(tenant.org):
        return list(
            AuditEvent.objects.filter(action="roster.provider.viewed", target_id=str(provider.pk))
            .order_by("seq")
            .values_list("data", flat=True)
        )


@pytest.fixture
def world(tenant_a):
    owner = tenant_a.membership(tenant_a.owner)
    provider = make_provider(tenant_a.org, seed=91)
    with tenant_context(tenant_a.org):
        document = document_upload(
            org=tenant_a.org,
            actor=owner,
            provider=provider,
            kind="license",
            file=SimpleUploadedFile("l.pdf", pdf_bytes()),
        )
        suggestion = ExtractionSuggestion.objects.create(
            organization=tenant_a.org, document=document, extractor="text-layer:1", engine="text"
        )
        package = CredentialPackage.objects.create(organization=tenant_a.org, provider=provider)
        packet = ReverificationPacket.objects.create(organization=tenant_a.org, provider=provider)
    return provider, suggestion, package, packet


def test_the_extraction_package_and_packet_pages_record_the_read(tenant_a, world, login):
    provider, suggestion, package, packet = world
    client = login(tenant_a.auditor)
    base = f"/o/{tenant_a.org.slug}"
    for path in (
        f"extractions/{suggestion.pk}/",
        f"packages/{package.pk}/",
        f"packets/{packet.pk}/",
    ):
        assert client.get(f"{base}/{path}").status_code == 200, path
    parts = [d["part"] for d in reads(tenant_a, provider)]
    assert parts == ["extraction", "package", "packet"]


def test_an_outsider_reads_nothing_and_nothing_is_recorded(tenant_a, tenant_b, world, login):
    provider, suggestion, package, packet = world
    client = login(tenant_b.owner)
    assert client.get(f"/o/{tenant_a.org.slug}/packages/{package.pk}/").status_code == 404
    assert reads(tenant_a, provider) == []
