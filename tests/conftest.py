"""Shared fixtures: a real Postgres test database built by the owner, used as the app role.

Org A has an owner, an admin, a coordinator and an auditor (read-only); org B has an
outsider. Every tenant test has an outsider.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connections


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker):
    from credex import dbsetup

    name = f"test_credex_{os.getpid()}"
    for alias in ("default", "owner"):
        settings.DATABASES[alias]["NAME"] = name
        connections[alias].settings_dict["NAME"] = name
    with django_db_blocker.unblock():
        dbsetup.bootstrap(drop_first=True, verbosity=0)
    yield name
    with django_db_blocker.unblock():
        dbsetup.drop_database(name)


@pytest.fixture(autouse=True)
def _fast_hashers(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


LEDGER_UNBALANCED_SQL = """
SELECT e.id, coalesce(sum(p.amount_cents), 0), count(p.id)
FROM billing_journalentry e LEFT JOIN billing_posting p ON p.entry_id = e.id
GROUP BY e.id HAVING coalesce(sum(p.amount_cents), 0) <> 0 OR count(p.id) < 2 LIMIT 5
"""
LEDGER_DRIFT_SQL = """
SELECT a.id, a.kind, a.balance_cents, coalesce(p.total, 0)
FROM billing_ledgeraccount a
LEFT JOIN (SELECT account_id, sum(amount_cents) AS total FROM billing_posting
           GROUP BY account_id) p ON p.account_id = a.id
WHERE a.balance_cents <> CASE WHEN a.kind IN ('exchange_due', 'platform_clearing')
    THEN coalesce(p.total, 0) ELSE -coalesce(p.total, 0) END
LIMIT 5
"""


@pytest.fixture(autouse=True)
def _ledger_balanced(request, django_db_blocker):
    """After every test that used the database: every journal entry sums to zero over at
    least two postings, and every account's balance is the signed sum of its postings (read
    on the platform path, inside the test's own transaction when it has one)."""
    names = request.fixturenames
    marked = request.node.get_closest_marker("django_db") is not None
    uses_helper = "_django_db_helper" in names or marked
    if not (uses_helper or "django_db_setup" in names):
        yield
        return
    if uses_helper:
        # Set the test's database up before this fixture, so the check below runs before
        # its transaction is rolled back.
        request.getfixturevalue("_django_db_helper")
    yield
    from django.db import transaction

    from credex.tenancy import platform_path

    with django_db_blocker.unblock():
        connection = connections["default"]
        if connection.needs_rollback:
            return  # the test left its transaction broken on purpose; nothing to read
        with transaction.atomic(), platform_path(), connection.cursor() as cursor:
            cursor.execute(LEDGER_UNBALANCED_SQL)
            unbalanced = cursor.fetchall()
            cursor.execute(LEDGER_DRIFT_SQL)
            drift = cursor.fetchall()
    assert not unbalanced, f"journal entries that do not balance: {unbalanced}"
    assert not drift, f"account balances that differ from their postings: {drift}"


@dataclass
class Tenant:
    org: object
    owner: object
    admin: object = None
    coordinator: object = None
    auditor: object = None

    def membership(self, user):
        from credex.models import Membership
        from credex.tenancy import tenant_context

        with tenant_context(self.org):
            m = Membership.objects.select_related("user").get(user=user)
        m.organization = self.org
        return m


PASSWORD = "correct-horse-battery-staple"


def make_user(email, **extra):
    from allauth.account.models import EmailAddress

    from credex.models import User

    user = User.objects.create_user(email=email, password=PASSWORD, **extra)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def add_member(org, user, role):
    from credex.models import Membership
    from credex.tenancy import tenant_context

    with tenant_context(org):
        return Membership.objects.create(organization=org, user=user, role=role)


def build_tenant(name: str, domain: str, *, roles=("admin", "coordinator", "auditor")) -> Tenant:
    from credex.services import organization_create

    owner = make_user(f"owner@{domain}", first_name="Olive", last_name="Owner")
    org = organization_create(name=name, owner=owner)
    t = Tenant(org=org, owner=owner)
    for role in roles:
        user = make_user(f"{role}@{domain}")
        add_member(org, user, role)
        setattr(t, role, user)
    return t


@pytest.fixture
def tenant_a(db):
    return build_tenant("Acme Health", "a.example")


@pytest.fixture
def tenant_b(db):
    from credex.services import organization_create

    outsider = make_user("outsider@b.example")
    org = organization_create(name="Bayside Clinic", owner=outsider)
    return Tenant(org=org, owner=outsider)


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker):
    """Real commits (for tests about transactions, workers, concurrency).

    The audit table refuses TRUNCATE, so these tests cannot be flushed: they build their
    data with unique names (committed_tenant) and leave it behind in the test database.
    """
    with django_db_blocker.unblock():
        yield
        connections.close_all()


@pytest.fixture
def committed_tenant(committed_db):
    import uuid

    tag = uuid.uuid4().hex[:8]
    return build_tenant(f"Committed {tag}", f"{tag}.example")


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
        return client

    return _login


@contextlib.contextmanager
def own_queue():
    """Every task published meanwhile goes to a queue of this test's own, deleted at the end;
    yields its name. The embedded Redis broker is shared with whatever else runs from this
    checkout (a `make run` worker, another test process): their workers must not take these
    tasks (they would run them against another database). Read what was published with
    tests.waiting.published_tasks."""
    from credex.celery import app

    queue = f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    conf, amqp = app.conf, app.amqp
    before = conf.task_default_queue

    def reroute(name):
        conf.task_default_queue = name
        for cached in ("queues", "default_queue", "router"):
            amqp.__dict__.pop(cached, None)

    reroute(queue)
    try:
        yield queue
    finally:
        reroute(before)
        with contextlib.suppress(Exception), app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)


@contextlib.contextmanager
def own_queue_worker(*, concurrency: int = 2, shutdown_timeout: int = 30):
    """A real Celery worker on a queue of this test's own (own_queue): it takes only this
    test's tasks, and no other process's worker takes them."""
    from celery.contrib.testing.worker import start_worker

    from credex.celery import app

    with (
        own_queue() as queue,
        start_worker(
            app,
            pool="threads",
            concurrency=concurrency,
            perform_ping_check=False,
            shutdown_timeout=shutdown_timeout,
            queues=[queue],
        ),
    ):
        yield queue


def pytest_unconfigure(config):
    """Stop the embedded Postgres and Redis if this test session started them.

    Servers that were already running (a `make run` in another terminal) are reused and
    left running.
    """
    if os.environ.get("DATABASE_URL"):
        return
    from credex import embedded

    connections.close_all()
    embedded.stop_started_here()


def pytest_addoption(parser):
    parser.addoption(
        "--clock",
        metavar="HH:MM",
        default=None,
        help="run every test with the clock moved to today at HH:MM UTC (ticking), to prove "
        "the suite does not depend on the time of day",
    )


@pytest.fixture(autouse=True)
def _clock_at_time_of_day(request):
    when = request.config.getoption("--clock")
    if not when:
        yield
        return
    import datetime as dt

    import time_machine

    hour, minute = (int(part) for part in when.split(":"))
    today = dt.datetime.now(dt.UTC).date()
    with time_machine.travel(dt.datetime.combine(today, dt.time(hour, minute), dt.UTC), tick=True):
        yield
