"""Re-verification packets (services): start -> steps, queue items and the upload link;
each step kind completing (NPPES, OIG/SAM, a queue item, documents); the packet completing;
a second start refused with nothing written; cancel; the bulk job for everyone due."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEvent
from credex.errors import Conflict, Forbidden, InvalidInput
from credex.tenancy import tenant_context
from roster.models import Credential, UploadLink
from roster.services.documents import document_upload
from roster.services.documents.links import upload_link_upload
from screening.loaders import load_dataset
from screening.nppes import services as nppes
from screening.services import screening_run_now
from tests.conftest import own_queue
from tests.factories import make_provider, pdf_bytes
from tests.fixtures_nppes import FakeNppes, individual, use_fake
from tests.waiting import published_tasks
from verifications.models import (
    PacketStep,
    ReverificationPacket,
    Verification,
    VerificationRequest,
)
from verifications.selectors.packets import providers_due
from verifications.services import packets as svc
from verifications.services.records import verification_record

FIXTURES = Path(__file__).parent / "fixtures_screening"
SAM_AS_OF = date(2023, 11, 22)  # the sample's newest Creation_Date (its name has no date)
TODAY = date.today()


# The tasks a packet asks for, by the short names the tests below use.
KINDS = {
    "screening.run_provider": "screen",
    "screening.run_org": "org",
    "nppes.refresh.org": "nppes",
    "verifications.packets.bulk_start": "bulk",
}


class _Enqueued:
    """(kind, kwargs) of each of those tasks published so far, in order."""

    def __init__(self, published):
        self.published = published

    def __iter__(self):
        return iter([(KINDS[name], kw) for name, kw in self.published if name in KINDS])


@pytest.fixture
def enqueued():
    """The Celery sends the packet's on-commit callbacks make, really published to the broker,
    on a queue of this test's own that no worker takes (the broker is shared with other test
    processes), and read back as they were handed to it."""
    with own_queue() as queue, published_tasks(queue) as published:
        yield _Enqueued(published)


@pytest.fixture
def lists(db):
    load_dataset(source="leie", origin=str(FIXTURES / "UPDATED_head_2026.csv"))
    load_dataset(
        source="sam", origin=str(FIXTURES / "extract_v2_sample_2023-11.csv"), as_of=SAM_AS_OF
    )


@pytest.fixture
def fake(settings):
    server = FakeNppes().start()
    use_fake(settings, server, retries=1)
    yield server
    server.stop()


def jane(tenant, seed=31, **fields):
    """A provider due for re-credentialing with four credentials a packet re-verifies,
    a life-support card it does not, and an inactive license it skips."""
    coordinator = tenant.membership(tenant.coordinator)
    defaults = {
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "jane@clinic.example",
        "coordinator": coordinator,
        "recredentialing_due_date": TODAY + timedelta(days=60),
        "primary_taxonomy_id": "207R00000X",
        "taxonomy_codes": ["207R00000X"],
        "address_line1": "100 Main Street",
        "city": "Sacramento",
        "state": "CA",
        "postal_code": "95814",
    }
    provider = make_provider(tenant.org, seed=seed, **{**defaults, **fields})
    far = TODAY + timedelta(days=700)
    with tenant_context(tenant.org):
        for kind, extra in [
            ("state_license", {"state": "CA", "number": "A12345"}),
            ("dea", {"number": "BD1234563"}),
            ("board_cert", {"details": {"board": "ABIM"}}),
            ("malpractice", {"details": {"carrier": "MedPro"}}),
            ("life_support", {}),
            ("state_license", {"state": "NV", "number": "OLD1", "status": "inactive"}),
        ]:
            Credential.objects.create(
                organization=tenant.org,
                provider=provider,
                kind=kind,
                issue_date=date(2020, 1, 1),
                expiry_date=far,
                **extra,
            )
    return provider


def start(tenant, provider, user=None, **kw):
    with tenant_context(tenant.org):
        return svc.packet_start(
            org=tenant.org,
            actor=tenant.membership(user or tenant.coordinator),
            provider=provider,
            **kw,
        )


def steps_of(tenant, packet):
    with tenant_context(tenant.org):
        return {
            (s.kind, s.label): s
            for s in PacketStep.objects.filter(packet=packet).select_related("request")
        }


def packet_of(tenant, packet):
    with tenant_context(tenant.org):
        return ReverificationPacket.objects.get(pk=packet.pk)


def actions(tenant, prefix="verifications.packet."):
    with tenant_context(tenant.org):
        return list(
            AuditEvent.objects.filter(action__startswith=prefix)
            .order_by("seq")
            .values_list("action", flat=True)
        )


# --- starting --------------------------------------------------------------------------------


def test_starting_a_packet_creates_its_steps_opens_queue_items_and_sends_the_upload_link(
    tenant_a, enqueued, mailoutbox, django_capture_on_commit_callbacks
):
    provider = jane(tenant_a)
    with django_capture_on_commit_callbacks(execute=True):
        packet = start(tenant_a, provider)

    steps = steps_of(tenant_a, packet)
    kinds = sorted(kind for kind, _ in steps)
    assert kinds == ["documents", "nppes", "oig", "sam", *["verification"] * 4]
    assert all(s.status == "pending" for s in steps.values())
    labels = {label for kind, label in steps if kind == "verification"}
    assert labels == {
        "State license CA A12345",
        "DEA registration BD1234563",
        "Board certification",
        "Malpractice insurance",
    }
    with tenant_context(tenant_a.org):
        requests = list(VerificationRequest.objects.filter(packet=packet))
        link = UploadLink.objects.get(pk=packet_of(tenant_a, packet).upload_link_id)
    assert sorted(r.source for r in requests) == [
        "board",
        "dea",
        "malpractice_carrier",
        "state_board",
    ]
    assert all(r.status == "open" for r in requests)
    assert all(r.assigned_to_id == provider.coordinator_id for r in requests)
    assert {r.source_state for r in requests if r.source == "state_board"} == {"CA"}
    assert link.requested_kinds == ["cv", "malpractice", "attestation"]
    assert [m.to for m in mailoutbox] == [["jane@clinic.example"]]
    # the NPPES re-check and the provider's screening were requested on commit
    assert sorted(kind for kind, _ in enqueued) == ["nppes", "screen"]
    (started,) = actions(tenant_a)
    assert started == "verifications.packet.started"
    with tenant_context(tenant_a.org):
        event = AuditEvent.objects.get(action="verifications.packet.started")
    assert len(event.data["steps"]) == 8 and event.data["at"]
    assert event.data["upload_link"] == str(link.pk)


def test_a_second_start_while_one_is_in_progress_is_a_conflict_and_writes_nothing(
    tenant_a, enqueued
):
    provider = jane(tenant_a)
    first = start(tenant_a, provider)
    with tenant_context(tenant_a.org):
        before = (
            ReverificationPacket.objects.count(),
            PacketStep.objects.count(),
            VerificationRequest.objects.count(),
            UploadLink.objects.count(),
            AuditEvent.objects.count(),
        )
    with pytest.raises(Conflict) as exc:
        start(tenant_a, provider)
    assert exc.value.code == "packet_in_progress"
    assert exc.value.details["packet"] == str(first.pk)
    assert exc.value.details["url"].endswith(f"/packets/{first.pk}/")
    with tenant_context(tenant_a.org):
        after = (
            ReverificationPacket.objects.count(),
            PacketStep.objects.count(),
            VerificationRequest.objects.count(),
            UploadLink.objects.count(),
            AuditEvent.objects.count(),
        )
    assert after == before


def test_the_auditor_cannot_start_a_packet(tenant_a, enqueued):
    provider = jane(tenant_a)
    with pytest.raises(Forbidden):
        start(tenant_a, provider, user=tenant_a.auditor)
    with tenant_context(tenant_a.org):
        assert not ReverificationPacket.objects.exists()


def test_an_open_queue_item_is_reused_not_duplicated(tenant_a, enqueued):
    provider = jane(tenant_a)
    with tenant_context(tenant_a.org):
        license_ = Credential.objects.get(provider=provider, kind="dea")
        existing = VerificationRequest.objects.create(
            organization=tenant_a.org, provider=provider, credential=license_, source="dea"
        )
    packet = start(tenant_a, provider)
    with tenant_context(tenant_a.org):
        existing.refresh_from_db()
        dea_requests = VerificationRequest.objects.filter(credential=license_)
        assert dea_requests.count() == 1
        assert existing.packet_id == packet.pk
    step = steps_of(tenant_a, packet)[("verification", "DEA registration BD1234563")]
    assert step.request_id == existing.pk and step.detail["reused_request"] is True


def test_a_credential_verified_recently_and_not_expiring_is_not_due(tenant_a, enqueued):
    provider = jane(tenant_a)
    with tenant_context(tenant_a.org):
        dea = Credential.objects.get(provider=provider, kind="dea")
        board = Credential.objects.get(provider=provider, kind="board_cert")
        board.expiry_date = TODAY + timedelta(days=90)  # expiring: due despite a record
        board.save()
        coordinator = tenant_a.membership(tenant_a.coordinator)
        for credential, source in ((dea, "dea"), (board, "board")):
            verification_record(
                org=tenant_a.org,
                actor=coordinator,
                provider=provider,
                credential=credential,
                source=source,
                method="web",
                result="verified",
            )
        due = svc.credentials_due(org=tenant_a.org, provider=provider)
    assert {c.kind for c in due} == {"state_license", "board_cert", "malpractice"}


def test_without_an_email_the_documents_step_fails_and_says_to_send_the_link_yourself(
    tenant_a, enqueued, mailoutbox, django_capture_on_commit_callbacks
):
    provider = jane(tenant_a, email="")
    with django_capture_on_commit_callbacks(execute=True):
        packet = start(tenant_a, provider)
    step = steps_of(tenant_a, packet)[
        (
            "documents",
            next(label for kind, label in steps_of(tenant_a, packet) if kind == "documents"),
        )
    ]
    assert step.status == "failed" and step.detail["reason"] == svc.NO_EMAIL
    assert packet_of(tenant_a, packet).upload_link_id is None
    assert mailoutbox == []


def test_a_provider_without_an_npi_gets_the_nppes_step_skipped(tenant_a, enqueued):
    provider = jane(tenant_a, npi="")
    packet = start(tenant_a, provider)
    nppes_step = [s for (kind, _), s in steps_of(tenant_a, packet).items() if kind == "nppes"][0]
    assert nppes_step.status == "skipped"
    # No NPPES check is asked for; the screening run is published with its row (a person
    # asked), the rest only on commit, which does not happen here.
    assert [k for k, _ in enqueued] == ["screen"]


# --- steps completing -------------------------------------------------------------------------


def step(tenant, packet, kind):
    return [s for (k, _), s in steps_of(tenant, packet).items() if k == kind]


def test_the_nppes_step_completes_when_the_check_writes_its_record(tenant_a, enqueued, fake):
    provider = jane(tenant_a)
    packet = start(tenant_a, provider)
    fake.answer(provider.npi, individual(provider.npi))
    with tenant_context(tenant_a.org):
        nppes.nppes_refresh(org=tenant_a.org, provider_ids=[provider.pk], trigger="packet")
        record = Verification.objects.get(provider=provider, source="nppes")
    (done,) = step(tenant_a, packet, "nppes")
    assert done.status == "done" and done.verification_id == record.pk
    with tenant_context(tenant_a.org):
        event = AuditEvent.objects.get(action="verifications.packet.step_done")
    assert event.source == "NPPES" and event.actor_kind == "system"
    assert event.data["verification"] == str(record.pk) and event.data["at"]


def test_the_oig_and_sam_steps_complete_when_the_screening_results_arrive(
    tenant_a, enqueued, lists
):
    provider = jane(tenant_a)
    other = start(tenant_a, jane(tenant_a, seed=32, first_name="Other"))
    packet = start(tenant_a, provider)
    with tenant_context(tenant_a.org):
        screening_run_now(org=tenant_a.org, provider=provider)
    (oig,), (sam,) = step(tenant_a, packet, "oig"), step(tenant_a, packet, "sam")
    assert oig.status == sam.status == "done"
    with tenant_context(tenant_a.org):
        assert oig.verification.source == "oig" and sam.verification.source == "sam"
        sources = set(
            AuditEvent.objects.filter(action="verifications.packet.step_done").values_list(
                "source", flat=True
            )
        )
    assert sources == {"OIG", "SAM"}
    # the other provider's packet was not screened by this run
    assert step(tenant_a, other, "oig")[0].status == "pending"


def test_a_queue_item_step_completes_when_its_verification_is_recorded(tenant_a, enqueued):
    provider = jane(tenant_a)
    packet = start(tenant_a, provider)
    (license_step,) = [
        s for s in step(tenant_a, packet, "verification") if s.label.startswith("State")
    ]
    with tenant_context(tenant_a.org):
        request = VerificationRequest.objects.get(pk=license_step.request_id)
        record = verification_record(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.coordinator),
            provider=provider,
            credential=request.credential,
            source="state_board",
            method="web",
            result="verified",
            request=request,
        )
        request.refresh_from_db()
        license_step.refresh_from_db()
        event = AuditEvent.objects.get(action="verifications.packet.step_done")
    assert request.status == "completed"
    assert license_step.status == "done" and license_step.verification_id == record.pk
    assert event.actor_label == tenant_a.coordinator.email and event.source == "state_board"


def test_the_documents_step_completes_when_every_requested_kind_has_arrived(tenant_a, enqueued):
    provider = jane(tenant_a)
    packet = start(tenant_a, provider)
    packet = packet_of(tenant_a, packet)
    with tenant_context(tenant_a.org):
        link = UploadLink.objects.get(pk=packet.upload_link_id)
        for kind in ("cv", "malpractice"):
            upload_link_upload(
                org=tenant_a.org,
                link=link,
                kind=kind,
                file=SimpleUploadedFile(f"{kind}.pdf", pdf_bytes()),
            )
    (docs,) = step(tenant_a, packet, "documents")
    assert docs.status == "pending" and docs.detail["received"] == ["cv", "malpractice"]
    with tenant_context(tenant_a.org):
        upload_link_upload(
            org=tenant_a.org,
            link=link,
            kind="attestation",
            file=SimpleUploadedFile("attestation.pdf", pdf_bytes()),
        )
        event = AuditEvent.objects.get(action="verifications.packet.step_done")
    (docs,) = step(tenant_a, packet, "documents")
    assert docs.status == "done"
    assert event.source == "provider upload link" and event.actor_kind == "provider_link"


def test_a_failed_documents_step_is_done_when_a_member_uploads_the_documents(tenant_a, enqueued):
    provider = jane(tenant_a, email="")
    packet = start(tenant_a, provider)
    with tenant_context(tenant_a.org):
        for kind in ("cv", "malpractice", "attestation", "license"):
            document_upload(
                org=tenant_a.org,
                actor=tenant_a.membership(tenant_a.coordinator),
                provider=provider,
                kind=kind,
                file=SimpleUploadedFile(f"{kind}.pdf", pdf_bytes()),
            )
    (docs,) = step(tenant_a, packet, "documents")
    assert docs.status == "done"


def test_the_packet_completes_when_every_step_is_done_and_it_is_audited(
    tenant_a, enqueued, lists, fake
):
    provider = jane(tenant_a)
    packet = start(tenant_a, provider)
    packet = packet_of(tenant_a, packet)
    coordinator = tenant_a.membership(tenant_a.coordinator)
    fake.answer(provider.npi, individual(provider.npi))
    with tenant_context(tenant_a.org):
        nppes.nppes_refresh(org=tenant_a.org, provider_ids=[provider.pk], trigger="packet")
        screening_run_now(org=tenant_a.org, provider=provider)
        link = UploadLink.objects.get(pk=packet.upload_link_id)
        for kind in ("cv", "malpractice", "attestation"):
            upload_link_upload(
                org=tenant_a.org,
                link=link,
                kind=kind,
                file=SimpleUploadedFile("d.pdf", pdf_bytes()),
            )
        requests = list(
            VerificationRequest.objects.filter(packet=packet).select_related("credential")
        )
    for i, request in enumerate(requests):
        assert packet_of(tenant_a, packet).status == "in_progress"
        with tenant_context(tenant_a.org):
            verification_record(
                org=tenant_a.org,
                actor=coordinator,
                provider=provider,
                credential=request.credential,
                source=request.source,
                method="web",
                result="verified",
                request=request,
            )
    done = packet_of(tenant_a, packet)
    assert done.status == "complete" and done.completed_at is not None
    events = actions(tenant_a)
    assert events[0] == "verifications.packet.started"
    assert events.count("verifications.packet.step_done") == 8
    assert events[-1] == "verifications.packet.completed"
    with tenant_context(tenant_a.org):
        completed = AuditEvent.objects.get(action="verifications.packet.completed")
    assert completed.data["steps"]["done"] == 8


def test_cancelling_skips_the_pending_steps_and_a_new_packet_can_start(tenant_a, enqueued):
    provider = jane(tenant_a)
    packet = start(tenant_a, provider)
    with tenant_context(tenant_a.org):
        svc.packet_cancel(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.coordinator),
            packet=packet,
            reason="left",
        )
        with pytest.raises(Conflict):
            svc.packet_cancel(
                org=tenant_a.org, actor=tenant_a.membership(tenant_a.coordinator), packet=packet
            )
    assert packet_of(tenant_a, packet).status == "cancelled"
    assert {s.status for s in steps_of(tenant_a, packet).values()} == {"skipped"}
    assert "verifications.packet.cancelled" in actions(tenant_a)
    again = start(tenant_a, provider)
    assert again.pk != packet.pk


# --- bulk ---------------------------------------------------------------------------------


def test_the_bulk_job_starts_a_packet_for_everyone_due_and_is_audited_once_with_counts(
    tenant_a, enqueued, django_capture_on_commit_callbacks
):
    due = [
        jane(tenant_a, seed=40 + i, recredentialing_due_date=TODAY + timedelta(days=10 * i))
        for i in range(3)
    ]
    overdue = jane(tenant_a, seed=50, recredentialing_due_date=TODAY - timedelta(days=5))
    later = jane(tenant_a, seed=51, recredentialing_due_date=TODAY + timedelta(days=300))
    busy = jane(tenant_a, seed=52)
    start(tenant_a, busy)
    coordinator = tenant_a.membership(tenant_a.coordinator)
    with tenant_context(tenant_a.org):
        assert providers_due(org=tenant_a.org, days=120).count() == 4
        with django_capture_on_commit_callbacks(execute=True):
            job = svc.packets_bulk_request(org=tenant_a.org, actor=coordinator, days=120)
    assert job["due"] == 4
    (bulk_call,) = [kw for kind, kw in enqueued if kind == "bulk"]
    assert bulk_call["bulk_key"] == job["job"] and bulk_call["actor_id"] == str(coordinator.pk)

    with tenant_context(tenant_a.org):
        state = svc.packets_bulk_run(
            org=tenant_a.org, actor=coordinator, bulk_key=job["job"], days=120
        )
        packets = ReverificationPacket.objects.filter(bulk_key=job["job"])
        started_for = set(packets.values_list("provider_id", flat=True))
        completed = AuditEvent.objects.get(action="verifications.packet.bulk_completed")
        starts = AuditEvent.objects.filter(action="verifications.packet.started").count()
        # the bulk job asks for one organization-wide screening run and NPPES refresh
        from screening.models import ScreeningRun
        from screening.nppes.models import NppesRun

        org_run = ScreeningRun.objects.filter(provider__isnull=True).count()
        nppes_run = NppesRun.objects.filter(provider__isnull=True).count()
    assert state["started"] == 4 and state["skipped"] == 0
    assert started_for == {p.pk for p in [*due, overdue]}
    assert later.pk not in started_for
    assert completed.data["started"] == 4 and completed.data["due"] == 4
    assert starts == 5  # one per packet (4 bulk + the one already running)
    assert org_run == 1 and nppes_run == 1


def test_a_bulk_request_with_nobody_due_is_refused(tenant_a, enqueued):
    jane(tenant_a, recredentialing_due_date=TODAY + timedelta(days=400))
    with tenant_context(tenant_a.org), pytest.raises(InvalidInput):
        svc.packets_bulk_request(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.coordinator), days=120
        )
    assert [k for k, _ in enqueued] == []


# --- demo data ------------------------------------------------------------------------------


def test_the_demo_psv_log_requests_and_packets_are_seeded_once(
    tenant_a, enqueued, mailoutbox, django_capture_on_commit_callbacks
):
    from demo.seeders.roster import seed_demo_roster
    from demo.seeders.verifications import seed_demo_verifications

    owner = tenant_a.membership(tenant_a.owner)
    with tenant_context(tenant_a.org):
        seed_demo_roster(tenant_a.org, owner, count=120)
        with django_capture_on_commit_callbacks(execute=True):
            counts = seed_demo_verifications(tenant_a.org, owner)
        assert seed_demo_verifications(tenant_a.org, owner) == {}  # idempotent
        log = list(Verification.objects.all())
        requests = list(VerificationRequest.objects.exclude(packet__isnull=False))
        packets = list(ReverificationPacket.objects.all())
        events = AuditEvent.objects.filter(action__startswith="verifications.verification.")
        recorded = events.count()
    assert counts["verifications"] > 100 and counts["corrections"] == 4
    assert len(log) == counts["verifications"] + 4
    assert recorded == len(log)  # one audit event per record, like verification_record
    results = {v.result for v in log}
    assert results == {"verified", "discrepancy"}
    assert sum(1 for v in log if v.supersedes_id) == 4
    assert all(v.verified_at <= timezone.now() for v in log)
    oldest = min(v.verified_at for v in log)
    assert (timezone.now() - oldest).days <= 111  # 45-110 days ago (before the demo committee)
    assert min((timezone.now() - v.verified_at).days for v in log if not v.supersedes_id) >= 44
    assert {r.status for r in requests} == {"requested"} and len(requests) == 2
    assert {r.method for r in requests} == {"email", "fax"}
    assert any(r.due_date < date.today() for r in requests)  # one overdue
    assert len(packets) == 3 and {p.status for p in packets} == {"in_progress"}
    assert [kind for kind, _ in enqueued] == []  # the demo requests no live checks
