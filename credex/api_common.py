"""API plumbing: one error shape, cursor pagination."""

from __future__ import annotations

import math

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, pagination
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from credex.errors import DomainError
from credex.permissions import actor_for
from credex.tenancy import NoActiveOrganization


class CursorPagination(pagination.CursorPagination):
    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 200


_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    415: "unsupported_media_type",
    429: "throttled",
}


def exception_handler(exc, context):
    """Every error as {"code", "message", "details"}."""
    if isinstance(exc, DomainError):
        return Response(
            {"code": exc.code, "message": exc.message, "details": exc.details}, status=exc.status
        )
    if isinstance(exc, NoActiveOrganization):
        exc = exceptions.NotFound("No organization selected.")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    if isinstance(exc, exceptions.ValidationError):
        # A non-field ValidationError carries a list; details stays an object.
        details = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        message = "Some fields are not valid."
    elif isinstance(detail, dict) and "detail" in detail:
        message, details = str(detail["detail"]), {}
    else:
        message, details = str(detail), {}
    code = getattr(getattr(exc, "detail", None), "code", None)
    if not isinstance(code, str) or isinstance(
        exc, exceptions.ValidationError | exceptions.PermissionDenied
    ):
        # One code per status where DRF and the services disagree: DRF's own 403s
        # ("permission_denied", e.g. a CSRF failure) answer "forbidden" like a service does.
        code = _CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.Throttled) and exc.wait:
        details = {"retry_after_seconds": math.ceil(exc.wait)}
    response.data = {"code": code, "message": message, "details": details}
    return response


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def error_json(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "details": {}}, status=status)


def bad_request(request, exception=None):
    """handler400: Django's own 400s (SuspiciousOperation, a body too large) in the API's shape."""
    from django.core.exceptions import RequestDataTooBig

    from credex import hostile

    if isinstance(exception, RequestDataTooBig):
        refused = hostile.too_big()
        return hostile.error_response(
            request, refused.status, refused.code, refused.message, refused.details
        )
    return hostile.error_response(
        request, 400, "invalid", "The request could not be understood (bad host, header or body)."
    )


def permission_denied(request, exception=None):
    """handler403: the API's shape under /api/ (DRF's own 403s already have it)."""
    if _is_api(request):
        return error_json("forbidden", "You do not have permission to do this.", 403)
    return defaults.permission_denied(request, exception)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a 403 in the API's shape under /api/, the 403 page elsewhere."""
    if _is_api(request):
        return error_json("forbidden", "CSRF verification failed. Reload and try again.", 403)
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason=reason)


def not_found(request, exception=None):
    """handler404: a URL no route matches (e.g. a malformed id) answers in the API's shape."""
    if _is_api(request):
        return error_json("not_found", "Not found.", 404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """handler500: the API's shape for an unhandled error, without the exception's text.

    Django calls it while handling the exception: a database that is unavailable (e.g. the
    session middleware saving after the view) answers 503, not 500 (credex/unavailable.py).
    """
    import sys

    from credex.unavailable import database_unavailable, unavailable_response

    exc = sys.exc_info()[1]
    if database_unavailable(exc):
        return unavailable_response(request, exc)
    if _is_api(request):
        return error_json("server_error", "Something went wrong on our side.", 500)
    return defaults.server_error(request)


class OrgAPIView(APIView):
    """An endpoint under /api/v1/orgs/<slug>/: the organization and the acting member or API key
    that the middleware and authentication resolved, as `self.org` and `self.actor`."""

    @property
    def org(self):
        return self.request._request.org

    @property
    def actor(self):
        return actor_for(self.request)
