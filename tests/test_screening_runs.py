"""Screening runs with real commits: idempotency, the per-organization lock (threads), a
crash and a re-run with a real Celery worker, the monthly job across organizations, the
roster hook (new hire, rename), and the `screen` command."""

from __future__ import annotations

import io
import threading
import uuid
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from roster import crypto
from roster.models import Provider
from roster.services.providers import provider_create, provider_update
from screening import tasks
from screening.loaders import load_dataset
from screening.models import RunStatus, ScreeningHit, ScreeningResult, ScreeningRun
from screening.services import screening_run_now, screening_run_request
from screening.services.runs import _lock
from tests.conftest import build_tenant, own_queue_worker
from tests.factories import make_provider
from tests.waiting import published_tasks, wait_for

pytestmark = pytest.mark.external

FIXTURES = Path(__file__).parent / "fixtures_screening"
SAM_AS_OF = date(2023, 11, 22)  # the sample's newest Creation_Date (its name has no date)
ALI_NPI = "1790709913"


def load_lists():
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
def lists(committed_db):
    load_lists()


def runs_of(org, **filters):
    with tenant_context(org):
        return list(ScreeningRun.objects.filter(**filters).order_by("created_at"))


def hit_counts(org):
    """(provider, record key, hash) -> number of hits: every value must be 1."""
    with tenant_context(org):
        return {
            (row["provider_id"], row["source_record_key"], row["record_hash"]): row["n"]
            for row in ScreeningHit.objects.values(
                "provider_id", "source_record_key", "record_hash"
            ).annotate(n=Count("id"))
        }


# --- a worker of our own -----------------------------------------------------------------


@pytest.fixture
def worker(committed_db):
    """A real worker on a queue of this test's own: the Redis broker is shared with other
    processes, whose workers must not take these tasks (nor this one theirs)."""
    with own_queue_worker() as queue:
        yield queue


# --- idempotency and the lock (real commits, threads) --------------------------------------


def test_running_twice_writes_no_duplicate_hits(committed_tenant, lists):
    org = committed_tenant.org
    provider = make_provider(org, seed=11, first_name="Mo", last_name="Ali", npi=ALI_NPI)
    with tenant_context(org):
        first = screening_run_now(org=org)
    with tenant_context(org):
        second = screening_run_now(org=org)
    assert first.counts["new_total"] == 1 and second.counts["new_total"] == 0
    assert second.counts["matches"] == 1
    assert set(hit_counts(org).values()) == {1}
    with tenant_context(org):
        results = ScreeningResult.objects.filter(provider=provider)
        assert [(r.leie_outcome, r.sam_outcome) for r in results] == [("hit", "clean")] * 2


def test_an_organization_run_is_refused_while_another_run_holds_the_lock(committed_tenant, lists):
    org = committed_tenant.org
    make_provider(org, seed=12, npi=ALI_NPI)
    locked, release = threading.Event(), threading.Event()

    def holder():
        try:
            with tenant_context(org):
                assert _lock(org, wait=False)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert locked.wait(30)
        with tenant_context(org):
            refused = screening_run_now(org=org)
    finally:
        release.set()
        thread.join(30)
    assert refused.status == RunStatus.REFUSED
    assert refused.error == "Another screening run for this organization was in progress."
    assert hit_counts(org) == {}
    with tenant_context(org):
        assert AuditEvent.objects.filter(organization=org, action="screening.run.refused").exists()
        assert screening_run_now(org=org).status == RunStatus.DONE  # the lock is free again


def test_a_provider_run_waits_for_the_lock_instead_of_failing(committed_tenant, lists):
    org = committed_tenant.org
    provider = make_provider(org, seed=13, npi=ALI_NPI)
    locked, release = threading.Event(), threading.Event()
    outcome = {}

    def holder():
        try:
            with tenant_context(org):
                assert _lock(org, wait=False)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    def provider_run():
        try:
            with tenant_context(org):
                outcome["run"] = screening_run_now(org=org, provider=provider, trigger="rename")
        finally:
            connection.close()

    holding = threading.Thread(target=holder)
    holding.start()
    assert locked.wait(30)
    waiting = threading.Thread(target=provider_run)
    waiting.start()
    try:
        # The provider run is queued behind the advisory lock, not refused.
        def blocked():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                )
                return cursor.fetchone()[0] >= 1

        wait_for(blocked, timeout=30, what="the provider run to wait on the lock")
        assert "run" not in outcome
    finally:
        release.set()
        holding.join(30)
        waiting.join(60)
    assert outcome["run"].status == RunStatus.DONE
    assert outcome["run"].counts["new"]["npi"] == 1


