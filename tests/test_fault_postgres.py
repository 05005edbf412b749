"""Postgres goes down mid-test: /healthz, pages and the API answer 503, then recover.

The test starts its own Postgres (pgserver, under a tmp dir), builds the schema in it the
way production does (db_bootstrap's steps), serves the real WSGI handler from a one-thread
server in this process (like a gunicorn sync worker: request_started/finished fire, one
persistent connection), stops that Postgres, and starts it again. It never touches the
session's embedded Postgres or any other server.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from tests.conftest import build_tenant

ALIASES = ("default", "owner")


class PrivatePostgres:
    """A Postgres of this test only: start, stop, start again (same socket directory)."""

    def __init__(self, pgdata: Path):
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver

        self.server = pgserver.get_server(pgdata, cleanup_mode=None)
        self.socket_dir = self.server.get_uri().split("host=", 1)[1].split("&", 1)[0]

    def stop(self) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user
        )

    def start(self) -> None:
        self.server.ensure_postgres_running()

    def psql(self, sql: str, dbname: str) -> None:
        import psycopg

        with psycopg.connect(host=self.socket_dir, user="postgres", dbname=dbname) as conn:
            conn.execute(sql)


@pytest.fixture(scope="module")
def private_postgres(django_db_blocker):
    """Point both database aliases at a private, bootstrapped Postgres; restore after."""
    from credex import dbsetup

    # Not pytest's tmp_path: as root, pgserver runs Postgres as its own user, which cannot
    # enter pytest's 0700 folders. A short path also keeps the unix socket in the folder.
    folder = Path(tempfile.mkdtemp(prefix="credex-fault-pg-"))
    pg = PrivatePostgres(folder / "data")
    saved = {alias: dict(settings.DATABASES[alias]) for alias in ALIASES}
    saved_conn = {alias: dict(connections[alias].settings_dict) for alias in ALIASES}
    with django_db_blocker.unblock():
        connections.close_all()
        for alias in ALIASES:
            for target in (settings.DATABASES[alias], connections[alias].settings_dict):
                target.update(HOST=pg.socket_dir, PORT="", NAME="credex_fault")
        try:
            dbsetup.bootstrap(verbosity=0)
            yield pg
        finally:
            connections.close_all()
            for alias in ALIASES:
                settings.DATABASES[alias].clear()
                settings.DATABASES[alias].update(saved[alias])
                connections[alias].settings_dict.clear()
                connections[alias].settings_dict.update(saved_conn[alias])
            with contextlib.suppress(subprocess.CalledProcessError):
                pg.stop()
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def private_db(private_postgres):
    """The private Postgres, running (a failed test may have left it stopped)."""
    private_postgres.start()
    connections.close_all()  # this thread's connection, if an earlier test cut it
    return private_postgres


@pytest.fixture(scope="module")
def server(private_postgres):
    """The real WSGI handler on a loopback port, one request at a time on one thread."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    httpd = WSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    httpd.set_app(WSGIHandler())
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def fetch(url: str, *, cookie: str = "", api_key: str = "", body: dict | None = None):
    """(status, headers, text) of one request; an HTTP error status is an answer too."""
    headers = {"Accept": "text/html" if "/api/" not in url else "application/json"}
    if cookie:
        headers["Cookie"] = f"sessionid={cookie}"
    if api_key:
        headers["Authorization"] = f"Api-Key {api_key}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read().decode()


def _signed_in_owner():
    """An organization built through the services, and a session cookie for its owner."""
    from django.test import Client

    tenant = build_tenant("Fault Clinic", "fault.example", roles=())
    client = Client()
    client.force_login(tenant.owner)
    return tenant, client.cookies[settings.SESSION_COOKIE_NAME].value


def _api_key(tenant) -> str:
    from credex.services import api_key_create
    from credex.tenancy import tenant_context

    with tenant_context(tenant.org):
        _, raw = api_key_create(
            org=tenant.org, actor=tenant.membership(tenant.owner), name="Fault sync"
        )
    return raw


