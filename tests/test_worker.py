"""A real Celery worker (consuming from the real Redis broker) reads tenant data in scope."""

from __future__ import annotations

import pytest

from credex.celery import app
from credex.tasks import count_members
from tests.conftest import own_queue_worker

pytestmark = pytest.mark.external


@pytest.fixture
def worker(committed_db):
    with own_queue_worker(shutdown_timeout=20):
        yield


def test_a_real_worker_reads_tenant_data_under_the_tasks_organization(committed_tenant, worker):
    from tests.conftest import build_tenant

    other = build_tenant("Other Org", f"other-{committed_tenant.org.slug}.example", roles=())
    result = count_members.delay(org_id=str(committed_tenant.org.pk)).get(timeout=30)
    assert result == {"org": str(committed_tenant.org.pk), "members": 4}
    result = count_members.delay(org_id=str(other.org.pk)).get(timeout=30)
    assert result == {"org": str(other.org.pk), "members": 1}


def test_a_tenant_task_without_an_organization_is_refused(committed_db, worker):
    with pytest.raises(ValueError, match="tenant task"):
        app.send_task("credex.tasks.count_members", kwargs={}).get(timeout=30)


def test_tasks_are_acknowledged_late_and_requeued_if_the_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert count_members.acks_late is True
