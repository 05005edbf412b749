"""Screening API: runs (start for the organization or one provider, follow), hits (filters,
confirm, clear), dataset versions; coordinator acts, auditor 403 on writes, outsider 404,
anonymous 401 (the permission matrix covers every route x role as well)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from credex.services import api_key_create
from credex.tenancy import tenant_context
from roster.models import Provider
from screening.loaders import load_dataset
from screening.models import HitStatus, ScreeningHit, ScreeningRun
from screening.services import screening_run_now
from tests.factories import make_provider

FIXTURES = Path(__file__).parent / "fixtures_screening"
SAM_AS_OF = date(2023, 11, 22)  # the sample's newest Creation_Date (its name has no date)
ALI_NPI = "1790709913"


@pytest.fixture
def world(tenant_a, tenant_b):
    # The supplement sample is from October 2016: the list under it must not be newer
    # (a supplement older than the active list is refused).
    load_dataset(
        source="leie", origin=str(FIXTURES / "UPDATED_head_2026.csv"), as_of=date(2016, 10, 1)
    )
    load_dataset(source="leie", origin=str(FIXTURES / "1610EXCL.csv"))
    load_dataset(
        source="sam", origin=str(FIXTURES / "extract_v2_sample_2023-11.csv"), as_of=SAM_AS_OF
    )
    org = tenant_a.org
    ali = make_provider(org, seed=1, first_name="Mo", last_name="Ali", npi=ALI_NPI)
    make_provider(org, seed=2, first_name="Antonio", last_name="Flores", state="TX")
    with tenant_context(org):
        run = screening_run_now(org=org)
        hit = ScreeningHit.objects.get(provider=ali)
        owner = tenant_a.membership(tenant_a.owner)
        keys = {
            role: api_key_create(org=org, actor=owner, name=role, role=role)[1]
            for role in ("coordinator", "auditor")
        }
    other = make_provider(tenant_b.org, seed=3)
    return {
        "a": tenant_a,
        "b": tenant_b,
        "run": run,
        "hit": hit,
        "ali": ali,
        "keys": keys,
        "other": other,
    }


def call(client, world, method, path, body=None, *, role="coordinator"):
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {world['keys'][role]}"} if role else {}
    return client.generic(
        method,
        f"/api/v1/screening/{path}",
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        **headers,
    )


def test_runs_are_listed_newest_first_with_counts_and_versions(client, world):
    body = call(client, world, "GET", "runs").json()
    (run,) = body["results"]
    assert run["id"] == str(world["run"].pk) and run["status"] == "done"
    assert run["counts"]["new"]["npi"] == 1 and run["leie_version"] is not None
    assert run["progress"]["percent"] == 100


def test_starting_a_run_queues_it_and_a_second_request_is_refused(client, world):
    response = call(client, world, "POST", "runs", {})
    assert response.status_code == 202 and response.json()["status"] == "queued"
    run_id = response.json()["id"]
    detail = call(client, world, "GET", f"runs/{run_id}").json()
    assert detail["progress"]["phase"] == "waiting for a worker"
    again = call(client, world, "POST", "runs", {})
    assert again.status_code == 409 and again.json()["code"] == "run_in_progress"
    assert again.json()["details"]["run"] == run_id


def test_a_run_for_one_provider_and_a_provider_of_another_organization(client, world):
    response = call(client, world, "POST", "runs", {"provider": str(world["ali"].pk)})
    assert response.status_code == 202 and response.json()["provider"] == str(world["ali"].pk)
    foreign = call(client, world, "POST", "runs", {"provider": str(world["other"].pk)})
    assert foreign.status_code == 400 and foreign.json()["details"] == {"provider": "not_found"}


def test_hits_filter_by_status_source_kind_and_provider(client, world):
    all_hits = call(client, world, "GET", "hits").json()["results"]
    assert {h["kind"] for h in all_hits} == {"npi", "name_state"}
    npi = call(client, world, "GET", "hits?kind=npi&status=new&source=leie").json()["results"]
    assert [h["id"] for h in npi] == [str(world["hit"].pk)]
    assert npi[0]["record_snapshot"]["LASTNAME"] == "ALI"
    mine = call(client, world, "GET", f"hits?provider={world['ali'].pk}").json()["results"]
    assert len(mine) == 1
    bad = call(client, world, "GET", "hits?kind=nonsense")
    assert bad.status_code == 400 and "kind" in bad.json()["details"]


def test_confirming_through_the_api_flags_the_provider_and_cannot_repeat(client, world):
    response = call(client, world, "POST", f"hits/{world['hit'].pk}/confirm", {"note": "OIG"})
    assert response.status_code == 200 and response.json()["status"] == "confirmed"
    with tenant_context(world["a"].org):
        assert Provider.objects.get(pk=world["ali"].pk).excluded is True
    again = call(client, world, "POST", f"hits/{world['hit'].pk}/confirm", {})
    assert again.status_code == 409 and again.json()["code"] == "conflict"


def test_clearing_through_the_api_needs_a_reason(client, world):
    missing = call(client, world, "POST", f"hits/{world['hit'].pk}/clear", {})
    assert missing.status_code == 400 and "reason" in missing.json()["details"]
    response = call(
        client,
        world,
        "POST",
        f"hits/{world['hit'].pk}/clear",
        {"reason": "Different date of birth", "evidence": "licence"},
    )
    body = response.json()
    assert response.status_code == 200 and body["status"] == "cleared"
    assert body["review_reason"] == "Different date of birth" and body["reviewed_by"] is None


def test_an_auditor_key_reads_but_gets_403_on_writes_and_nothing_changes(client, world):
    assert call(client, world, "GET", "hits", role="auditor").status_code == 200
    for path, body in (
        ("runs", {}),
        (f"hits/{world['hit'].pk}/confirm", {}),
        (f"hits/{world['hit'].pk}/clear", {"reason": "x"}),
    ):
        assert call(client, world, "POST", path, body, role="auditor").status_code == 403
    with tenant_context(world["a"].org):
        assert ScreeningHit.objects.get(pk=world["hit"].pk).status == HitStatus.NEW
        assert ScreeningRun.objects.count() == 1


def test_anonymous_gets_401(client, world):
    assert call(client, world, "GET", "runs", role=None).status_code == 401
    assert call(client, world, "POST", "runs", {}, role=None).status_code == 401


def test_an_outsider_gets_404_for_this_organizations_run_and_hit(client, login, world):
    b = world["b"]
    with tenant_context(b.org):
        _, raw = api_key_create(org=b.org, actor=b.membership(b.owner), name="b", role="admin")
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {raw}"}
    assert client.get(f"/api/v1/screening/runs/{world['run'].pk}", **headers).status_code == 404
    response = client.post(
        f"/api/v1/screening/hits/{world['hit'].pk}/confirm", "{}", "application/json", **headers
    )
    assert response.status_code == 404
    assert client.get("/api/v1/screening/hits", **headers).json()["results"] == []


def test_dataset_versions_are_listed_for_every_role(client, world):
    versions = call(client, world, "GET", "datasets", role="auditor").json()
    assert {(v["source"], v["kind"], v["is_active"]) for v in versions} >= {
        ("leie", "exclusions", True),
        ("leie", "full", False),
        ("sam", "full", True),
    }
