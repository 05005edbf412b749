"""The embedded Redis is the Celery broker: a queued message survives a restart of Redis
(append-only file, fsync every second, and save rules that are really set)."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker

from credex.tasks import count_members
from tests.private_redis import celery_on, private_redis, reset_celery_connections
from tests.waiting import wait_for

pytestmark = pytest.mark.external


def test_the_embedded_redis_runs_with_the_append_only_file_and_save_rules():
    with private_redis() as redis:
        config = redis.client().config_get("*")
    assert config["appendonly"] == "yes"
    assert config["appendfsync"] == "everysec"
    assert config["save"] == "900 1 300 10 60 1000"


def test_a_queued_task_survives_a_restart_of_redis_and_runs_on_a_worker(committed_tenant):
    org_id = str(committed_tenant.org.pk)
    with private_redis() as redis, celery_on(redis) as app:
        # No worker: the message waits in the broker.
        task_id = count_members.apply_async(kwargs={"org_id": org_id}).id
        assert redis.client().llen("celery") == 1
        redis.stop()
        redis.start()  # same folder: the AOF is replayed
        reset_celery_connections(app)
        assert redis.client().llen("celery") == 1
        with start_worker(app, pool="threads", concurrency=1, perform_ping_check=False):
            result = app.AsyncResult(task_id)
            wait_for(lambda: result.state == "SUCCESS", timeout=30, what="the task to succeed")
            assert result.result == {"org": org_id, "members": 4}
