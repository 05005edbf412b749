"""Packets API and the CAQH API: start (201 with steps, 409 when one is in progress), list
with filters, read, cancel, bulk start and its progress; coordinator acts, auditor 403 on
writes (nothing changes), outsider 404, anonymous 401."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from credex.services import api_key_create
from credex.tenancy import tenant_context
from tests.test_packets import enqueued, jane  # noqa: F401 - fixtures and builders
from verifications.models import PacketStep, ReverificationPacket


@pytest.fixture
def world(tenant_a, tenant_b, enqueued):  # noqa: F811
    provider = jane(tenant_a)
    other = jane(tenant_a, seed=36, first_name="Ray", last_name="Running")
    with tenant_context(tenant_a.org):
        owner = tenant_a.membership(tenant_a.owner)
        keys = {
            role: api_key_create(org=tenant_a.org, actor=owner, name=role, role=role)[1]
            for role in ("coordinator", "auditor")
        }
    with tenant_context(tenant_b.org):
        _, raw_b = api_key_create(
            org=tenant_b.org, actor=tenant_b.membership(tenant_b.owner), name="b", role="admin"
        )
    return {
        "a": tenant_a,
        "provider": provider,
        "other": other,
        "keys": {**keys, "outsider": raw_b},
        "sent": enqueued,
    }


def call(client, world, method, path, body=None, *, role="coordinator", **extra):
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {world['keys'][role]}"} if role else {}
    return client.generic(
        method,
        f"/api/v1/{path}",
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        **headers,
        **extra,
    )


def packets(world):
    with tenant_context(world["a"].org):
        return sorted(ReverificationPacket.objects.values_list("id", "status"))


def test_the_coordinator_starts_a_packet_and_reads_it_with_its_steps(client, world):
    response = call(client, world, "POST", f"providers/{world['provider'].pk}/packets", {})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "in_progress" and body["provider"] == str(world["provider"].pk)
    assert body["steps_total"] == 8 and body["steps_done"] == 0
    kinds = sorted(s["kind"] for s in body["steps"])
    assert kinds == ["documents", "nppes", "oig", "sam", *["verification"] * 4]
    assert all(s["request"] for s in body["steps"] if s["kind"] == "verification")
    assert body["started_by"] is None  # an API key started it
    again = call(client, world, "GET", f"packets/{body['id']}").json()
    assert again["id"] == body["id"] and len(again["steps"]) == 8


def test_a_second_start_is_409_naming_the_packet_and_nothing_changes(client, world):
    first = call(client, world, "POST", f"providers/{world['provider'].pk}/packets", {}).json()
    before = packets(world)
    response = call(client, world, "POST", f"providers/{world['provider'].pk}/packets", {})
    assert response.status_code == 409
    assert response.json()["code"] == "packet_in_progress"
    assert response.json()["details"]["packet"] == first["id"]
    assert packets(world) == before


def test_the_list_filters_by_status_and_provider(client, world):
    call(client, world, "POST", f"providers/{world['provider'].pk}/packets", {})
    made = call(client, world, "POST", f"providers/{world['other'].pk}/packets", {}).json()
    call(client, world, "POST", f"packets/{made['id']}/cancel", {"reason": "x"})
    rows = call(client, world, "GET", "packets").json()["results"]
    assert len(rows) == 2
    cancelled = call(client, world, "GET", "packets?status=cancelled").json()["results"]
    assert [r["id"] for r in cancelled] == [made["id"]]
    mine = call(client, world, "GET", f"packets?provider={world['provider'].pk}").json()
    assert [r["provider"] for r in mine["results"]] == [str(world["provider"].pk)]
    bad = call(client, world, "GET", "packets?status=nope")
    assert bad.status_code == 400 and set(bad.json()) == {"code", "message", "details"}


def test_cancel_skips_pending_steps_and_a_second_cancel_is_409(client, world):
    made = call(client, world, "POST", f"providers/{world['provider'].pk}/packets", {}).json()
    response = call(client, world, "POST", f"packets/{made['id']}/cancel", {"reason": "left"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert {s["status"] for s in response.json()["steps"]} == {"skipped"}
    assert call(client, world, "POST", f"packets/{made['id']}/cancel", {}).status_code == 409


def test_the_bulk_start_is_202_and_its_progress_is_readable(client, world):
    response = call(client, world, "POST", "packets/bulk", {"days": 120})
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["due"] == 2 and job["status_url"] == f"/api/v1/packets/bulk/{job['job']}"
    (sent,) = [kw for kind, kw in world["sent"] if kind == "bulk"] or [None]
    assert sent is None  # sent only when the request's transaction commits
    progress = call(client, world, "GET", f"packets/bulk/{job['job']}").json()
    assert progress["status"] == "queued" and progress["total"] == 2
    assert call(client, world, "GET", "packets/bulk/unknown-job").status_code == 404
    invalid = call(client, world, "POST", "packets/bulk", {"days": 0})
    assert invalid.status_code == 400


def test_the_auditor_gets_403_on_writes_and_nothing_changes(client, world):
    made = call(client, world, "POST", f"providers/{world['other'].pk}/packets", {}).json()
    before = packets(world)
    for path, body in (
        (f"providers/{world['provider'].pk}/packets", {}),
        (f"packets/{made['id']}/cancel", {}),
        ("packets/bulk", {"days": 120}),
    ):
        assert call(client, world, "POST", path, body, role="auditor").status_code == 403
    assert packets(world) == before
    assert call(client, world, "GET", f"packets/{made['id']}", role="auditor").status_code == 200


def test_an_outsider_gets_404_for_every_packet_route_and_nothing_changes(client, world):
    made = call(client, world, "POST", f"providers/{world['other'].pk}/packets", {}).json()
    job = call(client, world, "POST", "packets/bulk", {"days": 120}).json()
    before = packets(world)
    for method, path, body in (
        ("GET", f"packets/{made['id']}", None),
        ("POST", f"packets/{made['id']}/cancel", {}),
        ("POST", f"providers/{world['provider'].pk}/packets", {}),
        ("GET", f"packets/bulk/{job['job']}", None),
        ("GET", f"providers/{world['provider'].pk}/caqh", None),
    ):
        response = call(client, world, method, path, body, role="outsider")
        assert response.status_code == 404, (method, path)
    assert call(client, world, "GET", "packets", role="outsider").json()["results"] == []
    assert packets(world) == before


def test_anonymous_gets_401(client, world):
    assert call(client, world, "GET", "packets", role=None).status_code == 401
    path = f"providers/{world['provider'].pk}/packets"
    assert call(client, world, "POST", path, {}, role=None).status_code == 401
    caqh = f"providers/{world['provider'].pk}/caqh"
    assert call(client, world, "GET", caqh, role=None).status_code == 401


def test_the_caqh_export_is_json_or_csv_and_audited(client, world):
    path = f"providers/{world['provider'].pk}/caqh"
    body = call(client, world, "GET", path, role="auditor").json()
    assert body["sections"]["identifiers"][0]["npi"] == world["provider"].npi
    assert "ssn" in body["omitted"] and "date_of_birth" in body["omitted"]
    csv_response = call(client, world, "GET", path + "?format=csv", role="auditor")
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    assert csv_response.content.decode().startswith("section,item,")
    with tenant_context(world["a"].org):
        events = list(
            AuditEvent.objects.filter(action="roster.caqh.exported").values_list(
                "data__format", "data__via", "actor_kind"
            )
        )
    assert sorted(events) == [("csv", "api", "api_key"), ("json", "api", "api_key")]
    with tenant_context(world["a"].org):
        assert not PacketStep.objects.exists()  # reads change nothing
