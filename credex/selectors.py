"""Reads used by views, API and tasks."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from credex.models import ApiKey, Invitation, Membership


def memberships_for_user(user) -> list[Membership]:
    """The user's memberships in every organization (for the switcher), org name order."""
    return list(
        Membership.objects.for_user(user)
        .select_related("organization")
        .order_by("organization__name")
    )


def member_list(*, org) -> QuerySet[Membership]:
    """Members of the active organization with their users (and `has_mfa`: a TOTP device)."""
    from allauth.mfa.models import Authenticator

    totp = Authenticator.objects.filter(user=OuterRef("user_id"), type=Authenticator.Type.TOTP)
    return (
        Membership.objects.filter(organization=org)
        .select_related("user")
        .annotate(has_mfa=Exists(totp))
        .order_by("user__email")
    )


def removed_member_list(*, org) -> QuerySet[Membership]:
    """Removed members of the organization (they grant nothing), most recently removed first."""
    return (
        Membership.all_objects.filter(organization=org, removed_at__isnull=False)
        .select_related("user", "removed_by__user")
        .order_by("-removed_at")
    )


def invitation_list(*, org) -> QuerySet[Invitation]:
    """Invitations of the organization, newest first."""
    return Invitation.objects.filter(organization=org).select_related("invited_by__user")


def api_key_list(*, org) -> QuerySet[ApiKey]:
    """API keys of the organization, newest first."""
    return ApiKey.objects.filter(organization=org).select_related("created_by__user")
