"""The database is unreachable: answer 503 "briefly unavailable", never a 500.

With Postgres down (stopped, restarting, a network cut, out of disk) every request failed
with a 500 page: the tenant middleware opens a transaction before the view, and the session
lookup behind `request.user` is a query. Here one place decides what "the database is
unavailable" means and what the answer looks like; it is applied in three spots so no path
falls through to a 500:

- `TenantMiddleware.__call__` (its own queries: session/user, membership, the RLS settings,
  the commit of the request's transaction),
- `TenantMiddleware.process_exception` (a view's query; also with DEBUG on, where Django
  would show its technical 500 page instead of calling handler500),
- `credex.api_common.server_error` (handler500: whatever else, e.g. the session middleware
  saving a modified session after the view).

Under /api/ the answer has the API's {"code", "message", "details"} shape; elsewhere the
self-contained templates/503.html (rendered without a request, so no context processor
queries the database). Both carry Retry-After. Django closes an unusable connection at the
end of the request, so the first request after Postgres is back reconnects.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader

logger = logging.getLogger("credex.unavailable")

RETRY_AFTER_SECONDS = 10
# SQLSTATE classes/codes that mean "the server cannot serve us right now", as opposed to an
# OperationalError about this statement (deadlock 40P01, serialization 40001, a cancelled
# query 57014), which stays a 500 with its own handling.
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "53")  # connection exception; insufficient resources
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03"}  # admin/crash shutdown, cannot connect now


def database_unavailable(exc: BaseException | None) -> bool:
    """True when `exc` says Postgres is unreachable, shutting down or out of resources."""
    if isinstance(exc, InterfaceError):
        return True  # "connection already closed"
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate is None:
        return True  # connection refused / server closed the connection: no SQLSTATE
    return sqlstate.startswith(_UNAVAILABLE_SQLSTATE_PREFIXES) or sqlstate in (
        _UNAVAILABLE_SQLSTATES
    )


def _reason(exc: BaseException) -> str:
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate == "53100":
        return "disk_full"
    return "unreachable"


def unavailable_response(request, exc: BaseException) -> HttpResponse:
    """503 for a request that failed because the database is unavailable."""
    reason = _reason(exc)
    # The message of a connection error names the host or socket, never the password.
    first_line = (str(exc).strip().splitlines() or [""])[0][:200]
    logger.warning(
        "Database %s: %s %s answered 503 (%s: %s)",
        reason.replace("_", " "),
        request.method,
        request.path_info,
        type(exc).__name__,
        first_line,
    )
    if request.path_info.startswith("/api/"):
        response = JsonResponse(
            {
                "code": "service_unavailable",
                "message": "CredEx is briefly unavailable: its database cannot take requests "
                "right now. Try again in a moment.",
                "details": {"component": "database", "reason": reason},
            },
            status=503,
        )
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
