"""Automatic PSV records: every OIG/SAM screening of a provider and every NPPES check writes
an immutable Verification (system verifier, run id as reference, dataset facts in data),
written in bulk and counted in the run's one audit event per list."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.db import DatabaseError, transaction

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from screening.loaders import load_dataset
from screening.nppes import services as nppes
from screening.nppes.models import NppesCheck
from screening.services import screening_run_now
from tests.conftest import own_queue
from tests.factories import make_provider
from tests.fixtures_nppes import Answer, FakeNppes, individual, use_fake
from tests.waiting import published_tasks
from verifications.models import Verification

FIXTURES = Path(__file__).parent / "fixtures_screening"
SAM_AS_OF = date(2023, 11, 22)  # the sample's newest Creation_Date (its name has no date)
ALI_NPI = "1790709913"


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


@pytest.fixture
def fake(settings):
    server = FakeNppes().start()
    use_fake(settings, server, retries=1)
    yield server
    server.stop()


def records(org, **filters):
    with tenant_context(org):
        return list(Verification.objects.filter(**filters).order_by("source", "provider_id"))


def test_a_screening_run_records_verified_for_clean_and_discrepancy_for_a_hit(tenant_a, lists):
    org = tenant_a.org
    ali = make_provider(org, seed=1, first_name="Mo", last_name="Ali", npi=ALI_NPI)
    clean = make_provider(org, seed=2, first_name="Zed", last_name="Nobodyhere")
    with tenant_context(org):
        run = screening_run_now(org=org)

    rows = records(org)
    assert len(rows) == 4  # 2 providers x 2 lists
    by = {(r.provider_id, r.source): r for r in rows}
    assert by[(ali.pk, "oig")].result == "discrepancy"
    assert by[(ali.pk, "sam")].result == "verified"
    assert by[(clean.pk, "oig")].result == "verified"
    assert by[(clean.pk, "sam")].result == "verified"
    oig = by[(ali.pk, "oig")]
    assert oig.credential_id is None and oig.method == "api"
    assert oig.verifier_kind == "system" and oig.verifier_label == "screening"
    assert oig.reference == str(run.pk)
    assert oig.data["dataset_version"] == str(run.leie_version_id)
    assert oig.data["as_of"] == run.leie_version.as_of.isoformat()
    assert oig.data["outcome"] == "hit" and oig.data["matches"] >= 1
    assert "Possible match" in oig.details
    assert by[(clean.pk, "sam")].data["matches"] == 0


def test_the_screening_audit_event_per_list_counts_the_records_written(tenant_a, lists):
    org = tenant_a.org
    for seed in range(3):
        make_provider(org, seed=seed + 10)
    with tenant_context(org):
        screening_run_now(org=org)
        events = list(AuditEvent.objects.filter(action="screening.dataset.screened"))
        recorded_events = AuditEvent.objects.filter(
            action="verifications.verification.recorded"
        ).count()
    assert len(events) == 2  # one per list, not one per provider
    assert sorted(e.data["verifications_recorded"] for e in events) == [3, 3]
    assert recorded_events == 0  # bulk path: no per-record event


def test_automatic_screening_records_are_immutable(tenant_a, lists):
    org = tenant_a.org
    make_provider(org, seed=3)
    with tenant_context(org):
        screening_run_now(org=org)
        record = Verification.objects.first()
        with pytest.raises(DatabaseError), transaction.atomic():
            Verification.objects.filter(pk=record.pk).update(result="discrepancy")
        with pytest.raises(DatabaseError), transaction.atomic():
            Verification.objects.filter(pk=record.pk).delete()
        assert Verification.objects.get(pk=record.pk).result == record.result


def test_an_nppes_check_records_verified_for_a_match_and_unable_for_an_error(tenant_a, fake):
    org = tenant_a.org
    good = make_provider(
        org,
        seed=21,
        first_name="Jane",
        last_name="Doe",
        primary_taxonomy_id="207R00000X",
        taxonomy_codes=["207R00000X"],
        address_line1="100 Main Street",
        city="Sacramento",
        state="CA",
        postal_code="95814",
    )
    broken = make_provider(org, seed=22)
    fake.answer(good.npi, individual(good.npi))
    fake.answer(broken.npi, Answer(status=500, body={"error": "down"}))
    with tenant_context(org):
        run = nppes.nppes_refresh(org=org, trigger="test")
        checks = {c.provider_id: c.outcome for c in NppesCheck.objects.all()}
        audit = {
            e.target_id: e.data["verification"]
            for e in AuditEvent.objects.filter(action="nppes.checked")
        }
    rows = {r.provider_id: r for r in records(org, source="nppes")}
    assert set(rows) == {good.pk, broken.pk}
    assert checks[broken.pk] == "error"
    assert rows[broken.pk].result == "unable"
    assert rows[good.pk].result == ("verified" if checks[good.pk] == "match" else "discrepancy")
    for row in rows.values():
        assert row.method == "api" and row.verifier_kind == "system"
        assert row.reference == str(run.pk) and row.credential_id is None
        assert audit[str(row.provider_id)] == str(row.pk)  # each check's event names it


def test_an_nppes_mismatch_is_recorded_as_a_discrepancy_naming_the_fields(tenant_a, fake):
    org = tenant_a.org
    p = make_provider(org, seed=23, first_name="Someone", last_name="Else", city="Fresno")
    fake.answer(p.npi, individual(p.npi))
    with tenant_context(org):
        nppes.nppes_refresh(org=org, trigger="test")
    (row,) = records(org, source="nppes")
    assert row.result == "discrepancy"
    assert row.data["outcome"] == "mismatch" and "name" in row.data["differences"]
    assert "differs" in row.details


def test_a_large_run_records_after_it_commits_in_a_job_once_with_one_event_per_list(
    tenant_a, lists, monkeypatch, django_capture_on_commit_callbacks
):
    from verifications.jobs import packets as jobs
    from verifications.services import automatic

    org = tenant_a.org
    make_provider(org, seed=1, first_name="Mo", last_name="Ali", npi=ALI_NPI)
    make_provider(org, seed=2)
    monkeypatch.setattr(automatic, "INLINE_LIMIT", 1)  # two providers count as "large"
    # Published for real, on a queue of this test's own that no worker takes.
    with (
        own_queue() as queue,
        published_tasks(queue) as published,
        django_capture_on_commit_callbacks(execute=True),
        tenant_context(org),
    ):
        run = screening_run_now(org=org)
    assert records(org) == []  # nothing inside the run's transaction
    sent = [kw for name, kw in published if name == jobs.screening_records.name]
    assert sent == [{"org_id": str(org.pk), "run_id": str(run.pk)}]
    with tenant_context(org):
        event = AuditEvent.objects.filter(action="screening.dataset.screened").first()
    assert event.data["verifications_recorded"] == "deferred"

    with tenant_context(org):
        counts = automatic.screening_verifications_record_deferred(org=org, run_id=run.pk)
        again = automatic.screening_verifications_record_deferred(org=org, run_id=run.pk)
        events = list(AuditEvent.objects.filter(action="verifications.screening.recorded"))
    assert counts == {"leie": 2, "sam": 2} and again == {}
    rows = records(org)
    assert len(rows) == 4 and {r.verified_at for r in rows} == {run.finished_at}
    assert sorted(r.result for r in rows if r.source == "oig") == ["discrepancy", "verified"]
    assert sorted((e.source, e.data["verifications_recorded"]) for e in events) == [
        ("OIG", 2),
        ("SAM", 2),
    ]
    assert all(e.data["results_sha256"] for e in events)
