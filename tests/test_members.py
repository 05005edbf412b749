"""Members, roles, invitations and organization settings through the browser views."""

from __future__ import annotations

import re
import time

import pytest

from audit.models import AuditEvent
from credex import services
from credex.models import Invitation, Membership, Role
from credex.tenancy import tenant_context
from tests.conftest import make_user


def _actions(org):
    with tenant_context(org):
        return list(
            AuditEvent.objects.filter(organization=org)
            .order_by("seq")
            .values_list("action", flat=True)
        )


def _members(org):
    with tenant_context(org):
        return {m.user.email: m.role for m in Membership.objects.select_related("user")}


def _invite_link(mail):
    match = re.search(r"https?://\S+/invitations/(\S+?)/", mail.body.replace("=\n", ""))
    assert match, mail.body
    return f"/invitations/{match.group(1)}/"


def test_owner_invites_and_the_invitee_accepts(
    tenant_a, login, client, mailoutbox, django_capture_on_commit_callbacks
):
    owner_client = login(tenant_a.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            f"/o/{tenant_a.org.slug}/settings/members/",
            {"email": "New.Person@A.example", "role": "coordinator"},
        )
    assert response.status_code == 302
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["new.person@a.example"]
    link = _invite_link(mailoutbox[0])
    owner_client.logout()
    newcomer = make_user("new.person@a.example")
    login(newcomer)
    page = client.get(link)
    assert page.status_code == 200 and b"Acme Health" in page.content
    accepted = client.post(link)
    assert accepted.status_code == 302 and accepted["Location"] == f"/o/{tenant_a.org.slug}/"
    assert _members(tenant_a.org)["new.person@a.example"] == "coordinator"
    actions = _actions(tenant_a.org)
    assert "member.invitation.sent" in actions and "member.invitation.accepted" in actions


def _invitation(tenant, email="invitee@a.example", role="auditor"):
    with tenant_context(tenant.org):
        inv = services.membership_invite(
            org=tenant.org, actor=tenant.membership(tenant.owner), email=email, role=role
        )
    return inv, f"/invitations/{services._invite_token(inv)}/"


def test_a_reused_invitation_is_refused_with_a_clear_message(tenant_a, login, client):
    _, link = _invitation(tenant_a)
    login(make_user("invitee@a.example"))
    assert client.post(link).status_code == 302
    again = client.post(link)
    assert again.status_code == 400
    assert "already been used" in again.content.decode()


def test_an_expired_invitation_is_refused_with_a_clear_message(
    tenant_a, login, client, monkeypatch
):
    _, link = _invitation(tenant_a)
    login(make_user("invitee@a.example"))
    eight_days_later = time.time() + 8 * 86400
    monkeypatch.setattr("django.core.signing.time.time", lambda: eight_days_later)
    response = client.post(link)
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert "invitee@a.example" not in _members(tenant_a.org)


def test_a_tampered_invitation_link_is_refused(tenant_a, client):
    _, link = _invitation(tenant_a)
    response = client.get(link.replace("/invitations/", "/invitations/x"))
    assert response.status_code == 400 and "not valid" in response.content.decode()


def test_an_invitation_for_another_email_is_refused(tenant_a, login, client):
    _, link = _invitation(tenant_a)
    login(make_user("someone.else@a.example"))
    response = client.post(link)
    assert response.status_code == 400
    assert "invitee@a.example" in response.content.decode()
    assert "someone.else@a.example" not in _members(tenant_a.org)


def test_a_revoked_invitation_is_refused(tenant_a, login, client):
    inv, link = _invitation(tenant_a)
    owner_client = login(tenant_a.owner)
    owner_client.post(f"/o/{tenant_a.org.slug}/settings/invitations/{inv.pk}/revoke/")
    owner_client.logout()
    login(make_user("invitee@a.example"))
    response = client.post(link)
    assert response.status_code == 400 and "withdrawn" in response.content.decode()


def test_invite_with_a_bad_email_keeps_the_form_and_says_why(tenant_a, login):
    response = login(tenant_a.admin).post(
        f"/o/{tenant_a.org.slug}/settings/members/",
        {"email": "not-an-email", "role": "coordinator"},
    )
    assert response.status_code == 400
    assert response.context["invite_form"]["email"] == "not-an-email"
    assert "valid e-mail" in response.context["invite_errors"]["__all__"]
    with tenant_context(tenant_a.org):
        assert not Invitation.objects.exists()


def test_admin_cannot_invite_an_owner(tenant_a, login):
    response = login(tenant_a.admin).post(
        f"/o/{tenant_a.org.slug}/settings/members/", {"email": "boss@a.example", "role": "owner"}
    )
    assert response.status_code == 400
    with tenant_context(tenant_a.org):
        assert not Invitation.objects.exists()


