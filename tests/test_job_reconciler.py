"""The job reconciler (credex/jobs.py): a job row whose queue message was lost is published
again (bounded), or failed with a reason; stalled rows never block new work for hours and the
pages say "stalled — retry" instead of "in progress"."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from credex.jobs import MAX_ATTEMPTS, job_is_stalled
from credex.tasks import reconcile_jobs
from credex.tenancy import tenant_context
from roster.models import ImportJob, ImportStatus
from screening.models import RunStatus, RunTrigger, ScreeningRun
from tests.conftest import own_queue_worker
from tests.factories import make_provider
from tests.private_redis import celery_on, private_redis
from tests.waiting import wait_for
from verifications.models import CredentialPackage, PackageStatus

LONG_AGO = timedelta(minutes=15)


def _lost(model, org, **fields):
    """A job row as a request leaves it when its message is lost: committed, never published.

    Old by both clocks: this process's (which `pytest --clock` moves) and the database's,
    which a `celery worker` subprocess shares (its Python clock is the real one)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        database_now = cursor.fetchone()[0]
    with tenant_context(org):
        return model.objects.create(
            organization=org, created_at=min(timezone.now(), database_now) - LONG_AGO, **fields
        )


def _wait_until_done(model, org, pk, open_statuses, alive=None):
    def done():
        with tenant_context(org):
            row = model.objects.get(pk=pk)
        return row if row.status not in open_statuses else None

    return wait_for(done, what=f"{model.__name__} {pk} to leave {open_statuses}", alive=alive)


# --- through a real worker ------------------------------------------------------------------


@pytest.mark.external
def test_a_package_whose_message_was_lost_is_requeued_by_the_reconciler_and_built(
    committed_tenant,
):
    org = committed_tenant.org
    provider = make_provider(org, seed=int(uuid.uuid4().int % 10_000_000))
    package = _lost(CredentialPackage, org, provider=provider)
    with own_queue_worker(concurrency=2):
        summary = reconcile_jobs.delay().get(timeout=60)
        package = _wait_until_done(
            CredentialPackage, org, package.pk, (PackageStatus.QUEUED, PackageStatus.BUILDING)
        )
    assert package.status == PackageStatus.READY, package.error
    assert package.attempts >= 1
    # The pass of this test, or the one the worker ran when it started, requeued it.
    assert f"verifications.package:{package.pk}" in summary["requeued"] or package.attempts
    with tenant_context(org):
        requeued = AuditEvent.objects.filter(
            action="verifications.package.requeued", target_id=str(package.pk)
        ).first()
    assert requeued is not None and requeued.actor_kind == "system"
    assert requeued.data["attempt"] == 1


@pytest.mark.external
def test_a_celery_worker_that_starts_republishes_a_lost_job_without_waiting_for_beat(
    committed_tenant, settings
):
    """`celery worker` itself (its worker_ready signal), on the test database and a private
    Redis, so no other worker can take the task."""
    org = committed_tenant.org
    provider = make_provider(org, seed=int(uuid.uuid4().int % 10_000_000))
    package = _lost(CredentialPackage, org, provider=provider)

    def url(db):
        return f"postgresql://{db['USER']}@/{db['NAME']}?host={quote(db['HOST'], safe='')}"

    with private_redis() as redis:
        env = {
            **os.environ,
            "DATABASE_URL": url(settings.DATABASES["default"]),
            "DATABASE_OWNER_URL": url(settings.DATABASES["owner"]),
            "REDIS_URL": f"unix://{redis.sock}?db=0",
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "DJANGO_ALLOWED_HOSTS": "localhost",
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "credex", "worker", "--pool", "threads",
             "--concurrency", "2", "--loglevel", "warning", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            cwd=settings.BASE_DIR,
            env=env,
        )  # fmt: skip
        try:
            package = _wait_until_done(
                CredentialPackage,
                org,
                package.pk,
                (PackageStatus.QUEUED, PackageStatus.BUILDING),
                alive=lambda: worker.poll() is None,
            )
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert package.status == PackageStatus.READY, package.error
    assert package.attempts == 1


@pytest.mark.external
def test_a_job_lost_more_than_the_attempts_allow_is_failed_with_a_reason(committed_tenant):
    org = committed_tenant.org
    job = _lost(
        ImportJob, org, original_name="roster.csv", file="imports/x.csv", attempts=MAX_ATTEMPTS
    )
    run = _lost(ScreeningRun, org, trigger=RunTrigger.SCHEDULE, attempts=MAX_ATTEMPTS)
    with own_queue_worker(concurrency=1):
        reconcile_jobs.delay().get(timeout=60)
    with tenant_context(org):
        job.refresh_from_db()
        run.refresh_from_db()
        failed = set(
            AuditEvent.objects.filter(
                action__in=["roster.import.failed", "screening.run.failed"],
                target_id__in=[str(job.pk), str(run.pk)],
            ).values_list("action", flat=True)
        )
    assert job.status == ImportStatus.FAILED
    assert "lost this job 3 times" in job.errors[0]["reason"]
    assert run.status == RunStatus.FAILED and "lost this job 3 times" in run.error
    assert failed == {"roster.import.failed", "screening.run.failed"}