def test_two_runs_started_together_never_interleave(committed_tenant, lists):
    org = committed_tenant.org
    for seed in range(20, 30):
        make_provider(org, seed=seed)
    make_provider(org, seed=31, npi=ALI_NPI)
    barrier = threading.Barrier(2)
    runs = []

    def run():
        try:
            barrier.wait(30)
            with tenant_context(org):
                runs.append(screening_run_now(org=org))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(r.status for r in runs)
    assert statuses in (["done", "done"], ["done", "refused"])
    if statuses == ["done", "done"]:
        a, b = sorted(runs, key=lambda r: r.started_at)
        assert a.finished_at <= b.started_at  # one after the other
    assert set(hit_counts(org).values()) == {1}
    assert sum(r.counts.get("new_total", 0) for r in runs) == 1


# --- a real worker ---------------------------------------------------------------------------


def test_a_run_that_crashes_leaves_nothing_and_a_rerun_writes_each_hit_once(
    committed_tenant, lists, worker
):
    org = committed_tenant.org
    owner = committed_tenant.membership(committed_tenant.owner)
    make_provider(org, seed=41, first_name="Mo", last_name="Ali", npi=ALI_NPI)
    # A date of birth that cannot be decrypted: the run crashes when a name needs it.
    broken = make_provider(
        org, seed=42, first_name="Crystal", last_name="Alberty", npi="", dob_encrypted="garbage"
    )
    with tenant_context(org):
        crashed = screening_run_request(org=org, actor=owner)
    wait_for(
        lambda: runs_of(org, pk=crashed.pk, status=RunStatus.FAILED),
        what="the crashed run to be marked failed",
    )
    assert "could not be decrypted" in runs_of(org, pk=crashed.pk)[0].error
    assert hit_counts(org) == {}  # the NPI hit found before the crash was rolled back

    with tenant_context(org):
        # Repair the value (the roster's own update would need the old one to decrypt).
        Provider.objects.filter(pk=broken.pk).update(dob_encrypted=crypto.encrypt("1972-09-09"))
        rerun = screening_run_request(org=org, actor=owner)
    done = wait_for(lambda: runs_of(org, pk=rerun.pk, status=RunStatus.DONE), what="the re-run")[0]
    assert done.counts["new"]["npi"] == 1 and done.counts["new"]["name_dob"] == 1

    # A redelivery of the finished task changes nothing; a new run finds nothing new.
    again = tasks.run_org.delay(org_id=str(org.pk), run_id=str(rerun.pk)).get(timeout=60)
    assert again["status"] == "done" and again["counts"] == done.counts
    with tenant_context(org):
        third = screening_run_request(org=org, actor=owner)
    third = wait_for(lambda: runs_of(org, pk=third.pk, status=RunStatus.DONE), what="run 3")[0]
    assert third.counts["new_total"] == 0
    assert set(hit_counts(org).values()) == {1} and len(hit_counts(org)) == 2


def test_the_monthly_job_screens_every_organization_in_its_own_scope(lists, worker):
    tag = uuid.uuid4().hex[:8]
    one = build_tenant(f"Monthly One {tag}", f"m1-{tag}.example", roles=())
    two = build_tenant(f"Monthly Two {tag}", f"m2-{tag}.example", roles=())
    make_provider(one.org, seed=51, npi=ALI_NPI)
    make_provider(two.org, seed=52, first_name="Antonio", last_name="Flores", state="TX")
    make_provider(two.org, seed=53)

    result = tasks.monthly.delay(load=False).get(timeout=60)

    assert result["loaded"] == {}
    runs = {}
    for tenant in (one, two):
        runs[tenant.org.pk] = wait_for(
            lambda t=tenant: runs_of(t.org, trigger="schedule", status=RunStatus.DONE),
            what=f"the scheduled run of {tenant.org.slug}",
        )[0]
        assert str(runs[tenant.org.pk].pk) in result["queued"]
    assert runs[one.org.pk].counts["new"]["npi"] == 1
    assert runs[two.org.pk].counts["new"]["name_state"] == 1
    assert runs[two.org.pk].providers_total == 2
    # Each organization's rows carry its own organization (RLS would refuse anything else).
    with tenant_context(one.org):
        assert {h.organization_id for h in ScreeningHit.objects.all()} == {one.org.pk}
    with tenant_context(two.org):
        assert ScreeningResult.objects.filter(run=runs[two.org.pk]).count() == 2


