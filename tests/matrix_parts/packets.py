"""Permission-matrix part: verifications (packets) and the CAQH export."""

from datetime import date, timedelta

BODIES: dict = {
    ("api_provider_packets", "POST"): {},  # starts a packet for the roster provider
    ("api_packet_cancel", "POST"): {"reason": "matrix"},
    ("api_packets_bulk", "POST"): {"days": 120},
}
READS_BY_POST: set = set()

MATRIX_JOB = "matrixbulkjob"


def ids(tenant, base: dict) -> dict:
    """A packet in progress (to cancel and read), a provider due for re-credentialing (so
    the bulk start has someone), and a bulk job's progress in org A."""
    from credex.tenancy import tenant_context
    from tests.factories import make_provider
    from verifications.models import PacketStep, ReverificationPacket
    from verifications.services.packets import _publish_bulk

    org = tenant.org
    make_provider(org, seed=4848, recredentialing_due_date=date.today() + timedelta(days=30))
    provider = make_provider(org, seed=4849)
    with tenant_context(org):
        packet = ReverificationPacket.objects.create(
            organization=org, provider=provider, started_by=tenant.membership(tenant.owner)
        )
        PacketStep.objects.create(organization=org, packet=packet, kind="oig", label="OIG")
    _publish_bulk(org.pk, MATRIX_JOB, status="done", processed=1, total=1, started=1, skipped=0)
    return {"packet_id": packet.pk, "bulk_id": MATRIX_JOB}


def snapshot(org) -> dict:
    from django.core.cache import cache

    from credex.tenancy import tenant_context
    from verifications.models import PacketStep, ReverificationPacket
    from verifications.services.packets import last_bulk_key

    with tenant_context(org):
        return {
            "packets": sorted(ReverificationPacket.objects.values_list("id", "status")),
            "packet_steps": sorted(PacketStep.objects.values_list("id", "status")),
            # a bulk start's only row is its (queued) job: its id is kept per organization
            "last_bulk_job": cache.get(last_bulk_key(org.pk)),
        }
