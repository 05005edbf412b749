"""A loopback NPI Registry for tests: real recorded answers and crafted variants.

`FakeNppes` is a ThreadingHTTPServer on 127.0.0.1:0 in a thread. Each NPI gets a script of
answers (served in order, the last one repeating); the server records every request's
arrival time and the most requests it had in flight at once, so tests can check retries,
the rate limit and the pool bound from the server's side.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

SAMPLES = Path("/work/shared/data/nppes")


def sample(name: str) -> dict:
    """A recorded answer from ../shared/data/nppes/ (name without .json)."""
    return json.loads((SAMPLES / f"{name}.json").read_text())


def retarget(answer: dict, npi: str) -> dict:
    """A recorded answer served for another NPI (number kept in the sample's own type)."""
    answer = copy.deepcopy(answer)
    for result in answer.get("results", []):
        result["number"] = int(npi) if isinstance(result["number"], int) else npi
    return answer


def individual(
    npi: str,
    *,
    first="JANE",
    last="DOE",
    middle="",
    suffix="--",
    credential="M.D.",
    status="A",
    taxonomies=None,
    location=None,
    extra_basic=None,
) -> dict:
    """A 2022+-encoded individual answer (strings, epochs in ms, `sex`)."""
    basic = {
        "first_name": first,
        "last_name": last,
        "middle_name": middle,
        "credential": credential,
        "sex": "F",
        "enumeration_date": "2010-01-04",
        "last_updated": "2024-03-01",
        "status": status,
        "name_suffix": suffix,
        **(extra_basic or {}),
    }
    location = location or {
        "address_1": "100 MAIN ST",
        "address_2": "",
        "city": "SACRAMENTO",
        "state": "CA",
        "postal_code": "958141234",
    }
    return {
        "result_count": 1,
        "results": [
            {
                "number": npi,
                "enumeration_type": "NPI-1",
                "created_epoch": "1262563200000",
                "last_updated_epoch": "1709251200000",
                "basic": basic,
                "addresses": [
                    {**location, "address_purpose": "LOCATION", "country_code": "US"},
                    {**location, "address_purpose": "MAILING", "country_code": "US"},
                ],
                "practiceLocations": [],
                "taxonomies": taxonomies
                if taxonomies is not None
                else [
                    {
                        "code": "207R00000X",
                        "desc": "Internal Medicine",
                        "primary": True,
                        "state": "CA",
                        "license": "A12345",
                    }
                ],
                "identifiers": [],
                "other_names": [],
                "endpoints": [],
            }
        ],
    }


EMPTY = {"result_count": 0, "results": []}


@dataclass
class Answer:
    status: int = 200
    body: object = None  # dict -> JSON, str -> raw text
    delay: float = 0.0


class FakeNppes:
    def __init__(self, *, default: Answer | None = None, delay: float = 0.0):
        self.default = default or Answer(200, EMPTY)
        self.delay = delay
        self.scripts: dict[str, list[Answer]] = {}
        self.builder = None  # optional callable(npi) -> Answer
        self.requests: list[tuple[float, str, dict]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting ---------------------------------------------------------------------------
    def answer(self, npi: str, *answers) -> None:
        """Serve these answers for `npi`, in order; the last one repeats."""
        self.scripts[npi] = [a if isinstance(a, Answer) else Answer(200, a) for a in answers]

    def _next(self, npi: str) -> Answer:
        with self._lock:
            script = self.scripts.get(npi)
            if script:
                return script.pop(0) if len(script) > 1 else script[0]
        if self.builder is not None:
            return self.builder(npi)
        return self.default

    def count(self, npi: str | None = None) -> int:
        with self._lock:
            return sum(1 for _, n, _ in self.requests if npi is None or n == npi)

    def max_in_any_window(self, seconds: float = 1.0) -> int:
        """The most requests that arrived within any `seconds`-long window."""
        times = sorted(t for t, _, _ in self.requests)
        best, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] >= seconds:
                start += 1
            best = max(best, end - start + 1)
        return best

    def span(self) -> float:
        """Seconds between the first and the last request's arrival."""
        times = sorted(t for t, _, _ in self.requests)
        return times[-1] - times[0] if times else 0.0

    # -- server ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeNppes:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                arrived = time.monotonic()
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                npi = query.get("number", "")
                with fake._lock:
                    fake.requests.append((arrived, npi, query))
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    answer = fake._next(npi)
                    if answer.delay or fake.delay:
                        time.sleep(answer.delay or fake.delay)
                    body = answer.body
                    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


def use_fake(settings, fake: FakeNppes, *, rate=1000, concurrency=4, timeout=3, retries=3):
    """Point the NPPES_* settings at the fake (fast backoff for tests)."""
    settings.NPPES_BASE_URL = fake.url
    settings.NPPES_RATE_LIMIT_PER_SECOND = rate
    settings.NPPES_CONCURRENCY = concurrency
    settings.NPPES_TIMEOUT_SECONDS = timeout
    settings.NPPES_MAX_RETRIES = retries
    settings.NPPES_BACKOFF_SECONDS = 0.01
