"""Helpers every HTML view shares: the safe next-URL, htmx partials and `Vary`, form errors,
the domain-error-to-HTTP mapping and the "may this member change things" test.

Views stay thin (STYLE.md 1, 15): they parse, authorize, call a service and render; these are
the pieces of that which used to be copied into each interface module.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

from credex import capabilities as cap
from credex.errors import DomainError


def safe_next(request, fallback: str) -> str:
    """The `next` parameter (POST, then GET) when it points at this site, else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def is_partial(request) -> bool:
    """An htmx request for a fragment (a history restore wants the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def vary_on_htmx(response):
    """One URL serves the page and its fragment: caches must key on HX-Request."""
    patch_vary_headers(response, ["HX-Request"])
    return response


def form_errors(source, *, strings_only: bool = False) -> dict:
    """{field: message, "__all__": message} from a DomainError, or from a bound Django form.

    A DomainError's details are its field messages; `strings_only` drops the details that are
    not sentences (counts, lists) for templates that print every value beside a field.
    """
    if isinstance(source, DomainError):
        details = source.details or {}
        if strings_only:
            details = {k: v for k, v in details.items() if isinstance(v, str)}
        return {**details, "__all__": source.message}
    # A form's non-field errors are already under "__all__".
    return {name: str(messages[0]) for name, messages in source.errors.items() if messages}


def raise_http(exc: DomainError, *, not_found: bool = False) -> None:
    """For HTML views: a refused action (403) is the 403 page; with `not_found`, a missing
    object (404) is the 404 page. Any other DomainError returns, for the view to render."""
    if exc.status == 403:
        raise PermissionDenied from exc
    if not_found and exc.status == 404:
        raise Http404(exc.message) from exc


def can_change(request, capability: str = cap.CHANGE_ROSTER) -> bool:
    """Whether the acting member's role holds `capability` (by default, changing the roster)."""
    membership = getattr(request, "membership", None)
    return membership is not None and cap.has_capability(membership.role, capability)


def require_change(request, capability: str = cap.CHANGE_ROSTER) -> None:
    """403 unless the acting member may change (see can_change)."""
    if not can_change(request, capability):
        raise PermissionDenied
