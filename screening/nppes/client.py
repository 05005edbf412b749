"""HTTP client for the NPI Registry API v2.1: `GET {base}/api/?version=2.1&number=NPI`.

- one `requests.Session` per worker thread (connection reuse without sharing a Session
  across threads);
- timeouts on every request; retries with exponential backoff and jitter on 5xx, 429,
  connection errors and timeouts, never on other 4xx;
- a process-wide, thread-safe rate limiter (requests/second from settings) that every
  attempt, retries included, goes through;
- a bounded ThreadPoolExecutor for many NPIs at once.

It never raises for a lookup: every outcome is a `FetchResult` (found, not_found or error,
with the API's `Errors` list, the HTTP status and the attempt count). Worker threads only do
HTTP; they never touch the ORM (the caller writes, in its own tenant context).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime

import requests
from django.conf import settings
from django.utils import timezone

from screening.nppes.parse import ApiError, MalformedAnswer, NppesRecord, parse_answer

API_VERSION = "2.1"
USER_AGENT = "CredEx/1.0 (credentialing; NPPES registry refresh)"
MAX_BACKOFF_SECONDS = 30.0


class RateLimiter:
    """A token bucket of capacity one: requests leave at most `rate` per second, evenly.

    Capacity one (no burst) is what keeps any 1-second window at or below rate + 1 requests
    however many threads ask at once. Thread-safe: the lock only books the next slot; the
    wait happens outside it.
    """

    def __init__(self, rate_per_second: float):
        if rate_per_second <= 0:
            raise ValueError("The NPPES rate limit must be a positive number of requests/s.")
        self.rate = float(rate_per_second)
        self.interval = 1.0 / self.rate
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until this caller may send; returns the seconds waited."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        wait = slot - now
        if wait > 0:
            time.sleep(wait)
        return max(wait, 0.0)


_limiters: dict[tuple[str, float], RateLimiter] = {}
_limiters_lock = threading.Lock()


def shared_limiter(base_url: str, rate_per_second: float) -> RateLimiter:
    """The one limiter of this process for a base URL and rate (every client shares it)."""
    key = (base_url.rstrip("/"), float(rate_per_second))
    with _limiters_lock:
        limiter = _limiters.get(key)
        if limiter is None:
            limiter = _limiters[key] = RateLimiter(rate_per_second)
        return limiter


@dataclass
class FetchResult:
    npi: str
    outcome: str  # "found" | "not_found" | "error"
    record: NppesRecord | None = None
    raw: dict | None = None
    api_errors: list[ApiError] = field(default_factory=list)
    error_kind: str = ""  # "" | "api" | "http" | "timeout" | "network" | "malformed"
    error_message: str = ""
    http_status: int | None = None
    attempts: int = 0
    elapsed_ms: int = 0
    fetched_at: datetime | None = None

    @property
    def is_error(self) -> bool:
        return self.outcome == "error"

    def error_detail(self) -> dict:
        """JSON-safe description of what went wrong (empty when nothing did)."""
        if not self.is_error:
            return {}
        return {
            "kind": self.error_kind,
            "message": self.error_message,
            "errors": [e.as_json() for e in self.api_errors],
        }

    def summary(self) -> dict:
        """The audit event's result summary (no personal data beyond the public registry)."""
        out = {
            "outcome": self.outcome,
            "http_status": self.http_status,
            "attempts": self.attempts,
            "elapsed_ms": self.elapsed_ms,
        }
        if self.record is not None:
            out["enumeration_type"] = self.record.enumeration_type
            out["status"] = self.record.status
            out["last_updated"] = (
                self.record.last_updated.isoformat() if self.record.last_updated else None
            )
        if self.is_error:
            out["error"] = self.error_detail()
        return out


class _Retry(Exception):
    def __init__(self, kind: str, message: str, status: int | None = None, wait: float = 0.0):
        super().__init__(message)
        self.kind, self.message, self.status, self.wait = kind, message, status, wait