@pytest.mark.parametrize("role", ["coordinator", "auditor"])
def test_read_only_and_coordinator_roles_get_403_on_member_writes(tenant_a, login, role):
    client = login(getattr(tenant_a, role))
    coordinator = tenant_a.membership(tenant_a.coordinator)
    before = _members(tenant_a.org)
    base = f"/o/{tenant_a.org.slug}/settings/members/"
    assert client.post(base, {"email": "x@a.example", "role": "auditor"}).status_code == 403
    assert client.post(f"{base}{coordinator.pk}/role/", {"role": "admin"}).status_code == 403
    assert client.post(f"{base}{coordinator.pk}/remove/").status_code == 403
    assert _members(tenant_a.org) == before


def test_owner_changes_a_role_and_it_is_audited(tenant_a, login):
    coordinator = tenant_a.membership(tenant_a.coordinator)
    login(tenant_a.owner).post(
        f"/o/{tenant_a.org.slug}/settings/members/{coordinator.pk}/role/", {"role": "admin"}
    )
    assert _members(tenant_a.org)["coordinator@a.example"] == "admin"
    with tenant_context(tenant_a.org):
        event = AuditEvent.objects.filter(
            organization=tenant_a.org, action="member.role.changed"
        ).get()
    assert event.data["from"] == "coordinator" and event.data["to"] == "admin"
    assert event.actor_id == str(tenant_a.owner.pk)


def test_admin_cannot_change_or_remove_an_owner(tenant_a, login):
    owner = tenant_a.membership(tenant_a.owner)
    client = login(tenant_a.admin)
    base = f"/o/{tenant_a.org.slug}/settings/members/{owner.pk}"
    assert client.post(f"{base}/role/", {"role": "auditor"}).status_code == 403
    assert client.post(f"{base}/remove/").status_code == 403
    assert _members(tenant_a.org)["owner@a.example"] == "owner"


def test_the_last_owner_cannot_be_removed_or_demoted(tenant_a, login):
    owner = tenant_a.membership(tenant_a.owner)
    client = login(tenant_a.owner)
    base = f"/o/{tenant_a.org.slug}/settings/members/{owner.pk}"
    client.post(f"{base}/role/", {"role": "admin"})
    client.post(f"{base}/remove/")
    assert _members(tenant_a.org)["owner@a.example"] == "owner"
    with tenant_context(tenant_a.org):
        with pytest.raises(services.Conflict, match="at least one owner"):
            services.membership_remove(org=tenant_a.org, actor=owner, membership=owner)


def test_an_owner_can_leave_once_there_is_another_owner(tenant_a):
    owner = tenant_a.membership(tenant_a.owner)
    admin = tenant_a.membership(tenant_a.admin)
    with tenant_context(tenant_a.org):
        services.membership_change_role(
            org=tenant_a.org, actor=owner, membership=admin, role=Role.OWNER
        )
        services.membership_remove(org=tenant_a.org, actor=admin, membership=owner)
    assert "owner@a.example" not in _members(tenant_a.org)


def test_member_removal_is_audited(tenant_a, login):
    auditor = tenant_a.membership(tenant_a.auditor)
    login(tenant_a.admin).post(f"/o/{tenant_a.org.slug}/settings/members/{auditor.pk}/remove/")
    assert "auditor@a.example" not in _members(tenant_a.org)
    assert "member.removed" in _actions(tenant_a.org)


def test_settings_change_is_audited_and_validated(tenant_a, login):
    client = login(tenant_a.admin)
    url = f"/o/{tenant_a.org.slug}/settings/"
    bad = client.post(url, {"name": "Acme Health", "recredentialing_cycle_months": "48"})
    assert bad.status_code == 400 and "36" in bad.context["errors"]["recredentialing_cycle_months"]
    ok = client.post(
        url, {"name": "Acme Health", "recredentialing_cycle_months": "24", "require_mfa": "on"}
    )
    assert ok.status_code == 302
    tenant_a.org.refresh_from_db()
    assert tenant_a.org.recredentialing_cycle_months == 24 and tenant_a.org.require_mfa
    with tenant_context(tenant_a.org):
        event = AuditEvent.objects.get(organization=tenant_a.org, action="org.settings.changed")
    assert event.data["changes"]["recredentialing_cycle_months"] == {"from": 36, "to": 24}


def test_the_verification_validity_window_is_a_setting_from_30_to_365_days(tenant_a, login):
    client = login(tenant_a.admin)
    url = f"/o/{tenant_a.org.slug}/settings/"
    form = {"name": "Acme Health", "recredentialing_cycle_months": "36"}
    assert 'name="psv_validity_days" ' in client.get(url).content.decode()
    for bad in ("29", "366", "soon"):
        response = client.post(url, form | {"psv_validity_days": bad})
        assert response.status_code == 400
        assert "365" in response.context["errors"]["psv_validity_days"]
    tenant_a.org.refresh_from_db()
    assert tenant_a.org.psv_validity_days == 120
    assert client.post(url, form | {"psv_validity_days": "90"}).status_code == 302
    tenant_a.org.refresh_from_db()
    assert tenant_a.org.psv_validity_days == 90
    with tenant_context(tenant_a.org):
        event = AuditEvent.objects.get(organization=tenant_a.org, action="org.settings.changed")
    assert event.data["changes"] == {"psv_validity_days": {"from": 120, "to": 90}}


