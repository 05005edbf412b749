"""Packet pages and the provider-file block: the coordinator starts a packet with one click,
reads its steps, cancels it, launches the bulk job and follows its progress; the auditor
reads and gets 403 on writes (nothing changes); an outsider gets 404; anonymous is sent to
sign in. The CAQH export page (HTML, CSV, JSON) is audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from tests.factories import make_provider
from tests.test_packets import enqueued, jane  # noqa: F401 - fixtures and builders
from verifications.models import PacketStep, ReverificationPacket, VerificationRequest
from verifications.services import packets as svc


@pytest.fixture
def world(tenant_a, tenant_b, enqueued):  # noqa: F811
    provider = jane(tenant_a)
    running = jane(tenant_a, seed=35, first_name="Ray", last_name="Running")
    with tenant_context(tenant_a.org):
        packet = svc.packet_start(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.coordinator), provider=running
        )
    return {"a": tenant_a, "b": tenant_b, "provider": provider, "packet": packet}


def urls(world):
    slug = world["a"].org.slug
    return {
        "list": f"/o/{slug}/packets/",
        "detail": f"/o/{slug}/packets/{world['packet'].pk}/",
        "start": f"/o/{slug}/packets/start/{world['provider'].pk}/",
        "cancel": f"/o/{slug}/packets/{world['packet'].pk}/cancel/",
        "bulk": f"/o/{slug}/packets/bulk/",
        "provider": f"/o/{slug}/providers/{world['provider'].pk}/",
        "caqh": f"/o/{slug}/caqh/{world['provider'].pk}/",
    }


def state(world):
    with tenant_context(world["a"].org):
        return {
            "packets": sorted(ReverificationPacket.objects.values_list("id", "status")),
            "steps": sorted(PacketStep.objects.values_list("id", "status")),
            "requests": VerificationRequest.objects.count(),
        }


def test_the_coordinator_starts_a_packet_from_the_provider_file_with_one_click(login, world):
    client = login(world["a"].coordinator)
    page = client.get(urls(world)["provider"]).content.decode()
    assert "Re-verification" in page and "Start re-verification packet" in page
    assert "Export CAQH profile" in page

    response = client.post(urls(world)["start"])
    with tenant_context(world["a"].org):
        packet = ReverificationPacket.objects.get(provider=world["provider"])
    assert response.status_code == 302
    assert response["Location"] == f"/o/{world['a'].org.slug}/packets/{packet.pk}/"
    detail = client.get(response["Location"]).content.decode()
    assert "NPPES re-check" in detail and "OIG LEIE screening" in detail
    assert "State license CA A12345" in detail and "Record the verification" in detail
    assert "Upload link sent to jane@clinic.example" in detail
    after = client.get(urls(world)["provider"]).content.decode()
    assert "Start re-verification packet" not in after  # one in progress
    assert "Packet in progress" in after


def test_a_second_start_sends_the_coordinator_to_the_packet_in_progress(login, world):
    client = login(world["a"].coordinator)
    running = world["packet"]
    before = state(world)
    response = client.post(f"/o/{world['a'].org.slug}/packets/start/{running.provider_id}/")
    assert response.status_code == 302 and response["Location"].endswith(f"/{running.pk}/")
    page = client.get(response["Location"]).content.decode()
    assert "already in progress" in page
    assert state(world) == before


def test_the_list_filters_by_status_and_due_in_the_url_and_counts_in_the_heading(login, world):
    client = login(world["a"].coordinator)
    page = client.get(urls(world)["list"]).content.decode()
    assert "Re-verification packets" in page and "Ray Running" in page
    assert "1 packet" in page
    empty = client.get(urls(world)["list"] + "?status=complete").content.decode()
    assert "Ray Running" not in empty and "No packet matches these filters" in empty
    due = client.get(urls(world)["list"] + "?due=120").content.decode()
    assert "Ray Running" in due
    fragment = client.get(
        urls(world)["list"] + "?status=in_progress",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="packets-results",
    ).content.decode()
    assert "Ray Running" in fragment and "<html" not in fragment


def test_an_empty_list_says_what_to_do(login, tenant_a, enqueued):  # noqa: F811
    page = login(tenant_a.coordinator).get(f"/o/{tenant_a.org.slug}/packets/").content.decode()
    assert "No re-verification packets yet" in page and "Start re-verification packet" in page


def test_the_coordinator_cancels_a_packet(login, world):
    client = login(world["a"].coordinator)
    response = client.post(urls(world)["cancel"], {"reason": "left"})
    assert response.status_code == 302
    with tenant_context(world["a"].org):
        assert ReverificationPacket.objects.get(pk=world["packet"].pk).status == "cancelled"


@pytest.mark.parametrize("name", ["list", "detail", "bulk", "provider", "caqh"])
def test_every_role_reads_the_pages(login, world, name):
    a = world["a"]
    for user in (a.owner, a.admin, a.coordinator, a.auditor):
        assert login(user).get(urls(world)[name]).status_code == 200, user.email


def test_the_auditor_sees_no_start_button(login, world):
    page = login(world["a"].auditor).get(urls(world)["provider"]).content.decode()
    assert "Re-verification" in page and "Start re-verification packet" not in page


@pytest.mark.parametrize("name", ["start", "cancel", "bulk"])
def test_the_auditor_gets_403_on_every_write_and_nothing_changes(login, world, name):
    before = state(world)
    response = login(world["a"].auditor).post(urls(world)[name], {"days": 120})
    assert response.status_code == 403
    assert state(world) == before


def test_another_organizations_packet_and_provider_are_not_found_under_ones_own(login, world):
    b = world["b"]
    client = login(b.owner)
    before = state(world)
    assert client.get(f"/o/{b.org.slug}/packets/{world['packet'].pk}/").status_code == 404
    assert client.post(f"/o/{b.org.slug}/packets/start/{world['provider'].pk}/").status_code == 404
    assert client.post(f"/o/{b.org.slug}/packets/{world['packet'].pk}/cancel/").status_code == 404
    assert client.get(f"/o/{b.org.slug}/caqh/{world['provider'].pk}/").status_code == 404
    assert state(world) == before


def test_the_bulk_launch_starts_the_job_and_shows_its_progress(
    login,
    world,
    enqueued,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    client = login(world["a"].coordinator)
    page = client.get(urls(world)["bulk"]).content.decode()
    assert "Jane Doe" in page and "Start 1 packet" in page  # Ray has one in progress
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(urls(world)["bulk"], {"days": "120"})
    assert response.status_code == 302
    (call,) = [kw for kind, kw in enqueued if kind == "bulk"]
    assert response["Location"].endswith(f"/packets/bulk/{call['bulk_key']}/")
    status = client.get(response["Location"]).content.decode()
    assert "Starting packets" in status and 'hx-trigger="every 1s"' in status

    with tenant_context(world["a"].org):
        svc.packets_bulk_run(
            org=world["a"].org,
            actor=world["a"].membership(world["a"].coordinator),
            bulk_key=call["bulk_key"],
            days=120,
        )
    svc._publish_bulk(
        world["a"].org.pk,
        call["bulk_key"],
        status="done",
        processed=1,
        total=1,
        started=1,
        skipped=0,
    )
    fragment = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "1 packet started" in fragment and "every 1s" not in fragment
    # another organization cannot read this job's progress
    b = world["b"]
    url = f"/o/{b.org.slug}/packets/bulk/{call['bulk_key']}/"
    assert login(b.owner).get(url).status_code == 404


def test_a_bulk_launch_with_nobody_due_says_so_and_starts_nothing(login, world, enqueued):  # noqa: F811
    with tenant_context(world["a"].org):
        from roster.models import Provider

        Provider.objects.update(recredentialing_due_date=date.today() + timedelta(days=400))
    before = state(world)
    response = login(world["a"].coordinator).post(urls(world)["bulk"], {"days": "120"})
    assert response.status_code == 400
    assert "No provider" in response.content.decode()
    assert state(world) == before and not [k for k, _ in enqueued if k == "bulk"]


def test_the_caqh_page_and_downloads_are_audited(login, world):
    client = login(world["a"].auditor)
    page = client.get(urls(world)["caqh"]).content.decode()
    assert "CAQH ProView profile" in page and "A12345" in page
    csv_response = client.get(urls(world)["caqh"] + "?format=csv")
    assert csv_response["Content-Type"].startswith("text/csv")
    assert "attachment" in csv_response["Content-Disposition"]
    json_response = client.get(urls(world)["caqh"] + "?format=json")
    assert json_response.json()["sections"]["licenses"][0]["number"] == "A12345"
    with tenant_context(world["a"].org):
        formats = sorted(
            AuditEvent.objects.filter(action="roster.caqh.exported").values_list(
                "data__format", flat=True
            )
        )
    assert formats == ["csv", "html", "json"]


def test_a_provider_without_any_packet_shows_the_one_click_start(login, tenant_a, enqueued):  # noqa: F811
    p = make_provider(tenant_a.org, seed=77)
    page = login(tenant_a.coordinator).get(f"/o/{tenant_a.org.slug}/providers/{p.pk}/")
    text = page.content.decode()
    assert "No re-verification packet yet" in text and "Start re-verification packet" in text
