"""Hostile input is refused once, here, before any view or serializer sees it.

Postgres cannot store NUL in text (psycopg raises, which was a 500 wherever a NUL reached a
query), and no CredEx field means to hold other control characters either. So every text
input is checked in one place: the path, the query string, form fields (urlencoded and
multipart, including uploaded file names), JSON string values and keys at any depth, and the
request headers the app reads (the user agent is stored in audit events). Tab, CR and LF are
allowed. A refusal is a 400 naming the field.

JSON is also refused when nested deeper than JSON_MAX_DEPTH (Python's json module recurses:
50,000 levels was a RecursionError in the view's parser; here the C decoder's own recursion
guard stops it, and the depth of what parsed is measured without recursion), and a body over
DATA_UPLOAD_MAX_MEMORY_SIZE answers 413. Under /api/ and /webhooks/ every answer has the API's
{"code", "message", "details"} shape; elsewhere an HTML error page.
"""

from __future__ import annotations

import json
import re

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.template import loader

JSON_MAX_DEPTH = 32

# C0 controls except tab (09), LF (0A) and CR (0D); DEL and the C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Headers whose values the app reads or stores.
_HEADERS = {
    "HTTP_USER_AGENT": "User-Agent",
    "HTTP_X_CREDEX_ORGANIZATION": "X-CredEx-Organization",
    "HTTP_AUTHORIZATION": "Authorization",
    "HTTP_COOKIE": "Cookie",
    "HTTP_REFERER": "Referer",
    "HTTP_HX_CURRENT_URL": "HX-Current-URL",
    "HTTP_HX_TARGET": "HX-Target",
    "HTTP_HX_TRIGGER": "HX-Trigger",
    "HTTP_HX_TRIGGER_NAME": "HX-Trigger-Name",
    "HTTP_X_FORWARDED_FOR": "X-Forwarded-For",
}


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}


def _describe(char: str) -> str:
    return "NUL" if char == "\x00" else f"U+{ord(char):04X}"


def _check_text(field: str, value: str) -> None:
    found = CONTROL.search(value)
    if found:
        raise Refused(
            400,
            "invalid",
            f"The field {field!r} contains a control character ({_describe(found.group())}). "
            "Remove it and try again.",
            {field: [f"Control characters ({_describe(found.group())}) are not allowed."]},
        )


def _label(key: str) -> str:
    """A field name fit to show back: control characters replaced, length capped."""
    return CONTROL.sub("?", key[:100])


def _check_querydict(data) -> None:
    for key, values in data.lists():
        _check_text(_label(key), key)
        for value in values:
            if isinstance(value, str):
                _check_text(_label(key), value)


def _too_deep() -> Refused:
    return Refused(
        400,
        "invalid",
        f"The JSON body is nested more than {JSON_MAX_DEPTH} levels deep.",
        {"body": [f"Nest objects and arrays at most {JSON_MAX_DEPTH} levels deep."]},
    )


def _check_json(value) -> None:
    """Depth, and every string value and key of a parsed JSON document (no recursion)."""
    stack = [("", value, 0)]
    while stack:
        path, node, depth = stack.pop()
        if isinstance(node, str):
            _check_text(path or "body", node)
            continue
        if not isinstance(node, dict | list):
            continue
        if depth >= JSON_MAX_DEPTH:
            raise _too_deep()
        if isinstance(node, dict):
            for key, child in node.items():
                child_path = f"{path}.{_label(key)}" if path else _label(key)
                _check_text(child_path, key)
                stack.append((child_path, child, depth + 1))
        else:
            stack.extend((f"{path}[{i}]", child, depth + 1) for i, child in enumerate(node))


def _is_json(request: HttpRequest) -> bool:
    content_type = request.content_type or ""
    return content_type == "application/json" or content_type.endswith("+json")


def check_request(request: HttpRequest) -> None:
    """Raise Refused for a request carrying control characters, too-deep JSON or too much data."""
    _check_text("path", request.path)
    for meta, name in _HEADERS.items():
        value = request.META.get(meta)
        if value:
            _check_text(f"header {name}", value)
    _check_querydict(request.GET)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if _is_json(request):
        try:
            parsed = json.loads(request.body)
        except RecursionError:
            raise _too_deep()
        except ValueError:
            return  # the parser that reads it answers the parse error
        _check_json(parsed)
        return
    content_type = request.content_type or ""
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return
    if request.method != "POST":
        # Django parses form bodies of POST only; DRF parses PUT/PATCH/DELETE ones itself.
        if content_type == "multipart/form-data":
            # Parsed once here; DRF takes request.POST/FILES when the stream is read.
            request._post, request._files = request.parse_file_upload(request.META, request)
        else:
            _check_querydict(QueryDict(request.body, encoding=request.encoding))
            return
    _check_querydict(request.POST)
    for key, files in request.FILES.lists():
        for upload in files:
            if upload.name:
                _check_text(f"{_label(key)} (file name)", upload.name)


def too_big() -> Refused:
    from django.conf import settings

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return Refused(
        413,
        "payload_too_large",
        f"The request body is larger than the {limit // 1024} KB this endpoint accepts "
        "(file uploads excepted).",
        {"max_bytes": limit},
    )


def is_api(request: HttpRequest) -> bool:
    """The API and the inbound webhooks answer in the error shape, never an HTML page."""
    return request.path_info.startswith(("/api/", "/webhooks/"))


def error_response(
    request: HttpRequest, status: int, code: str, message: str, details: dict | None = None
) -> HttpResponse:
    """The API's shape under /api/, an HTML error page elsewhere."""
    if is_api(request):
        return JsonResponse(
            {"code": code, "message": message, "details": details or {}}, status=status
        )
    titles = {400: "Bad request", 403: "Forbidden", 413: "Request too large"}
    # An htmx request swaps the answer into its target: the message alone, not a page.
    template = "partials/refused.html" if request.headers.get("HX-Request") else "400.html"
    html = loader.render_to_string(
        template,
        {"status": status, "title": titles.get(status, "Bad request"), "message": message},
        request=request,
    )
    return HttpResponse(html, status=status)


class HostileInputMiddleware:
    """Refuses control characters, too-deep JSON and oversized bodies before any view runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            check_request(request)
        except Refused as refused:
            return error_response(
                request, refused.status, refused.code, refused.message, refused.details
            )
        except RequestDataTooBig:
            refused = too_big()
            return error_response(
                request, refused.status, refused.code, refused.message, refused.details
            )
        except (SuspiciousOperation, MultiPartParserError) as exc:
            # Too many fields or files, a malformed multipart body.
            message = str(exc) or "The request body could not be read."
            return error_response(request, 400, "invalid", message, {})
        return self.get_response(request)
