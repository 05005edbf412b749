"""Authentication events -> audit log.

Account-level events (login, logout, MFA) are recorded in the chain of every organization
the user belongs to, so each organization's auditor sees them; a failure for an unknown
e-mail has no organization and goes to the platform chain.
"""

from __future__ import annotations

from allauth.mfa import signals as mfa_signals
from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import connection
from django.dispatch import receiver

from audit.services import Actor, audit_record
from credex.models import Membership


def _org_ids(user) -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('app.current_user', true), "
            "set_config('app.current_user', %s, true)",
            [str(user.pk)],
        )
        previous = cursor.fetchone()[0] or ""
        ids = list(Membership.objects.for_user(user).values_list("organization_id", flat=True))
        cursor.execute("SELECT set_config('app.current_user', %s, true)", [previous])
    return ids


def record_account_event(user, action: str, *, actor: Actor | None = None, data=None) -> None:
    actor = actor or Actor.member(user)
    org_ids = _org_ids(user) if user is not None else []
    for org_id in org_ids or [None]:
        audit_record(
            org=org_id,
            actor=actor,
            action=action,
            target=user,
            target_type="credex.user",
            data=data or {},
        )


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record_account_event(user, "auth.login.succeeded")


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record_account_event(user, "auth.logout")


def _user_for(credentials):
    from credex.auth import axes_username

    email = axes_username(None, credentials)
    if not email:
        return None, ""
    return get_user_model().objects.filter(email__iexact=email).first(), email


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    user, email = _user_for(credentials)
    actor = Actor.anonymous(email)
    if user is None:
        audit_record(
            org=None,
            actor=actor,
            action="auth.login.failed",
            data={"email": email, "reason": "unknown e-mail"},
        )
    else:
        record_account_event(
            user,
            "auth.login.failed",
            actor=actor,
            data={"email": email, "reason": "bad credentials"},
        )


@receiver(user_locked_out)
def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    user = get_user_model().objects.filter(email__iexact=username or "").first()
    actor = Actor.anonymous(username or "")
    if user is None:
        audit_record(org=None, actor=actor, action="auth.lockout", data={"email": username})
    else:
        record_account_event(user, "auth.lockout", actor=actor, data={"email": username})


@receiver(mfa_signals.authenticator_added)
def _mfa_added(sender, request, user, authenticator, **kwargs):
    record_account_event(user, "auth.mfa.enabled", data={"type": authenticator.type})


@receiver(mfa_signals.authenticator_removed)
def _mfa_removed(sender, request, user, authenticator, **kwargs):
    record_account_event(user, "auth.mfa.disabled", data={"type": authenticator.type})
