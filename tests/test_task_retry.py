"""A tenant task that loses a real Postgres deadlock is retried, and its first attempt left
nothing behind (real worker, real commits)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from audit.models import AuditEvent
from audit.services import Actor, audit_record
from credex.celery import TenantTask, app
from credex.tenancy import tenant_context
from roster.models import Provider
from tests.conftest import own_queue_worker
from tests.factories import make_provider

pytestmark = pytest.mark.external

ATTEMPTS: list[int] = []
GATES: dict[str, threading.Event] = {}


@app.task(bind=True, base=TenantTask, name="tests.task_retry.locks_two_rows")
def locks_two_rows(self, *, org_id, first_id, second_id):
    """Lock two providers in order, recording an audit event between the locks. On the first
    attempt another session holds the second row and then asks for the first: a deadlock."""
    ATTEMPTS.append(self.request.retries)
    first = Provider.objects.select_for_update().get(pk=first_id)
    audit_record(
        org=first.organization_id,
        actor=Actor.system("retry-test"),
        action="test.retry.attempt",
        data={"attempt": self.request.retries},
    )
    if self.request.retries == 0:
        GATES["task_holds_first"].set()
    Provider.objects.select_for_update().get(pk=second_id)
    return self.request.retries


def _other_session_takes_second_then_first(first_id, second_id, ready, errors):
    """The other side of the deadlock, on the owner connection with a long deadlock_timeout
    so that the task's backend is the one Postgres picks to abort."""
    conn = connections["owner"]
    try:
        with conn.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SET LOCAL deadlock_timeout = '20s'")
            cursor.execute("SELECT 1 FROM roster_provider WHERE id = %s FOR UPDATE", [second_id])
            ready.set()
            assert GATES["task_holds_first"].wait(30)
            cursor.execute("SELECT 1 FROM roster_provider WHERE id = %s FOR UPDATE", [first_id])
            cursor.execute("COMMIT")
    except Exception as exc:  # pragma: no cover - reported by the test
        errors.append(exc)
    finally:
        conn.close()


def test_a_task_that_loses_a_deadlock_is_retried_and_its_first_attempt_left_nothing(
    committed_tenant,
):
    org = committed_tenant.org
    first, second = make_provider(org, seed=71), make_provider(org, seed=72)
    ATTEMPTS.clear()
    GATES["task_holds_first"] = threading.Event()
    ready, errors = threading.Event(), []
    other = threading.Thread(
        target=_other_session_takes_second_then_first,
        args=(first.pk, second.pk, ready, errors),
    )
    other.start()
    assert ready.wait(30)
    with own_queue_worker() as queue:
        result = locks_two_rows.apply_async(
            kwargs={"org_id": str(org.pk), "first_id": str(first.pk), "second_id": str(second.pk)},
            queue=queue,
        )
        assert result.get(timeout=60) == 1
    other.join(30)
    assert errors == []
    assert ATTEMPTS == [0, 1]
    with tenant_context(org):
        attempts = list(
            AuditEvent.objects.filter(action="test.retry.attempt").values_list(
                "data__attempt", flat=True
            )
        )
    assert attempts == [1]  # the deadlocked attempt's event was rolled back with it
