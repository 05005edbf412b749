"""Packets with real commits and a real Celery worker: one click starts the NPPES re-check and
the provider's OIG/SAM screening, whose automatic PSV records complete the packet's check
steps; the bulk job starts packets for everyone due and its organization-wide runs complete
theirs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from credex.tenancy import tenant_context
from tests.conftest import own_queue_worker
from tests.fixtures_nppes import FakeNppes, individual, use_fake
from tests.test_packets import jane
from tests.test_screening_runs import load_lists
from tests.waiting import wait_for
from verifications.models import PacketStep, ReverificationPacket, Verification
from verifications.services import packets as svc

pytestmark = pytest.mark.external


@pytest.fixture
def worker(committed_db):
    """A worker on a queue of this test's own (the broker is shared with other processes)."""
    with own_queue_worker() as queue:
        yield queue


@pytest.fixture
def fake(settings):
    server = FakeNppes().start()
    use_fake(settings, server, retries=0)
    yield server
    server.stop()


def check_steps(tenant, packet_id) -> dict:
    with tenant_context(tenant.org):
        return dict(
            PacketStep.objects.filter(
                packet_id=packet_id, kind__in=["nppes", "oig", "sam"]
            ).values_list("kind", "status")
        )


def test_one_click_runs_the_checks_on_a_worker_and_their_records_complete_the_steps(
    committed_tenant, fake, worker
):
    load_lists()
    provider = jane(committed_tenant, seed=61)
    fake.answer(provider.npi, individual(provider.npi))
    with tenant_context(committed_tenant.org):
        packet = svc.packet_start(
            org=committed_tenant.org,
            actor=committed_tenant.membership(committed_tenant.coordinator),
            provider=provider,
        )
    # committed: the on-commit callbacks sent the NPPES refresh and the screening run
    wait_for(
        lambda: set(check_steps(committed_tenant, packet.pk).values()) == {"done"},
        what="the NPPES, OIG and SAM steps",
    )
    with tenant_context(committed_tenant.org):
        records = set(
            Verification.objects.filter(provider=provider).values_list("source", "result")
        )
    assert {source for source, _ in records} == {"nppes", "oig", "sam"}
    assert ("nppes", "verified") in records


def test_the_bulk_job_runs_on_a_worker_and_the_organization_wide_checks_complete_steps(
    committed_tenant, fake, worker
):
    load_lists()
    due = [
        jane(committed_tenant, seed=70 + i, recredentialing_due_date=date.today() + timedelta(i))
        for i in range(2)
    ]
    for p in due:
        fake.answer(p.npi, individual(p.npi))
    with tenant_context(committed_tenant.org):
        job = svc.packets_bulk_request(
            org=committed_tenant.org,
            actor=committed_tenant.membership(committed_tenant.coordinator),
            days=120,
        )
    from verifications.selectors.packets import bulk_progress

    def finished():
        with tenant_context(committed_tenant.org):
            progress = bulk_progress(org=committed_tenant.org, bulk_key=job["job"])
        return progress if progress.status in ("done", "failed") else None

    progress = wait_for(finished, what="the bulk job")
    assert progress.status == "done" and progress.started == 2
    with tenant_context(committed_tenant.org):
        packets = list(ReverificationPacket.objects.filter(bulk_key=job["job"]))
    assert {p.provider_id for p in packets} == {p.pk for p in due}
    for packet in packets:
        wait_for(
            lambda packet=packet: (
                set(check_steps(committed_tenant, packet.pk).values()) == {"done"}
            ),
            what="the organization-wide runs to complete the check steps",
        )
