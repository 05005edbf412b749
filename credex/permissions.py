"""One permission class: a view names the capability it needs per method."""

from __future__ import annotations

from rest_framework import exceptions, permissions

from credex.capabilities import has_capability


def actor_for(request):
    """The acting Membership or ApiKey for an API request (None outside an organization)."""
    django_request = getattr(request, "_request", request)
    return getattr(django_request, "api_key", None) or getattr(django_request, "membership", None)


class HasCapability(permissions.BasePermission):
    """`required_capabilities = {"GET": "x.view", "POST": "x.change"}` on the view.

    Authenticated but without an organization context: 404 (not yours = does not exist).
    """

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            raise exceptions.NotAuthenticated()
        needed = getattr(view, "required_capabilities", None)
        if needed is None:
            return True
        capability = needed.get(request.method) or needed.get("*")
        if request.method in ("HEAD", "OPTIONS"):
            capability = needed.get("GET", capability)
        if capability is None:
            return True
        actor = actor_for(request)
        if actor is None:
            raise exceptions.NotFound("No organization selected. Send X-CredEx-Organization.")
        return has_capability(actor.role, capability)
