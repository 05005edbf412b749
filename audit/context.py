"""Per-request facts the recorder adds to every event (IP, user agent), set by middleware."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestMeta:
    ip: str | None = None
    user_agent: str = ""


NO_REQUEST = RequestMeta()  # frozen: safe to share as the default
request_meta: contextvars.ContextVar[RequestMeta] = contextvars.ContextVar(
    "credex_request_meta",
    default=NO_REQUEST,  # noqa: B039
)


def meta_from_request(request) -> RequestMeta:
    ip = request.META.get("REMOTE_ADDR") or None
    return RequestMeta(ip=ip, user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:400])