class NppesClient:
    """Fetch NPI records; every knob defaults to the NPPES_* settings."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        rate_per_second: float | None = None,
        concurrency: int | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        backoff_seconds: float | None = None,
        limiter: RateLimiter | None = None,
    ):
        self.base_url = (base_url or settings.NPPES_BASE_URL).rstrip("/")
        rate = rate_per_second or settings.NPPES_RATE_LIMIT_PER_SECOND
        self.limiter = limiter or shared_limiter(self.base_url, rate)
        self.concurrency = max(1, int(concurrency or settings.NPPES_CONCURRENCY))
        self.timeout = float(timeout or settings.NPPES_TIMEOUT_SECONDS)
        self.max_retries = int(settings.NPPES_MAX_RETRIES if max_retries is None else max_retries)
        self.backoff_seconds = float(
            settings.NPPES_BACKOFF_SECONDS if backoff_seconds is None else backoff_seconds
        )
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    # -- plumbing --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"{self.base_url}/api/"

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def __enter__(self) -> NppesClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter on top: base * 2^(n-1) + U(0, base)."""
        base = self.backoff_seconds
        delay = min(MAX_BACKOFF_SECONDS, base * (2 ** (attempt - 1)))
        return delay + random.uniform(0, base)  # noqa: S311 (jitter, not crypto)

    # -- one NPI ---------------------------------------------------------------------------
    def _attempt(self, npi: str) -> FetchResult:
        self.limiter.acquire()
        try:
            response = self._session().get(
                self.url,
                params={"version": API_VERSION, "number": npi},
                timeout=(self.timeout, self.timeout),
            )
        except requests.Timeout as exc:
            raise _Retry("timeout", f"No answer within {self.timeout:g} s ({type(exc).__name__}).")
        except requests.ConnectionError as exc:
            raise _Retry("network", f"Could not connect: {type(exc).__name__}.")
        except requests.RequestException as exc:
            return FetchResult(npi, "error", error_kind="network", error_message=type(exc).__name__)
        status = response.status_code
        if status >= 500 or status == 429:
            wait = _retry_after(response.headers.get("Retry-After"))
            raise _Retry("http", f"The registry answered HTTP {status}.", status, wait)
        if status >= 400:
            return FetchResult(
                npi,
                "error",
                error_kind="http",
                error_message=f"The registry answered HTTP {status}.",
                http_status=status,
            )
        try:
            payload = response.json()
            parsed = parse_answer(payload, npi=npi)
        except (ValueError, MalformedAnswer) as exc:
            return FetchResult(
                npi,
                "error",
                error_kind="malformed",
                error_message=f"Unreadable answer: {str(exc)[:200]}",
                http_status=status,
            )
        if parsed.kind == "errors":
            first = parsed.errors[0]
            return FetchResult(
                npi,
                "error",
                raw=payload,
                api_errors=parsed.errors,
                error_kind="api",
                error_message=f"{first.number} {first.description}".strip(),
                http_status=status,
            )
        if parsed.kind == "not_found":
            return FetchResult(npi, "not_found", raw=payload, http_status=status)
        return FetchResult(npi, "found", record=parsed.record, raw=payload, http_status=status)

    def fetch(self, npi: str) -> FetchResult:
        """Look up one NPI; retries what is worth retrying; never raises."""
        started = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            try:
                result = self._attempt(npi)
            except _Retry as failure:
                if attempts <= self.max_retries:
                    time.sleep(max(self.backoff(attempts), failure.wait))
                    continue
                result = FetchResult(
                    npi,
                    "error",
                    error_kind=failure.kind,
                    error_message=f"{failure.message} Gave up after {attempts} attempts.",
                    http_status=failure.status,
                )
            except Exception as exc:  # a bug or an odd answer must not stop a whole night
                result = FetchResult(
                    npi, "error", error_kind="network", error_message=type(exc).__name__
                )
            result.attempts = attempts
            result.elapsed_ms = int((time.monotonic() - started) * 1000)
            result.fetched_at = timezone.now()
            return result

    # -- many NPIs -------------------------------------------------------------------------
    def fetch_many(self, npis: Iterable[str]) -> Iterator[FetchResult]:
        """Fetch concurrently (at most `concurrency` in flight); yield results as they come."""
        npis = list(dict.fromkeys(npis))
        if not npis:
            return
        workers = min(self.concurrency, len(npis))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nppes") as pool:
            futures = [pool.submit(self.fetch, npi) for npi in npis]
            try:
                for future in as_completed(futures):
                    yield future.result()
            finally:
                for future in futures:
                    future.cancel()


def _retry_after(value: str | None) -> float:
    try:
        return min(MAX_BACKOFF_SECONDS, max(0.0, float(value))) if value else 0.0
    except ValueError:
        return 0.0