@pytest.mark.external
def test_a_job_a_worker_is_executing_is_not_taken_for_stalled(committed_tenant):
    """Liveness is the task's lock in Postgres: a long job past the bound is left alone."""
    from django.db import connections

    org = committed_tenant.org
    job = _lost(ImportJob, org, original_name="r.csv", file="imports/y.csv")
    run = _lost(ScreeningRun, org, trigger=RunTrigger.SCHEDULE)
    worker = connections.create_connection("default")  # the "worker" holding both locks
    try:
        with worker.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT set_config('app.current_org', %s, true)", [str(org.pk)])
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"import:{job.pk}"]
            )
            cursor.execute(
                "SELECT 1 FROM screening_screeningrun WHERE id = %s FOR UPDATE", [run.pk]
            )
            with tenant_context(org):
                assert not job_is_stalled(ImportJob.objects.get(pk=job.pk))
                assert not job_is_stalled(ScreeningRun.objects.get(pk=run.pk))
            cursor.execute("ROLLBACK")
        with tenant_context(org):
            assert job_is_stalled(ImportJob.objects.get(pk=job.pk))
            assert job_is_stalled(ScreeningRun.objects.get(pk=run.pk))
            # Cleaned up so no other test's reconciler pass picks them up.
            ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED)
            ScreeningRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
    finally:
        worker.close()


# --- run now, and the page ------------------------------------------------------------------


def test_run_now_is_not_blocked_by_a_run_whose_message_was_lost(login, tenant_a, settings):
    org = tenant_a.org
    stale = _lost(ScreeningRun, org, trigger=RunTrigger.ON_DEMAND)
    client = login(tenant_a.coordinator)
    with private_redis() as redis, celery_on(redis):
        response = client.post(f"/o/{org.slug}/screening/runs/")
    assert response.status_code == 302
    with tenant_context(org):
        stale.refresh_from_db()
        new = ScreeningRun.objects.exclude(pk=stale.pk).get()
    assert stale.status == RunStatus.FAILED and "queue message was probably lost" in stale.error
    assert new.status == RunStatus.QUEUED and response.url.endswith(f"/runs/{new.pk}/")


def test_a_fresh_queued_run_still_blocks_a_second_run(login, tenant_a):
    org = tenant_a.org
    with tenant_context(org):
        ScreeningRun.objects.create(organization=org, trigger=RunTrigger.ON_DEMAND)
    response = login(tenant_a.coordinator).post(
        f"/o/{org.slug}/screening/runs/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 409
    assert "already in progress" in response.content.decode()


def test_the_pages_say_stalled_retry_for_a_job_whose_message_was_lost(login, tenant_a):
    org = tenant_a.org
    provider = make_provider(org, seed=7)
    run = _lost(ScreeningRun, org, trigger=RunTrigger.ON_DEMAND)
    package = _lost(CredentialPackage, org, provider=provider)
    job = _lost(ImportJob, org, original_name="roster.csv", file="imports/z.csv")
    client = login(tenant_a.coordinator)
    home = client.get(f"/o/{org.slug}/screening/").content.decode()
    assert "Stalled — retry." in home and "Screening in progress" not in home
    assert "Retry the screening" in home
    run_page = client.get(f"/o/{org.slug}/screening/runs/{run.pk}/").content.decode()
    assert "Stalled — retry." in run_page
    detail = client.get(f"/o/{org.slug}/packages/{package.pk}/")
    assert detail.status_code == 200 and "Stalled — retry." in detail.content.decode()
    imports = client.get(f"/o/{org.slug}/imports/{job.pk}/").content.decode()
    assert "Stalled — retry." in imports and "Waiting for a worker" not in imports
    history = client.get(f"/o/{org.slug}/imports/").content.decode()
    assert "Stalled — retry" in history


def test_a_recent_queued_run_shows_in_progress_not_stalled(login, tenant_a):
    org = tenant_a.org
    with tenant_context(org):
        ScreeningRun.objects.create(organization=org, trigger=RunTrigger.ON_DEMAND)
    home = login(tenant_a.coordinator).get(f"/o/{org.slug}/screening/").content.decode()
    assert "Screening in progress" in home and "Stalled" not in home
