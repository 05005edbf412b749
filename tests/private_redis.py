"""A Redis of the test's own, started with the embedded Redis' options (credex/embedded.py),
which the test may stop and start: fault tests never touch the session's embedded Redis
or a Redis on 127.0.0.1:6379.

`celery_on(redis)` points the Celery app (broker and result backend) at it, and
`cache_on(settings, redis)` the Django cache, for the length of a `with` block.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

import redis as redis_py

from credex import embedded


class PrivateRedis:
    def __init__(self) -> None:
        # Short path: unix socket paths are limited to ~107 bytes.
        self.folder = Path(tempfile.mkdtemp(prefix="credex-rq-", dir="/tmp"))
        self.sock = self.folder / "redis.sock"
        self.pidfile = self.folder / "redis.pid"

    @property
    def celery_url(self) -> str:
        return f"redis+socket://{self.sock}?db=0"

    @property
    def cache_url(self) -> str:
        return f"unix://{self.sock}?db=1"

    def client(self) -> redis_py.Redis:
        return redis_py.Redis(unix_socket_path=str(self.sock))

    def start(self) -> None:
        embedded.start_redis_server(self.folder, self.sock, self.pidfile)

    def stop(self) -> None:
        embedded.stop_redis_server(self.sock, self.pidfile)
        assert not self.sock.exists()


@contextlib.contextmanager
def private_redis():
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


def reset_celery_connections(app) -> None:
    """Forget the app's broker pools and result backend (they are rebuilt from app.conf)."""
    app._pool = None
    app.__dict__.get("amqp") and setattr(app.amqp, "_producer_pool", None)
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@contextlib.contextmanager
def celery_on(server: PrivateRedis):
    from credex.celery import app

    conf = app.conf
    before = conf.broker_url, conf.result_backend
    conf.broker_url = conf.result_backend = server.celery_url
    reset_celery_connections(app)
    try:
        yield app
    finally:
        conf.broker_url, conf.result_backend = before
        reset_celery_connections(app)


def cache_on(settings, server: PrivateRedis) -> None:
    """Point the default cache at the private Redis (pytest-django's `settings` restores it)."""
    caches = {**settings.CACHES}
    caches["default"] = {**caches["default"], "LOCATION": server.cache_url}
    settings.CACHES = caches