def test_auditor_cannot_change_settings(tenant_a, login):
    response = login(tenant_a.auditor).post(
        f"/o/{tenant_a.org.slug}/settings/",
        {"name": "Hacked", "recredentialing_cycle_months": "24"},
    )
    assert response.status_code == 403
    tenant_a.org.refresh_from_db()
    assert tenant_a.org.name == "Acme Health"


def test_independent_coordinator_switches_between_organizations(tenant_a, tenant_b, login):
    from tests.conftest import add_member

    add_member(tenant_b.org, tenant_a.coordinator, "coordinator")
    client = login(tenant_a.coordinator)
    home = client.get("/")
    assert home.status_code == 200
    slugs = [m.organization.slug for m in home.context["memberships"]]
    assert sorted(slugs) == sorted([tenant_a.org.slug, tenant_b.org.slug])
    assert client.get(f"/o/{tenant_b.org.slug}/").status_code == 200
    assert client.get(f"/o/{tenant_a.org.slug}/").status_code == 200


def test_a_new_user_creates_an_organization_and_becomes_its_owner(db, login):
    user = make_user("founder@new.example")
    client = login(user)
    response = client.post("/orgs/new/", {"name": "New Clinic"})
    assert response.status_code == 302
    slug = response["Location"].split("/")[2]
    assert client.get(f"/o/{slug}/settings/members/").status_code == 200


def _open_invitations(org, email):
    with tenant_context(org):
        return Invitation.objects.filter(
            email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).count()


def test_the_same_address_cannot_be_invited_twice_while_the_first_invitation_waits(
    tenant_a, login, mailoutbox
):
    owner_client = login(tenant_a.owner)
    url = f"/o/{tenant_a.org.slug}/settings/members/"
    assert (
        owner_client.post(url, {"email": "twice@a.example", "role": "coordinator"}).status_code
        == 302
    )
    again = owner_client.post(url, {"email": "Twice@A.example", "role": "admin"})
    assert again.status_code == 400
    assert b"already waiting" in again.content and b"Twice@A.example" in again.content
    assert _open_invitations(tenant_a.org, "twice@a.example") == 1
    assert _actions(tenant_a.org).count("member.invitation.sent") == 1


def test_an_expired_invitation_is_replaced_when_the_address_is_invited_again(tenant_a, login):
    from datetime import timedelta

    from django.utils import timezone

    owner_client = login(tenant_a.owner)
    url = f"/o/{tenant_a.org.slug}/settings/members/"
    owner_client.post(url, {"email": "late@a.example", "role": "coordinator"})
    with tenant_context(tenant_a.org):
        Invitation.objects.filter(email="late@a.example").update(
            expires_at=timezone.now() - timedelta(days=1)
        )
    assert (
        owner_client.post(url, {"email": "late@a.example", "role": "coordinator"}).status_code
        == 302
    )
    assert _open_invitations(tenant_a.org, "late@a.example") == 1
    with tenant_context(tenant_a.org):
        assert Invitation.objects.filter(email="late@a.example").count() == 2
    assert "member.invitation.revoked" in _actions(tenant_a.org)


def test_the_database_refuses_a_second_open_invitation_for_one_address(tenant_a):
    from datetime import timedelta

    from django.db import IntegrityError, transaction
    from django.utils import timezone

    with tenant_context(tenant_a.org):
        Invitation.objects.create(
            organization=tenant_a.org,
            email="race@a.example",
            role="coordinator",
            expires_at=timezone.now() + timedelta(days=7),
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            Invitation.objects.create(
                organization=tenant_a.org,
                email="RACE@a.example",
                role="admin",
                expires_at=timezone.now() + timedelta(days=7),
            )


def test_the_members_page_shows_two_step_sign_in_and_last_sign_in(tenant_a, login):
    from datetime import timedelta

    from allauth.mfa.models import Authenticator
    from django.utils import timezone

    Authenticator.objects.create(user=tenant_a.admin, type=Authenticator.Type.TOTP, data={})
    type(tenant_a.coordinator).objects.filter(pk=tenant_a.coordinator.pk).update(
        last_login=timezone.now() - timedelta(days=3)
    )
    page = login(tenant_a.owner).get(f"/o/{tenant_a.org.slug}/settings/members/")
    html = page.content.decode()
    rows = {
        m.group(1): m.group(0)
        for m in re.finditer(
            r"<tr>.*?<td[^>]*>[^<]*</td>\s*<td[^>]*>([^<]+)</td>.*?</tr>", html, re.S
        )
    }
    assert "✓ On" in rows["admin@a.example"] and "Off" in rows["coordinator@a.example"]
    assert "3 days ago" in rows["coordinator@a.example"]
    assert "never" in rows["auditor@a.example"]
