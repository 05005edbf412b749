"""Who is acting: a member (browser or API session) or an organization's API key."""

from __future__ import annotations

from audit.services import Actor
from credex.capabilities import has_capability
from credex.errors import Forbidden
from credex.models import ApiKey, Membership


def role_of(actor: Membership | ApiKey) -> str:
    return actor.role


def audit_actor(actor: Membership | ApiKey | None) -> Actor:
    if isinstance(actor, Membership):
        return Actor.member(actor.user)
    if isinstance(actor, ApiKey):
        return Actor.api_key(actor)
    return Actor.system("system")


def require(actor: Membership | ApiKey, capability: str) -> None:
    """Raise Forbidden unless the actor's role grants the capability."""
    if not has_capability(role_of(actor), capability):
        raise Forbidden("Your role does not allow this.", details={"capability": capability})
