"""A real Celery worker runs `nppes.refresh.org` on committed data; a crash rolls the whole
refresh back and the re-run writes everything once; the nightly job fans out per org."""

from __future__ import annotations

import pytest
from django.urls import reverse

from credex.celery import app
from credex.models import Organization
from credex.tenancy import tenant_context
from screening.nppes import tasks
from screening.nppes.models import NppesCheck, NppesMismatch, NppesRun
from screening.nppes.services import nppes_refresh_request
from screening.nppes.services import refresh as refresh_module
from tests.conftest import own_queue, own_queue_worker
from tests.fixtures_nppes import FakeNppes, individual, use_fake
from tests.test_nppes_refresh import add_provider
from tests.waiting import published_tasks

pytestmark = pytest.mark.external


@pytest.fixture
def worker(committed_db):
    with own_queue_worker(shutdown_timeout=20):
        yield


@pytest.fixture
def fake(settings):
    server = FakeNppes().start()
    use_fake(settings, server, retries=0)
    yield server
    server.stop()


def rows(tenant, model):
    with tenant_context(tenant.org):
        return list(model.objects.all())


def test_a_real_worker_refreshes_an_organization_and_a_rerun_adds_no_duplicates(
    committed_tenant, fake, worker
):
    p1 = add_provider(committed_tenant, seed=11)
    p2 = add_provider(committed_tenant, seed=12)
    fake.answer(p1.npi, individual(p1.npi, last="SMITH"))
    fake.answer(p2.npi, individual(p2.npi))
    org_id = str(committed_tenant.org.pk)

    result = tasks.refresh_org.delay(org_id=org_id).get(timeout=60)
    assert result["status"] == "done" and result["checked"] == 2
    assert result["mismatch"] == 1 and result["match"] == 1

    again = tasks.refresh_org.delay(org_id=org_id).get(timeout=60)
    assert again["mismatches_opened"] == 0
    (m,) = rows(committed_tenant, NppesMismatch)
    assert m.field == "name" and m.status == "open"
    assert len(rows(committed_tenant, NppesCheck)) == 2
    assert fake.count() == 4


def test_a_crash_while_writing_leaves_nothing_and_the_rerun_writes_once(
    committed_tenant, fake, worker, monkeypatch
):
    p = add_provider(committed_tenant, seed=21)
    fake.answer(p.npi, individual(p.npi, credential="D.O."))
    original = refresh_module._write_mismatches

    def crash_after_writing(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("worker lost its database connection")

    monkeypatch.setattr(refresh_module, "_write_mismatches", crash_after_writing)
    with pytest.raises(RuntimeError):
        tasks.refresh_org.delay(org_id=str(committed_tenant.org.pk)).get(timeout=60)
    assert rows(committed_tenant, NppesMismatch) == []
    assert rows(committed_tenant, NppesCheck) == []

    monkeypatch.setattr(refresh_module, "_write_mismatches", original)
    result = tasks.refresh_org.delay(org_id=str(committed_tenant.org.pk)).get(timeout=60)
    assert result["mismatches_opened"] == 1
    (m,) = rows(committed_tenant, NppesMismatch)
    assert m.field == "credential_text"


def test_refresh_now_from_the_page_runs_on_the_worker_and_the_progress_ends_with_the_result(
    committed_tenant, fake, worker, client
):
    p = add_provider(committed_tenant, seed=31)
    fake.answer(p.npi, individual(p.npi))
    coordinator = committed_tenant.membership(committed_tenant.coordinator)
    with tenant_context(committed_tenant.org):
        run = nppes_refresh_request(org=committed_tenant.org, actor=coordinator)
    # on_commit enqueued the task with the run's id as the task id.
    from celery.result import AsyncResult

    AsyncResult(str(run.pk), app=app).get(timeout=60)
    with tenant_context(committed_tenant.org):
        run = NppesRun.objects.get(pk=run.pk)
    assert run.status == "done" and run.counts["match"] == 1
    client.force_login(
        committed_tenant.coordinator, backend="allauth.account.auth_backends.AuthenticationBackend"
    )
    html = client.get(
        reverse("nppes_run", kwargs={"org_slug": committed_tenant.org.slug, "run_id": run.pk})
    ).content.decode()
    assert "Refresh finished" in html


def test_the_nightly_job_enqueues_one_refresh_per_organization_once_a_day(committed_tenant):
    # Published for real, on a queue of this test's own that no worker takes.
    with own_queue() as queue, published_tasks(queue) as sent:
        count = tasks.refresh_nightly(force=True)
        org_ids = {str(pk) for pk in Organization.objects.values_list("pk", flat=True)}
        assert count == len(org_ids)
        assert {name for name, _ in sent} == {"nppes.refresh.org"}
        assert {kw["org_id"] for _, kw in sent} == org_ids
        assert all(kw["trigger"] == "nightly" for _, kw in sent)
        tasks.refresh_nightly()  # the day's first beat fans out (unless one already did)...
        assert tasks.refresh_nightly() == 0  # ...a second beat the same day does not
    assert app.conf.beat_schedule["nppes-refresh-nightly"]["task"] == "nppes.refresh.nightly"
    assert "nppes.refresh.org" in app.tasks and "nppes.refresh.nightly" in app.tasks
