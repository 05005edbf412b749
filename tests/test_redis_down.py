"""Redis down (a private Redis the test stops; the session's Redis is never touched):
starting a job answers 503 with nothing left queued, login and the API keep working."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from credex.services import api_key_create
from credex.tenancy import tenant_context
from roster.models import ImportJob
from screening.models import ScreeningRun
from tests.factories import make_provider
from tests.private_redis import cache_on, celery_on, private_redis
from tests.test_auth import _login
from tests.test_import import csv_bytes, row
from verifications.models import CredentialPackage

QUEUE_DOWN = "The job queue is unavailable; nothing was started, try again in a minute."


@pytest.fixture
def redis_down(settings):
    with private_redis() as redis, celery_on(redis):
        cache_on(settings, redis)
        redis.stop()
        yield
        redis.start()  # stopped again by private_redis


@pytest.fixture
def api(tenant_a, client):
    with tenant_context(tenant_a.org):
        _, raw = api_key_create(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.owner), name="ops", role="admin"
        )
    return lambda method, url, **kw: getattr(client, method)(
        url, HTTP_AUTHORIZATION=f"Api-Key {raw}", **kw
    )


def _nothing_left(org):
    with tenant_context(org):
        return {
            "runs": ScreeningRun.objects.count(),
            "packages": CredentialPackage.objects.count(),
            "imports": ImportJob.objects.count(),
            "requested": AuditEvent.objects.filter(
                action__in=[
                    "screening.run.requested",
                    "verifications.package.requested",
                    "roster.import.started",
                ]
            ).count(),
        }


def _assert_queue_down(response):
    assert response.status_code == 503, response.content
    assert response.json() == {"code": "queue_unavailable", "message": QUEUE_DOWN, "details": {}}


def test_the_api_answers_503_and_starts_nothing_when_redis_is_down(
    tenant_a, api, redis_down, settings
):
    org = tenant_a.org
    provider = make_provider(org, seed=3)
    settings.IMPORT_INLINE_MAX_ROWS = 1  # a two-row file is queued
    _assert_queue_down(
        api("post", "/api/v1/screening/runs", data={}, content_type="application/json")
    )
    _assert_queue_down(api("post", f"/api/v1/providers/{provider.pk}/packages"))
    upload = SimpleUploadedFile("big.csv", csv_bytes([row(81), row(82)]))
    _assert_queue_down(api("post", "/api/v1/imports", data={"file": upload}))
    assert _nothing_left(org) == {"runs": 0, "packages": 0, "imports": 0, "requested": 0}


def test_the_pages_say_the_queue_is_down_and_start_nothing(tenant_a, login, redis_down):
    org = tenant_a.org
    provider = make_provider(org, seed=4)
    client = login(tenant_a.coordinator)
    run = client.post(f"/o/{org.slug}/screening/runs/", HTTP_HX_REQUEST="true")
    assert run.status_code == 503 and QUEUE_DOWN in run.content.decode()
    package = client.post(f"/o/{org.slug}/packages/build/{provider.pk}", HTTP_HX_REQUEST="true")
    assert package.status_code == 503 and QUEUE_DOWN in package.content.decode()
    redirected = client.post(f"/o/{org.slug}/packages/build/{provider.pk}", follow=True)
    assert QUEUE_DOWN in redirected.content.decode()
    assert _nothing_left(org) == {"runs": 0, "packages": 0, "imports": 0, "requested": 0}


def test_an_import_page_upload_answers_503_and_keeps_no_file(tenant_a, login, redis_down, settings):
    settings.IMPORT_INLINE_MAX_ROWS = 1
    client = login(tenant_a.coordinator)
    upload = SimpleUploadedFile("big.csv", csv_bytes([row(83), row(84)]))
    response = client.post(f"/o/{tenant_a.org.slug}/imports/", {"file": upload})
    assert response.status_code == 503 and QUEUE_DOWN in response.content.decode()
    assert _nothing_left(tenant_a.org)["imports"] == 0
    assert not list((settings.MEDIA_ROOT / "imports").rglob("*.csv"))


def test_login_and_the_api_keep_working_when_redis_is_down(tenant_a, client, api, redis_down):
    # The login rate limit and the API throttle fail open (credex/cache.py says why).
    response = _login(client, tenant_a.coordinator.email)
    assert response.status_code == 302
    assert client.get("/").status_code in (200, 302)
    listed = api("get", "/api/v1/providers")
    assert listed.status_code == 200, listed.content
    assert api("get", "/api/v1/screening/runs").status_code == 200


# --- RabbitMQ as the broker -------------------------------------------------------------------


def test_rabbitmq_can_be_the_broker_while_redis_stays_the_result_backend_and_cache():
    from tests.test_core import PROD, _settings_in_subprocess

    result = _settings_in_subprocess(
        {**PROD, "CELERY_BROKER_URL": "amqp://credex:pw@mq.internal:5672//"},
        "settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND, "
        "settings.CACHES['default']['LOCATION']",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "amqp://credex:pw@mq.internal:5672//",
        "redis://cache.internal:6379/0",
        "redis://cache.internal:6379/1",
    ]


def test_a_rabbitmq_broker_that_is_down_answers_queue_unavailable_too():
    from credex.celery import app
    from credex.jobs import QueueUnavailable, job_publish
    from credex.tasks import heartbeat
    from tests.private_redis import reset_celery_connections

    before = app.conf.broker_url
    app.conf.broker_url = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens on port 1
    reset_celery_connections(app)
    try:
        with pytest.raises(QueueUnavailable, match="job queue is unavailable"):
            job_publish(heartbeat)
    finally:
        app.conf.broker_url = before
        reset_celery_connections(app)
