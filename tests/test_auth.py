"""Sign-in, lockout, MFA: each recorded in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.utils import timezone

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"


def _actions(org):
    with tenant_context(org):
        return list(
            AuditEvent.objects.filter(organization=org)
            .order_by("seq")
            .values_list("action", flat=True)
        )


def _platform_events():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.audit_platform', 'on', true)")
    return list(AuditEvent.objects.filter(organization__isnull=True).order_by("seq"))


def _login(client, email, password=PASSWORD, **extra):
    return client.post(LOGIN, {"login": email, "password": password}, **extra)


def test_successful_login_is_recorded_in_the_users_organizations(tenant_a, client):
    response = _login(client, tenant_a.coordinator.email)
    assert response.status_code == 302
    assert "auth.login.succeeded" in _actions(tenant_a.org)


def test_failed_login_for_a_known_user_is_recorded_for_their_organization(tenant_a, client):
    response = _login(client, tenant_a.coordinator.email, "wrong-password")
    assert response.status_code == 200  # the form again, with an error
    assert "auth.login.failed" in _actions(tenant_a.org)


def test_failed_login_for_an_unknown_email_goes_to_the_platform_chain(db, client):
    _login(client, "nobody@nowhere.example", "whatever-password")
    events = _platform_events()
    assert [e.action for e in events][-1] == "auth.login.failed"
    assert events[-1].data["email"] == "nobody@nowhere.example"
    assert "password" not in str(events[-1].data)


def test_logout_is_recorded(tenant_a, client):
    _login(client, tenant_a.owner.email)
    client.post("/accounts/logout/")
    assert _actions(tenant_a.org)[-1] == "auth.logout"


def test_repeated_failures_lock_the_account_from_that_ip_with_a_cool_off(tenant_a, client):
    from axes.models import AccessAttempt

    for _ in range(5):
        _login(client, tenant_a.auditor.email, "wrong-password")
    locked = _login(client, tenant_a.auditor.email)  # right password, still locked
    assert locked.status_code == 429
    assert "auth.lockout" in _actions(tenant_a.org)
    # Another account from the same IP is not locked (lock is by username AND IP).
    assert _login(client, tenant_a.coordinator.email).status_code == 302
    client.post("/accounts/logout/")
    # The same account from another IP is not locked either.
    assert _login(client, tenant_a.auditor.email, REMOTE_ADDR="10.9.9.9").status_code == 302
    client.post("/accounts/logout/")
    # After the cool-off the account can sign in again from the first IP.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(hours=1))
    assert _login(client, tenant_a.auditor.email).status_code == 302


def test_mfa_required_organization_sends_a_member_without_mfa_to_setup(tenant_a, login):
    tenant_a.org.require_mfa = True
    tenant_a.org.save()
    client = login(tenant_a.coordinator)
    response = client.get(f"/o/{tenant_a.org.slug}/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    Authenticator.objects.create(
        user=tenant_a.coordinator, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    assert client.get(f"/o/{tenant_a.org.slug}/").status_code == 200


def _totp_code(secret):
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


def test_enabling_totp_is_recorded(tenant_a, client, django_capture_on_commit_callbacks):
    _login(client, tenant_a.owner.email)
    # allauth asks for the password again before security changes.
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    # allauth announces the new authenticator after commit.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/2fa/totp/activate/", {"code": _totp_code(secret)})
    assert response.status_code == 302, response.content[:500]
    assert Authenticator.objects.filter(user=tenant_a.owner, type=Authenticator.Type.TOTP).exists()
    assert "auth.mfa.enabled" in _actions(tenant_a.org)


@pytest.mark.parametrize("password", ["short", "password123", "1234567890123"])
def test_weak_passwords_are_refused_at_signup(db, client, password):
    from credex.models import User

    response = client.post(
        "/accounts/signup/",
        {"email": "new@x.example", "password1": password, "password2": password},
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="new@x.example").exists()