def assert_unavailable_json(status, headers, text):
    assert status == 503, text
    body = json.loads(text)
    assert body["code"] == "service_unavailable"
    assert "briefly unavailable" in body["message"]
    assert body["details"]["component"] == "database"
    assert int(headers["Retry-After"]) > 0
    return body


def assert_unavailable_page(status, headers, text):
    assert status == 503, text[:500]
    assert headers["Content-Type"].startswith("text/html")
    assert "CredEx is briefly unavailable" in text
    assert "Traceback" not in text and "OperationalError" not in text
    assert int(headers["Retry-After"]) > 0


def test_postgres_down_answers_503_everywhere_and_everything_recovers_after_restart(
    private_db, server, settings
):
    tenant, cookie = _signed_in_owner()
    key = _api_key(tenant)
    page = f"{server}/o/{tenant.org.slug}/"
    api = f"{server}/api/v1/me"
    assert fetch(f"{server}/healthz")[0] == 200
    assert fetch(page, cookie=cookie)[0] == 200
    assert fetch(api, cookie=cookie)[0] == 200
    assert fetch(api, api_key=key)[0] == 200

    private_db.stop()  # the server's persistent connection is cut mid-life

    status, _, text = fetch(f"{server}/healthz")
    assert status == 503
    assert json.loads(text) == {
        "status": "unavailable",
        "components": {"database": "down", "redis": "ok"},
    }
    assert_unavailable_page(*fetch(page, cookie=cookie))
    assert_unavailable_page(*fetch(f"{server}/", cookie=cookie))  # the home page
    assert_unavailable_json(*fetch(api, cookie=cookie))
    assert_unavailable_json(*fetch(api, api_key=key))  # the key lookup is a query too
    body = assert_unavailable_json(
        *fetch(f"{server}/api/v1/providers", api_key=key, body={"first_name": "A"})
    )
    assert body["details"]["reason"] == "unreachable"
    # With DEBUG on, Django shows its technical 500 page instead of handler500: still 503.
    settings.DEBUG = True
    assert_unavailable_page(*fetch(page, cookie=cookie))
    assert_unavailable_json(*fetch(api, api_key=key))
    settings.DEBUG = False

    private_db.start()

    assert fetch(f"{server}/healthz")[0] == 200
    assert fetch(page, cookie=cookie)[0] == 200
    assert fetch(api, cookie=cookie)[0] == 200
    assert fetch(api, api_key=key)[0] == 200


def test_a_write_refused_for_a_full_disk_answers_503_and_saves_nothing(private_db, server):
    from credex.tenancy import tenant_context
    from roster.models import Provider

    tenant = build_tenant("Full Disk Clinic", "disk.example", roles=())
    key = _api_key(tenant)
    # Postgres refuses a write with SQLSTATE 53100 when its disk is full. Filling a disk
    # is not something a test can do to a shared machine, so a trigger of this private
    # database raises exactly that error for inserts into the provider table.
    private_db.psql(
        "CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'could not extend file: No space left on device' "
        "USING ERRCODE = 'disk_full'; END $$; "
        f"CREATE TRIGGER disk_full BEFORE INSERT ON {Provider._meta.db_table} "
        "FOR EACH ROW EXECUTE FUNCTION disk_full();",
        dbname="credex_fault",
    )
    status, headers, text = fetch(
        f"{server}/api/v1/providers",
        api_key=key,
        body={"first_name": "Dana", "last_name": "Disk", "provider_type": "MD"},
    )
    body = assert_unavailable_json(status, headers, text)
    assert body["details"]["reason"] == "disk_full"
    with tenant_context(tenant.org):
        assert not Provider.objects.exists()
    assert fetch(f"{server}/api/v1/me", api_key=key)[0] == 200  # reads still work
