"""One permission class: a view names the capability it needs per method."""

from __future__ import annotations

from rest_framework import exceptions, permissions

from credex.capabilities import has_capability
from credex.errors import Forbidden

# `required_capabilities = {"GET": AUTHENTICATED_ONLY}`: the method needs a signed-in caller
# (or an API key) but no organization and no capability, e.g. "who am I".
AUTHENTICATED_ONLY = None


def actor_for(request):
    """The acting Membership or ApiKey for an API request (None outside an organization)."""
    django_request = getattr(request, "_request", request)
    return getattr(django_request, "api_key", None) or getattr(django_request, "membership", None)


def capability_for(view, method: str) -> tuple[bool, str | None]:
    """(declared, capability) for `method` on `view`. HEAD and OPTIONS need what GET needs.

    OPTIONS on a view without GET (DELETE only) describes the endpoint, holds no data, and
    needs only a signed-in caller.
    """
    needed = getattr(view, "required_capabilities", None) or {}
    method = method.upper()
    if method in needed:
        return True, needed[method]
    if method in ("HEAD", "OPTIONS"):
        return True, needed.get("GET", AUTHENTICATED_ONLY)
    return False, None


class HasCapability(permissions.BasePermission):
    """`required_capabilities = {"GET": "x.view", "POST": "x.change"}` on the view.

    - anonymous: 401;
    - a method the view serves but does not declare: 403 for everyone (fails closed; the
      permission-matrix test names the view);
    - a capability but no organization in context: 404 (not yours = does not exist);
    - a role without the capability: 403 with the same shape as a service's Forbidden.
    A method the view does not implement passes here so that DRF answers 405.
    """

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            raise exceptions.NotAuthenticated()
        method = request.method.lower()
        if method not in view.http_method_names or not hasattr(view, method):
            return True
        declared, capability = capability_for(view, request.method)
        if not declared:
            raise Forbidden(
                f"{type(view).__name__} does not declare a capability for {request.method}.",
                code="capability_undeclared",
            )
        if capability is AUTHENTICATED_ONLY:
            return True
        actor = actor_for(request)
        if actor is None:
            raise exceptions.NotFound("No organization selected. Send X-CredEx-Organization.")
        if not has_capability(actor.role, capability):
            raise Forbidden("Your role does not allow this.", details={"capability": capability})
        return True
