"""API v1 for NPPES: mismatches (accept / dismiss), checks, refresh, runs, lookup."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from credex.services import api_key_create
from credex.tenancy import tenant_context
from roster.models import Provider
from screening.nppes.models import NppesRun
from tests.fixtures_nppes import Answer, FakeNppes, individual, sample, use_fake
from tests.test_nppes_refresh import add_provider, mismatches, refresh


@pytest.fixture
def fake(settings):
    server = FakeNppes().start()
    use_fake(settings, server, retries=0)
    yield server
    server.stop()


@pytest.fixture
def data(tenant_a, fake):
    p1 = add_provider(tenant_a, seed=1)
    p2 = add_provider(tenant_a, seed=2, last_name="Roe")
    fake.answer(p1.npi, individual(p1.npi, last="SMITH", credential="D.O."))
    fake.answer(p2.npi, Answer(200, sample("empty_result")))
    refresh(tenant_a)
    return p1, p2


def api_as(tenant, role):
    client = APIClient()
    with tenant_context(tenant.org):
        _, raw = api_key_create(
            org=tenant.org, actor=tenant.membership(tenant.owner), name=role, role=role
        )
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def test_mismatches_are_listed_with_filters_and_both_values(tenant_a, data):
    client = api_as(tenant_a, "auditor")
    body = client.get("/api/v1/nppes/mismatches").json()
    assert {r["field"] for r in body["results"]} == {"name", "credential_text"}
    row = [r for r in body["results"] if r["field"] == "name"][0]
    assert row["our_value"]["last"] == "Doe" and row["nppes_value"]["last"] == "SMITH"
    assert row["provider"]["npi"] == data[0].npi and row["status"] == "open"
    only = client.get("/api/v1/nppes/mismatches?field=credential_text").json()["results"]
    assert [r["field"] for r in only] == ["credential_text"]
    bad = client.get("/api/v1/nppes/mismatches?status=maybe")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_accept_and_dismiss_through_the_api(tenant_a, data):
    client = api_as(tenant_a, "coordinator")
    name = mismatches(tenant_a, field="name")[0]
    cred = mismatches(tenant_a, field="credential_text")[0]
    accepted = client.post(f"/api/v1/nppes/mismatches/{name.pk}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert accepted.json()["decided_by"].startswith("coordinator (")
    dismissed = client.post(
        f"/api/v1/nppes/mismatches/{cred.pk}/dismiss", {"note": "checked"}, format="json"
    )
    assert dismissed.status_code == 200 and dismissed.json()["decision_note"] == "checked"
    again = client.post(f"/api/v1/nppes/mismatches/{cred.pk}/dismiss")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    with tenant_context(tenant_a.org):
        assert Provider.objects.get(pk=data[0].pk).last_name == "Smith"
        event = AuditEvent.objects.get(action="nppes.mismatch.accepted")
        assert event.source == "NPPES" and event.actor_kind == "api_key"


def test_an_auditor_key_cannot_decide_or_refresh_and_nothing_changes(tenant_a, data):
    client = api_as(tenant_a, "auditor")
    name = mismatches(tenant_a, field="name")[0]
    for path in (
        f"/api/v1/nppes/mismatches/{name.pk}/accept",
        f"/api/v1/nppes/mismatches/{name.pk}/dismiss",
        "/api/v1/nppes/refresh",
    ):
        response = client.post(path, {}, format="json")
        assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert {m.status for m in mismatches(tenant_a)} == {"open"}
    with tenant_context(tenant_a.org):
        assert not NppesRun.objects.filter(status="queued").exists()


def test_another_organization_gets_404_for_org_a_ids(tenant_a, tenant_b, data):
    client = api_as(tenant_b, "admin")
    name = mismatches(tenant_a, field="name")[0]
    assert client.post(f"/api/v1/nppes/mismatches/{name.pk}/accept").status_code == 404
    assert client.post(f"/api/v1/nppes/mismatches/{name.pk}/dismiss").status_code == 404
    assert client.get("/api/v1/nppes/mismatches").json()["results"] == []
    refresh_other = client.post("/api/v1/nppes/refresh", {"provider": str(data[0].pk)})
    assert refresh_other.status_code == 404
    assert {m.status for m in mismatches(tenant_a)} == {"open"}


def test_anonymous_callers_get_401(data):
    assert APIClient().get("/api/v1/nppes/mismatches").status_code == 401
    assert APIClient().post("/api/v1/nppes/refresh").status_code == 401


def test_failed_checks_are_listed_with_the_error_and_the_next_retry(tenant_a, data):
    body = api_as(tenant_a, "auditor").get("/api/v1/nppes/checks").json()
    (row,) = body["results"]
    assert row["provider"]["id"] == str(data[1].pk)
    assert row["outcome"] == "not_found" and row["next_retry_at"]
    everything = api_as(tenant_a, "auditor").get("/api/v1/nppes/checks?outcome=all").json()
    assert len(everything["results"]) == 2


def test_refresh_is_queued_for_the_org_or_one_provider_and_its_run_can_be_read(tenant_a, data):
    client = api_as(tenant_a, "coordinator")
    run = client.post("/api/v1/nppes/refresh", {}, format="json")
    assert run.status_code == 202 and run.json()["status"] == "queued"
    assert run.json()["progress"]["state"] == "PENDING"
    one = client.post("/api/v1/nppes/refresh", {"provider": str(data[0].pk)}, format="json")
    assert one.status_code == 202 and one.json()["provider"] == str(data[0].pk)
    read = client.get(f"/api/v1/nppes/runs/{run.json()['id']}")
    assert read.status_code == 200 and read.json()["id"] == run.json()["id"]
    no_npi = add_provider(tenant_a, seed=9, npi="")
    refused = client.post("/api/v1/nppes/refresh", {"provider": str(no_npi.pk)}, format="json")
    assert refused.status_code == 400


def test_lookup_answers_with_prefill_values_and_is_audited(tenant_a, fake):
    fake.answer("1568946812", sample("organization_2019_npi1568946812"))
    client = api_as(tenant_a, "coordinator")
    body = client.get("/api/v1/nppes/lookup?npi=1568946812").json()
    assert body["outcome"] == "found"
    assert body["prefill"]["is_organization"] is True
    assert body["prefill"]["organization_name"] == "CSP ANESTHESIA LLC"
    missing = client.get("/api/v1/nppes/lookup")
    assert missing.status_code == 400 and missing.json()["details"]["npi"]
    with tenant_context(tenant_a.org):
        assert AuditEvent.objects.filter(action="nppes.lookup").count() == 1