def test_a_new_provider_and_a_rename_are_screened_after_the_commit(committed_tenant, lists, worker):
    org = committed_tenant.org
    owner = committed_tenant.membership(committed_tenant.owner)
    with tenant_context(org):
        provider = provider_create(
            org=org,
            actor=owner,
            first_name="Antonio",
            last_name="Nguyen",
            provider_type="MD",
            state="TX",
        )
    new_hire = wait_for(
        lambda: runs_of(org, provider=provider, trigger="new_hire", status=RunStatus.DONE),
        what="the new-hire screening",
    )[0]
    assert new_hire.providers_total == 1 and new_hire.counts["new_total"] == 0

    with tenant_context(org):
        provider_update(org=org, actor=owner, provider=provider, last_name="Flores")
    renamed = wait_for(
        lambda: runs_of(org, provider=provider, trigger="rename", status=RunStatus.DONE),
        what="the rename screening",
    )[0]
    assert renamed.counts["new"]["name_state"] == 1
    with published_tasks(worker) as published, tenant_context(org):
        provider_update(org=org, actor=owner, provider=provider, phone="555-0100")
    # A phone change is not screened: its commit published no task (and a rename does).
    assert published == []
    assert len(runs_of(org, provider=provider)) == 2
    with published_tasks(worker) as published, tenant_context(org):
        provider_update(org=org, actor=owner, provider=provider, last_name="Nguyen")
    assert [name for name, _ in published] == ["screening.run_provider"]
    assert published[0][1]["provider_id"] == str(provider.pk)
    wait_for(
        lambda: len(runs_of(org, provider=provider, status=RunStatus.DONE)) == 3,
        what="the second rename screening",
    )


# --- the command -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_screen_command_prints_new_hits_by_kind(tenant_a):
    load_lists()
    make_provider(tenant_a.org, seed=61, npi=ALI_NPI)
    make_provider(tenant_a.org, seed=62, first_name="Antonio", last_name="Flores", state="TX")
    out = io.StringIO()
    call_command("screen", "--org", tenant_a.org.slug, stdout=out)
    text = out.getvalue()
    assert "Screened 2 providers of acme-health" in text
    assert "Exact NPI                             1" in text
    assert "Name + state                          1" in text
    assert "Possible                              0" in text
    assert "Total                                 2" in text

    out = io.StringIO()
    call_command("screen", "--org", tenant_a.org.slug, "--provider", ALI_NPI, stdout=out)
    assert "Screened 1 provider of acme-health" in out.getvalue()
    assert "Total                                 0" in out.getvalue()
    with tenant_context(tenant_a.org):
        assert Provider.objects.count() == 2


@pytest.mark.django_db
def test_the_screen_command_names_an_unknown_organization():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="No organization with the slug 'nope'"):
        call_command("screen", "--org", "nope")


@pytest.fixture
def file_server():
    import http.server
    from functools import partial

    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(FIXTURES))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_monthly_job_loads_the_newest_lists_from_the_configured_urls(
    settings, committed_db, file_server, worker
):
    settings.OIG_LEIE_URL = f"{file_server}/UPDATED_head_2026.csv"
    settings.SAM_EXTRACT_URL = f"{file_server}/missing.zip"
    tag = uuid.uuid4().hex[:8]
    tenant = build_tenant(f"Monthly Load {tag}", f"ml-{tag}.example", roles=())
    make_provider(tenant.org, seed=71)

    result = tasks.monthly.delay().get(timeout=60)

    from screening.loaders import active_version

    leie = active_version("leie")
    assert result["loaded"]["leie"] in (str(leie.pk),)
    assert leie.origin == settings.OIG_LEIE_URL
    assert result["loaded"]["sam"].startswith("error: Could not download")  # kept the old one
    wait_for(
        lambda: runs_of(tenant.org, trigger="schedule", status=RunStatus.DONE),
        what="the scheduled run",
    )
