# ruff: noqa: F811  (fixtures imported from tests.test_packets)
"""Issue 10.2: a packet step's status follows its outcome.

A step is done only when its record says "verified". An OIG discrepancy (the provider is on
the LEIE sample), an NPPES "unable to verify" (the registry does not know the NPI) or a
queue item answered with a discrepancy make the step "needs attention", with the reason and
a link to the record, on the page, in the API and in the packet's completion: the packet is
not complete while any step needs attention. A later verified record settles the step.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from roster.models import UploadLink
from roster.services.documents.links import upload_link_upload
from screening.loaders import load_dataset
from screening.nppes import services as nppes
from screening.services import screening_run_now
from tests.factories import pdf_bytes
from tests.fixtures_nppes import individual
from tests.test_packets import enqueued, fake, jane, packet_of, start, step  # noqa: F401
from verifications.models import VerificationRequest
from verifications.services.records import verification_record

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures_screening"
SAM_AS_OF = date(2023, 11, 22)  # the sample's newest Creation_Date (its name has no date)
ALI_NPI = "1790709913"  # on the LEIE exclusion sample


@pytest.fixture
def lists(db):
    # The supplement sample is from October 2016: the list under it must not be newer
    # (a supplement older than the active list is refused).
    load_dataset(
        source="leie", origin=str(FIXTURES / "UPDATED_head_2026.csv"), as_of=date(2016, 10, 1)
    )
    load_dataset(source="leie", origin=str(FIXTURES / "1610EXCL.csv"))
    load_dataset(
        source="sam", origin=str(FIXTURES / "extract_v2_sample_2023-11.csv"), as_of=SAM_AS_OF
    )


def events(tenant, action):
    with tenant_context(tenant.org):
        return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def test_an_nppes_unable_to_verify_needs_attention_and_a_later_match_makes_it_done(
    tenant_a, enqueued, fake
):
    provider = jane(tenant_a)
    packet = start(tenant_a, provider)
    with tenant_context(tenant_a.org):  # the fake registry does not know the NPI
        nppes.nppes_refresh(org=tenant_a.org, provider_ids=[provider.pk], trigger="packet")
    (nppes_step,) = step(tenant_a, packet, "nppes")
    assert nppes_step.status == "needs_attention"
    assert "unable to verify" in nppes_step.detail["attention"]
    (event,) = events(tenant_a, "verifications.packet.step_needs_attention")
    assert event.data["result"] == "unable" and event.source == "NPPES"
    assert not events(tenant_a, "verifications.packet.step_done")

    fake.answer(provider.npi, individual(provider.npi))
    with tenant_context(tenant_a.org):
        nppes.nppes_refresh(org=tenant_a.org, provider_ids=[provider.pk], trigger="packet")
    (nppes_step,) = step(tenant_a, packet, "nppes")
    assert nppes_step.status == "done" and "attention" not in nppes_step.detail


def test_an_oig_discrepancy_needs_attention_while_a_clean_sam_result_is_done(
    tenant_a, enqueued, lists
):
    provider = jane(tenant_a, npi=ALI_NPI, first_name="Muhammad", last_name="Ali")
    packet = start(tenant_a, provider)
    with tenant_context(tenant_a.org):
        screening_run_now(org=tenant_a.org, provider=provider)
    (oig,), (sam,) = step(tenant_a, packet, "oig"), step(tenant_a, packet, "sam")
    assert oig.status == "needs_attention" and oig.verification_id is not None
    assert "discrepancy" in oig.detail["attention"]
    assert sam.status == "done"


def _finish_everything_but(tenant, packet, provider, fake, *, failing_kind: str):
    """Answer every step verified except the queue item of `failing_kind`, which is answered
    with a discrepancy. Returns that queue item."""
    coordinator = tenant.membership(tenant.coordinator)
    fake.answer(provider.npi, individual(provider.npi))
    with tenant_context(tenant.org):
        nppes.nppes_refresh(org=tenant.org, provider_ids=[provider.pk], trigger="packet")
        screening_run_now(org=tenant.org, provider=provider)
        link = UploadLink.objects.get(pk=packet_of(tenant, packet).upload_link_id)
        for kind in ("cv", "malpractice", "attestation"):
            upload_link_upload(
                org=tenant.org, link=link, kind=kind, file=SimpleUploadedFile("d.pdf", pdf_bytes())
            )
        failing = None
        for request in VerificationRequest.objects.filter(packet=packet).select_related(
            "credential"
        ):
            bad = request.credential.kind == failing_kind
            failing = request if bad else failing
            verification_record(
                org=tenant.org,
                actor=coordinator,
                provider=provider,
                credential=request.credential,
                source=request.source,
                method="web",
                result="discrepancy" if bad else "verified",
                details="Board lists the licence as on probation." if bad else "",
                request=request,
            )
    return failing


def test_the_packet_is_not_complete_while_a_step_needs_attention(tenant_a, enqueued, lists, fake):
    provider = jane(tenant_a)
    packet = start(tenant_a, provider)
    failing = _finish_everything_but(tenant_a, packet, provider, fake, failing_kind="state_license")
    assert packet_of(tenant_a, packet).status == "in_progress"
    assert not events(tenant_a, "verifications.packet.completed")
    (bad,) = [s for s in step(tenant_a, packet, "verification") if s.request_id == failing.pk]
    assert bad.status == "needs_attention"
    assert "on probation" in bad.detail["attention"]

    # A new verified record of the same licence (the queue item is closed by now) settles it.
    with tenant_context(tenant_a.org):
        verification_record(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.coordinator),
            provider=provider,
            credential=failing.credential,
            source=failing.source,
            method="web",
            result="verified",
        )
    (bad,) = [s for s in step(tenant_a, packet, "verification") if s.request_id == failing.pk]
    assert bad.status == "done"
    assert packet_of(tenant_a, packet).status == "complete"
    (completed,) = events(tenant_a, "verifications.packet.completed")
    assert completed.data["steps"]["done"] == 8 and completed.data["steps"]["needs_attention"] == 0


def test_the_page_shows_needs_attention_with_the_reason_and_a_link_not_done(
    tenant_a, enqueued, fake, login
):
    provider = jane(tenant_a)
    packet = start(tenant_a, provider)
    with tenant_context(tenant_a.org):
        nppes.nppes_refresh(org=tenant_a.org, provider_ids=[provider.pk], trigger="packet")
    client = login(tenant_a.coordinator)
    html = client.get(f"/o/{tenant_a.org.slug}/packets/{packet.pk}/").content.decode()
    start_at = html.index("NPPES re-check")
    item = html[html.rindex("<li", 0, start_at) : html.index("</li>", start_at)]
    assert "Needs attention" in item and "✓" not in item and "Done" not in item
    assert "unable to verify" in item
    assert f"/screening/nppes/provider/{provider.pk}/" in item
    assert "1 step needs attention" in html
    listing = client.get(f"/o/{tenant_a.org.slug}/packets/").content.decode()
    assert "1 needs attention" in listing
    file_html = client.get(f"/o/{tenant_a.org.slug}/providers/{provider.pk}/").content.decode()
    mini = file_html[file_html.index('id="s-packet"') :]
    assert "Needs attention" in mini[: mini.index("</section>")]


def test_the_api_reports_the_step_as_needing_attention_with_reason_and_record(
    tenant_a, tenant_b, enqueued, fake, login
):
    provider = jane(tenant_a)
    packet = start(tenant_a, provider)
    with tenant_context(tenant_a.org):
        nppes.nppes_refresh(org=tenant_a.org, provider_ids=[provider.pk], trigger="packet")
    body = login(tenant_a.coordinator).get(f"/api/v1/packets/{packet.pk}").json()
    (nppes_step,) = [s for s in body["steps"] if s["kind"] == "nppes"]
    assert nppes_step["status"] == "needs_attention" and nppes_step["needs_attention"] is True
    assert "unable to verify" in nppes_step["attention_reason"]
    assert nppes_step["record_url"].endswith(f"/screening/nppes/provider/{provider.pk}/")
    assert body["status"] == "in_progress" and body["steps_needing_attention"] == 1
    listed = login(tenant_a.coordinator).get("/api/v1/packets").json()
    assert listed["results"][0]["steps_needing_attention"] == 1
    outsider = login(tenant_b.owner).get(f"/api/v1/packets/{packet.pk}")
    assert outsider.status_code == 404
