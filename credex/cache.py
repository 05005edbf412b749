"""The Redis cache, failing open: when Redis is down a read misses, a write is dropped and
`add` reports success, with a warning in the log (at most one every 30 s per process).

Nothing in CredEx needs the cache to be right: it holds live progress, the API throttle's
and allauth's rate-limit histories, and day keys that stop a second beat fanning a job out
twice (each fanned-out job is locked in Postgres anyway). Locks that matter are Postgres
advisory locks; sessions are in the database. So a Redis outage must not answer 500 on
every page and API call (the throttle and the login rate limit read the cache on each
request); see docs/production.md, "What happens when".

Login: allauth's rate limit fails open too. Password guessing stays limited while Redis is
down because axes' lockout (5 failures per username and IP, 15 minutes) is in Postgres;
failing closed would lock every user out of the application for the length of the outage.
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
_WARN_EVERY = 30.0
_last_warning = [0.0]


def _warn(operation: str, exc: Exception) -> None:
    now = time.monotonic()
    if now - _last_warning[0] >= _WARN_EVERY:
        _last_warning[0] = now
        log.warning("cache unavailable (%s: %s); continuing without it", operation, exc)


class FailOpenRedisCache(RedisCache):
    """django's RedisCache; connection errors and timeouts answer as if the key was absent."""

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except _DOWN as exc:
            _warn("get", exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except _DOWN as exc:
            _warn("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except _DOWN as exc:
            _warn("has_key", exc)
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except _DOWN as exc:
            _warn("add", exc)
            return True

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set(key, value, timeout, version)
        except _DOWN as exc:
            _warn("set", exc)
            return None

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except _DOWN as exc:
            _warn("set_many", exc)
            return list(data)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except _DOWN as exc:
            _warn("touch", exc)
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except _DOWN as exc:
            _warn("incr", exc)
            raise ValueError(f"Key '{key}' not found (cache unavailable)") from exc

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except _DOWN as exc:
            _warn("delete", exc)
            return False

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except _DOWN as exc:
            _warn("delete_many", exc)
            return None
