"""A loopback stand-in for Stripe, for what localstripe lacks (Checkout Sessions, Prices,
Connect accounts and transfers, account links, the billing portal, idempotency keys).

It records every request exactly as the `stripe` SDK sent it (method, path, the form body
decoded into Stripe's nested `a[b][0][c]` keys, the `Idempotency-Key` header) and answers from
handlers the test registers, with Stripe-shaped JSON objects:

    with StripeStub() as stub:
        stub.on("POST", "/v1/checkout/sessions", lambda req: {"id": "cs_1", "object": ...})
        settings.STRIPE_API_BASE = stub.url
        ...
        (req,) = stub.requests_to("POST", "/v1/checkout/sessions")
        assert req.form["mode"] == "subscription"
        assert req.idempotency_key == "credex-..."

A request no handler matches answers 404 with Stripe's error shape (and is recorded), so a
test sees unexpected calls. Handlers may return (status, body) to answer an error, or a `Raw`
answer (a page, a redirect): the stand-in for Stripe's hosted pages in the browser tests.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Raw:
    """A non-JSON answer: `body` with `content_type`, or a redirect to `location`."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    location: str = ""


@dataclass
class StubRequest:
    method: str
    path: str
    query: dict
    form: dict  # flat: {"line_items[0][price]": "price_1", ...}
    headers: dict
    match: re.Match | None = None

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")

    def nested(self) -> dict:
        """The form as nested dicts/lists, as Stripe reads it."""
        out: dict = {}
        for key, value in self.form.items():
            parts = re.findall(r"[^\[\]]+", key)
            node = out
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, {})
        return _listify(out)


def _listify(node):
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_listify(node[k]) for k in sorted(node, key=int)]
        return {k: _listify(v) for k, v in node.items()}
    return node


@dataclass
class StripeStub:
    host: str = "127.0.0.1"
    requests: list[StubRequest] = field(default_factory=list)

    def __post_init__(self):
        self._routes: list[tuple[str, re.Pattern, object]] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                query = dict(parse_qsl(parts.query, keep_blank_values=True))
                form = dict(parse_qsl(body, keep_blank_values=True))
                if self.command == "GET":
                    form = query
                request = StubRequest(
                    method=self.command,
                    path=parts.path,
                    query=query,
                    form=form,
                    headers={k.lower(): v for k, v in self.headers.items()},
                )
                status, payload = stub._answer(request)
                if isinstance(payload, Raw):
                    data, content_type = payload.body, payload.content_type
                else:
                    data, content_type = json.dumps(payload).encode(), "application/json"
                self.send_response(status)
                if isinstance(payload, Raw) and payload.location:
                    self.send_header("Location", payload.location)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_stub_{len(stub.requests)}")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _handle

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._server.server_address[1]}"

    def on(self, method: str, path_pattern: str, handler) -> None:
        """Answer `method` on paths fully matching the regex with `handler(request)`: a dict
        (200) or (status, dict). Later registrations win."""
        self._routes.insert(0, (method.upper(), re.compile(path_pattern), handler))

    def _answer(self, request: StubRequest):
        with self._lock:
            self.requests.append(request)
            routes = list(self._routes)
        for method, pattern, handler in routes:
            match = pattern.fullmatch(request.path)
            if method == request.method and match:
                request.match = match
                result = handler(request)
                if isinstance(result, tuple):
                    return result
                if isinstance(result, Raw):
                    return result.status, result
                return 200, result
        return 404, {
            "error": {
                "type": "invalid_request_error",
                "message": f"stub: no handler for {request.method} {request.path}",
            }
        }

    def requests_to(self, method: str, path_pattern: str) -> list[StubRequest]:
        pattern = re.compile(path_pattern)
        with self._lock:
            return [
                r for r in self.requests if r.method == method.upper() and pattern.fullmatch(r.path)
            ]

    def start(self) -> StripeStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StripeStub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
