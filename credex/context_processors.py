from __future__ import annotations

from credex.capabilities import ROLE_CAPABILITIES


def tenant(request):
    """Active organization, membership, capabilities and the switcher list for templates."""
    org = getattr(request, "org", None)
    membership = getattr(request, "membership", None)
    caps = ROLE_CAPABILITIES.get(membership.role, frozenset()) if membership else frozenset()
    switcher = []
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from credex.selectors import memberships_for_user
        from credex.tenancy import user_context

        # Error pages render outside the middleware's transaction; read in one of our own.
        with user_context(user.pk):
            switcher = memberships_for_user(user)
    return {"org": org, "membership": membership, "caps": caps, "switcher": switcher}
