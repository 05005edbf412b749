"""API v1: who is calling, API keys, the error shape, and each operation's rules.

Every test runs against real Postgres (RLS on) through the real middleware. Org A has an
owner, an admin, a coordinator and an auditor; org B has an outsider.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid

import pytest
import yaml
from django.db import connection
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from credex.models import ApiKey, Invitation, Membership, Organization, Role
from credex.services import api_key_create, membership_invite
from credex.tenancy import tenant_context
from tests.conftest import add_member, make_user

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"code", "message", "details"}


@pytest.fixture(autouse=True)
def _generous_throttle(monkeypatch):
    # The throttle counters live in the shared Redis; clearing it would also flush the Celery
    # broker (same database), so tests get rates they cannot reach instead.
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


# --- helpers ---------------------------------------------------------------------------------
def api(client, method, path, body=None, *, key=None, org=None, **extra):
    """One API request; `key` is a raw API key, `org` a slug for X-CredEx-Organization."""
    if key:
        extra["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
    if org:
        extra["HTTP_X_CREDEX_ORGANIZATION"] = org
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, f"/api/v1/{path}", data, content_type="application/json", **extra)


def assert_error(response, status, code=None):
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], dict)
    if code:
        assert body["code"] == code, body
    return body


def make_key(tenant, role=Role.COORDINATOR, name="Sync job"):
    """An API key built the way production does; returns (ApiKey, raw key)."""
    with tenant_context(tenant.org):
        return api_key_create(
            org=tenant.org, actor=tenant.membership(tenant.owner), name=name, role=role
        )


def invite(tenant, email="newcomer@a.example", role=Role.COORDINATOR):
    with tenant_context(tenant.org):
        return membership_invite(
            org=tenant.org, actor=tenant.membership(tenant.owner), email=email, role=role
        )


def in_org(org, fn):
    with tenant_context(org):
        return fn()


def members_of(org):
    return in_org(
        org,
        lambda: dict(
            Membership.objects.filter(organization=org).values_list("user__email", "role")
        ),
    )


def events_of(org, action=None):
    def read():
        qs = AuditEvent.objects.filter(organization=org)
        if action:
            qs = qs.filter(action=action)
        return list(qs.order_by("seq"))

    return in_org(org, read)


# --- GET /api/v1/me ------------------------------------------------------------------------
def test_me_with_a_session_and_one_membership_has_that_organization_in_context(tenant_a, login):
    client = login(tenant_a.coordinator)
    response = api(client, "GET", "me")
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "member"
    assert body["email"] == "coordinator@a.example"
    assert body["role"] == "coordinator"
    assert body["organization"]["slug"] == tenant_a.org.slug
    assert body["organization"]["id"] == str(tenant_a.org.pk)
    assert body["organizations"] == [
        {"slug": tenant_a.org.slug, "name": "Acme Health", "role": "coordinator"}
    ]


def test_me_with_two_memberships_and_no_header_has_no_organization(tenant_a, tenant_b, login):
    add_member(tenant_b.org, tenant_a.coordinator, Role.AUDITOR)
    response = api(login(tenant_a.coordinator), "GET", "me")
    assert response.status_code == 200
    body = response.json()
    assert body["organization"] is None
    assert body["role"] is None
    assert {(o["slug"], o["role"]) for o in body["organizations"]} == {
        (tenant_a.org.slug, "coordinator"),
        (tenant_b.org.slug, "auditor"),
    }


def test_me_with_two_memberships_and_a_header_uses_the_named_organization(
    tenant_a, tenant_b, login
):
    add_member(tenant_b.org, tenant_a.coordinator, Role.AUDITOR)
    response = api(login(tenant_a.coordinator), "GET", "me", org=tenant_b.org.slug)
    assert response.status_code == 200
    body = response.json()
    assert body["organization"]["slug"] == tenant_b.org.slug
    assert body["role"] == "auditor"


def test_me_with_a_header_naming_someone_elses_organization_answers_404_like_no_such_org(
    tenant_a, tenant_b, login
):
    client = login(tenant_b.owner)
    not_mine = assert_error(api(client, "GET", "me", org=tenant_a.org.slug), 404, "not_found")
    missing = assert_error(api(client, "GET", "me", org="no-such-org"), 404, "not_found")
    assert not_mine == missing


def test_me_with_an_api_key_describes_the_key_and_its_organization(tenant_a, tenant_b, client):
    key, raw = make_key(tenant_a, Role.AUDITOR, name="Nightly export")
    # A key's organization is fixed: the header cannot move it into another organization.
    response = api(client, "GET", "me", key=raw, org=tenant_b.org.slug)
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "api_key"
    assert body["email"] is None
    assert body["name"] == "Nightly export"
    assert body["role"] == "auditor"
    assert body["organization"]["slug"] == tenant_a.org.slug
    assert body["organizations"] == [
        {"slug": tenant_a.org.slug, "name": "Acme Health", "role": "auditor"}
    ]


def test_me_without_credentials_gets_401(client, db):
    assert_error(api(client, "GET", "me"), 401, "not_authenticated")


def test_a_member_of_two_organizations_without_a_header_gets_404_for_tenant_data(
    tenant_a, tenant_b, login
):
    add_member(tenant_b.org, tenant_a.coordinator, Role.AUDITOR)
    body = assert_error(api(login(tenant_a.coordinator), "GET", "members"), 404, "not_found")
    assert "X-CredEx-Organization" in body["message"]


def test_a_user_without_any_membership_sees_themselves_but_no_tenant_data(db, login):
    client = login(make_user("loner@example.com"))
    me = api(client, "GET", "me").json()
    assert me["organization"] is None and me["organizations"] == []
    assert_error(api(client, "GET", "members"), 404, "not_found")


# --- API keys --------------------------------------------------------------------------------
def test_owner_creates_an_api_key_and_sees_the_key_only_in_the_create_response(tenant_a, login):
    client = login(tenant_a.owner)
    response = api(client, "POST", "api-keys", {"name": "Roster sync", "role": "auditor"})
    assert response.status_code == 201, response.content
    created = response.json()
    raw = created["key"]
    match = re.fullmatch(r"cx_(?P<prefix>[0-9a-f]+)_(?P<secret>[A-Za-z0-9]+)", raw)
    assert match and match["prefix"] == created["prefix"]
    assert created["role"] == "auditor" and created["revoked_at"] is None

    listing = api(client, "GET", "api-keys")
    assert listing.status_code == 200
    assert [k["id"] for k in listing.json()] == [created["id"]]
    assert all("key" not in k and "key_hash" not in k for k in listing.json())
    text = listing.content.decode()
    secret_hash = hashlib.sha256(match["secret"].encode()).hexdigest()
    assert match["secret"] not in text and secret_hash not in text

    events = events_of(tenant_a.org, "api_key.created")
    assert len(events) == 1 and match["secret"] not in json.dumps(events[0].data)


def test_the_database_keeps_only_a_sha256_hash_of_an_api_key(tenant_a, login):
    response = api(login(tenant_a.owner), "POST", "api-keys", {"name": "Roster sync"})
    raw = response.json()["key"]
    secret = raw.split("_")[2]
    with tenant_context(tenant_a.org):
        key = ApiKey.objects.get(pk=response.json()["id"])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT row_to_json(k)::text FROM credex_apikey k WHERE id = %s", [key.pk]
            )
            (row,) = cursor.fetchone()
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in row and raw not in row
    assert key.role == "coordinator"  # the default role


def test_an_api_key_authenticates_and_records_when_it_was_last_used(tenant_a, client):
    key, raw = make_key(tenant_a)
    assert key.last_used_at is None
    response = api(client, "GET", "members", key=raw)
    assert response.status_code == 200
    assert {m["email"] for m in response.json()} == set(members_of(tenant_a.org))
    assert in_org(tenant_a.org, lambda: ApiKey.objects.get(pk=key.pk).last_used_at) is not None


def test_a_revoked_api_key_gets_401_with_the_error_shape(tenant_a, login, client):
    key, raw = make_key(tenant_a)
    assert api(client, "GET", "members", key=raw).status_code == 200
    revoked = api(login(tenant_a.owner), "DELETE", f"api-keys/{key.pk}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    client.logout()
    response = assert_error(api(client, "GET", "members", key=raw), 401)
    assert response["code"] == "authentication_failed"
    assert events_of(tenant_a.org, "api_key.revoked")


@pytest.mark.parametrize(
    "header",
    [
        "Api-Key garbage",
        "Api-Key cx_nope_nope",
        "Api-Key cx_a_b_c",
    ],
)
def test_a_malformed_or_unknown_api_key_gets_401(client, header, db):
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=header)
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Api-Key"


def test_a_wrong_secret_for_a_real_prefix_gets_401(tenant_a, client):
    key, raw = make_key(tenant_a)
    forged = f"cx_{key.prefix}_{'x' * 43}"
    assert_error(api(client, "GET", "members", key=forged), 401, "authentication_failed")
    assert in_org(tenant_a.org, lambda: ApiKey.objects.get(pk=key.pk).last_used_at) is None


def test_a_key_of_org_b_reads_only_org_b_members(tenant_a, tenant_b, client):
    _, raw_b = make_key(tenant_b, Role.ADMIN)
    response = api(client, "GET", "members", key=raw_b, org=tenant_a.org.slug)
    assert response.status_code == 200
    assert [m["email"] for m in response.json()] == ["outsider@b.example"]


@pytest.mark.parametrize(
    "method,body", [("GET", None), ("PATCH", {"role": "auditor"}), ("DELETE", None)]
)
def test_a_key_of_org_b_gets_404_for_a_member_of_org_a(tenant_a, tenant_b, client, method, body):
    _, raw_b = make_key(tenant_b, Role.ADMIN)
    target = tenant_a.membership(tenant_a.coordinator)
    before = members_of(tenant_a.org)
    response = api(client, method, f"members/{target.pk}", body, key=raw_b)
    assert_error(response, 404, "not_found")
    assert members_of(tenant_a.org) == before


def test_the_key_list_is_refused_to_an_auditor_key(tenant_a, client):
    _, raw = make_key(tenant_a, Role.AUDITOR)
    assert_error(api(client, "GET", "api-keys", key=raw), 403, "forbidden")
    before = in_org(tenant_a.org, ApiKey.objects.count)
    assert_error(
        api(client, "POST", "api-keys", {"name": "escalate", "role": "admin"}, key=raw),
        403,
        "forbidden",
    )
    assert in_org(tenant_a.org, ApiKey.objects.count) == before


def test_an_api_key_cannot_mint_an_owner_key(tenant_a, login):
    client = login(tenant_a.owner)
    response = assert_error(api(client, "POST", "api-keys", {"name": "x", "role": "owner"}), 400)
    assert "role" in response["details"]
    assert in_org(tenant_a.org, ApiKey.objects.count) == 0


# --- the error shape ---------------------------------------------------------------------
def test_anonymous_requests_get_401_not_403(client, tenant_a):
    for method, path in [
        ("GET", "members"),
        ("PATCH", "organization"),
        ("POST", "invitations"),
        ("GET", "audit/events"),
    ]:
        response = assert_error(api(client, method, path, {}), 401, "not_authenticated")
        assert response["message"]


def test_a_role_without_the_capability_gets_403_and_nothing_changes(tenant_a, login):
    before = in_org(tenant_a.org, lambda: Organization.objects.get(pk=tenant_a.org.pk).name)
    body = assert_error(
        api(login(tenant_a.coordinator), "PATCH", "organization", {"name": "Hijacked"}),
        403,
        "forbidden",
    )
    assert body["details"] == {"capability": "org.settings.change"}
    assert in_org(tenant_a.org, lambda: Organization.objects.get(pk=tenant_a.org.pk).name) == before


def test_an_unknown_id_and_another_organizations_id_answer_the_same_404(tenant_a, tenant_b, login):
    client = login(tenant_a.owner)
    other = tenant_b.membership(tenant_b.owner)
    unknown = assert_error(api(client, "GET", f"members/{uuid.uuid4()}"), 404, "not_found")
    foreign = assert_error(api(client, "GET", f"members/{other.pk}"), 404, "not_found")
    assert unknown == foreign


MALFORMED_PATHS = [
    "members/not-a-uuid",
    "members/1",
    "invitations/x",
    "api-keys/' OR 1=1 --",
    "no-such-endpoint",
]


@pytest.mark.parametrize("path", MALFORMED_PATHS)
def test_a_malformed_id_or_unknown_api_path_is_a_404_not_a_500(tenant_a, login, path):
    assert api(login(tenant_a.owner), "GET", path).status_code == 404


@pytest.mark.parametrize("path", MALFORMED_PATHS[:1])
def test_a_malformed_id_answers_404_in_the_json_error_shape(tenant_a, login, path):
    assert_error(api(login(tenant_a.owner), "GET", path), 404, "not_found")


def test_invalid_input_gets_400_with_details_naming_the_field(tenant_a, login):
    client = login(tenant_a.owner)
    body = assert_error(
        api(client, "POST", "invitations", {"email": "nope", "role": "admin"}), 400, "invalid"
    )
    assert set(body["details"]) == {"email"}
    body = assert_error(api(client, "POST", "invitations", {"email": "a@b.example"}), 400)
    assert set(body["details"]) == {"role"}
    assert in_org(tenant_a.org, Invitation.objects.count) == 0


def test_a_body_that_is_not_json_gets_400_with_the_error_shape(tenant_a, login):
    response = login(tenant_a.owner).generic(
        "PATCH", "/api/v1/organization", "{not json", content_type="application/json"
    )
    assert_error(response, 400)


def test_a_method_the_endpoint_does_not_have_gets_405(tenant_a, login):
    body = assert_error(
        api(login(tenant_a.owner), "PUT", "organization", {"name": "x"}), 405, "method_not_allowed"
    )
    assert "PUT" in body["message"]


def test_too_many_requests_get_429_with_the_error_shape(tenant_a, login, monkeypatch):
    # The counter key is the user's id, fresh for every test: no shared state to clear.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "2/min"})
    client = login(tenant_a.auditor)
    assert api(client, "GET", "me").status_code == 200
    assert api(client, "GET", "members").status_code == 200
    response = api(client, "GET", "me")
    body = assert_error(response, 429, "throttled")
    assert body["details"]["retry_after_seconds"] > 0
    assert int(response["Retry-After"]) > 0
    # Another caller has their own budget.
    assert api(login(tenant_a.coordinator), "GET", "me").status_code == 200


def test_a_session_write_without_a_csrf_token_is_refused_but_an_api_key_needs_none(tenant_a):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(
        tenant_a.owner, backend="allauth.account.auth_backends.AuthenticationBackend"
    )
    before = in_org(tenant_a.org, ApiKey.objects.count)
    assert_error(api(browser, "POST", "api-keys", {"name": "csrf"}), 403, "forbidden")
    assert in_org(tenant_a.org, ApiKey.objects.count) == before
    _, raw = make_key(tenant_a, Role.ADMIN)
    assert (
        api(
            Client(enforce_csrf_checks=True), "POST", "api-keys", {"name": "ok"}, key=raw
        ).status_code
        == 201
    )


def test_a_session_without_mfa_cannot_use_the_api_of_an_organization_requiring_it(tenant_a, login):
    with tenant_context(tenant_a.org):
        Organization.objects.filter(pk=tenant_a.org.pk).update(require_mfa=True)
    assert_error(api(login(tenant_a.coordinator), "GET", "members"), 403)


def test_an_api_key_is_not_subject_to_the_mfa_requirement(tenant_a, client):
    with tenant_context(tenant_a.org):
        Organization.objects.filter(pk=tenant_a.org.pk).update(require_mfa=True)
    _, raw = make_key(tenant_a)
    assert api(client, "GET", "members", key=raw).status_code == 200


# --- invitations ---------------------------------------------------------------------------
def test_owner_invites_by_api_and_an_email_and_audit_event_follow(
    tenant_a, login, mailoutbox, django_capture_on_commit_callbacks
):
    client = login(tenant_a.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(
            client,
            "POST",
            "invitations",
            {"email": "New.Person@Example.com", "role": "coordinator"},
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert body["email"] == "new.person@example.com" and body["role"] == "coordinator"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new.person@example.com"]
    assert "Acme Health" in mailoutbox[0].subject
    (event,) = events_of(tenant_a.org, "member.invitation.sent")
    assert event.target_id == body["id"]
    assert event.actor_id == str(tenant_a.owner.pk)
    listing = api(client, "GET", "invitations").json()
    assert [i["id"] for i in listing] == [body["id"]]


def test_coordinator_cannot_invite_and_nothing_is_created_or_sent(
    tenant_a, login, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(
            login(tenant_a.coordinator),
            "POST",
            "invitations",
            {"email": "friend@example.com", "role": "admin"},
        )
    assert_error(response, 403, "forbidden")
    assert in_org(tenant_a.org, Invitation.objects.count) == 0
    assert mailoutbox == []
    assert events_of(tenant_a.org, "member.invitation.sent") == []


def test_admin_cannot_invite_an_owner(tenant_a, login, mailoutbox):
    response = api(
        login(tenant_a.admin), "POST", "invitations", {"email": "boss@example.com", "role": "owner"}
    )
    assert_error(response, 403, "forbidden")
    assert in_org(tenant_a.org, Invitation.objects.count) == 0


def test_inviting_an_existing_member_is_a_409(tenant_a, login):
    response = api(
        login(tenant_a.owner),
        "POST",
        "invitations",
        {"email": "AUDITOR@a.example", "role": "coordinator"},
    )
    body = assert_error(response, 409, "conflict")
    assert "email" in body["details"]


def test_delete_revokes_a_pending_invitation_once(tenant_a, login):
    invitation = invite(tenant_a)
    client = login(tenant_a.admin)
    response = api(client, "DELETE", f"invitations/{invitation.pk}")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert (
        in_org(tenant_a.org, lambda: Invitation.objects.get(pk=invitation.pk).status) == "revoked"
    )
    assert len(events_of(tenant_a.org, "member.invitation.revoked")) == 1
    assert_error(api(client, "DELETE", f"invitations/{invitation.pk}"), 409, "conflict")
    assert len(events_of(tenant_a.org, "member.invitation.revoked")) == 1


def test_outsider_cannot_revoke_an_invitation_of_org_a(tenant_a, tenant_b, login):
    invitation = invite(tenant_a)
    assert_error(api(login(tenant_b.owner), "DELETE", f"invitations/{invitation.pk}"), 404)
    assert (
        in_org(tenant_a.org, lambda: Invitation.objects.get(pk=invitation.pk).status) == "pending"
    )


# --- members -----------------------------------------------------------------------------
def test_owner_changes_a_members_role_and_it_is_audited(tenant_a, login):
    member = tenant_a.membership(tenant_a.coordinator)
    response = api(login(tenant_a.owner), "PATCH", f"members/{member.pk}", {"role": "admin"})
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    assert members_of(tenant_a.org)["coordinator@a.example"] == "admin"
    (event,) = events_of(tenant_a.org, "member.role.changed")
    assert event.data["from"] == "coordinator" and event.data["to"] == "admin"


def test_an_unknown_role_is_a_400_naming_the_field(tenant_a, login):
    member = tenant_a.membership(tenant_a.coordinator)
    body = assert_error(
        api(login(tenant_a.owner), "PATCH", f"members/{member.pk}", {"role": "superuser"}),
        400,
        "invalid",
    )
    assert set(body["details"]) == {"role"}
    assert members_of(tenant_a.org)["coordinator@a.example"] == "coordinator"


@pytest.mark.parametrize("method,body", [("PATCH", {"role": "admin"}), ("DELETE", None)])
def test_the_last_owner_cannot_be_demoted_or_removed(tenant_a, login, method, body):
    owner = tenant_a.membership(tenant_a.owner)
    before = members_of(tenant_a.org)
    response = api(login(tenant_a.owner), method, f"members/{owner.pk}", body)
    assert_error(response, 409, "conflict")
    assert members_of(tenant_a.org) == before
    assert events_of(tenant_a.org, "member.role.changed") == []
    assert events_of(tenant_a.org, "member.removed") == []


def test_with_a_second_owner_the_first_can_step_down(tenant_a, login):
    second = make_user("second-owner@a.example")
    add_member(tenant_a.org, second, Role.OWNER)
    owner = tenant_a.membership(tenant_a.owner)
    response = api(login(tenant_a.owner), "PATCH", f"members/{owner.pk}", {"role": "admin"})
    assert response.status_code == 200
    assert members_of(tenant_a.org)["owner@a.example"] == "admin"


@pytest.mark.parametrize("method,body", [("PATCH", {"role": "auditor"}), ("DELETE", None)])
def test_admin_cannot_change_or_remove_an_owner(tenant_a, login, method, body):
    owner = tenant_a.membership(tenant_a.owner)
    before = members_of(tenant_a.org)
    response = api(login(tenant_a.admin), method, f"members/{owner.pk}", body)
    assert_error(response, 403, "forbidden")
    assert members_of(tenant_a.org) == before


def test_admin_cannot_make_someone_an_owner(tenant_a, login):
    member = tenant_a.membership(tenant_a.coordinator)
    assert_error(
        api(login(tenant_a.admin), "PATCH", f"members/{member.pk}", {"role": "owner"}),
        403,
        "forbidden",
    )
    assert members_of(tenant_a.org)["coordinator@a.example"] == "coordinator"


def test_owner_removes_a_member(tenant_a, login):
    member = tenant_a.membership(tenant_a.auditor)
    response = login(tenant_a.owner).delete(f"/api/v1/members/{member.pk}")
    assert response.status_code == 204
    assert "auditor@a.example" not in members_of(tenant_a.org)
    (event,) = events_of(tenant_a.org, "member.removed")
    assert event.data["email"] == "auditor@a.example"


def test_auditor_cannot_remove_a_member(tenant_a, login):
    member = tenant_a.membership(tenant_a.coordinator)
    before = members_of(tenant_a.org)
    assert_error(login(tenant_a.auditor).delete(f"/api/v1/members/{member.pk}"), 403)
    assert members_of(tenant_a.org) == before


# --- organization settings -----------------------------------------------------------------
def org_row(org):
    return in_org(org, lambda: Organization.objects.get(pk=org.pk))


def test_admin_changes_the_recredentialing_cycle_and_it_is_audited(tenant_a, login):
    before = org_row(tenant_a.org).recredentialing_cycle_months
    assert before != 24
    response = api(
        login(tenant_a.admin), "PATCH", "organization", {"recredentialing_cycle_months": 24}
    )
    assert response.status_code == 200
    assert response.json()["recredentialing_cycle_months"] == 24
    assert org_row(tenant_a.org).recredentialing_cycle_months == 24
    (event,) = events_of(tenant_a.org, "org.settings.changed")
    assert event.data == {"changes": {"recredentialing_cycle_months": {"from": before, "to": 24}}}
    assert event.actor_id == str(tenant_a.admin.pk)


@pytest.mark.parametrize("months", [48, 5, "often", None])
def test_an_invalid_recredentialing_cycle_is_a_400_and_nothing_changes(tenant_a, login, months):
    before = org_row(tenant_a.org).recredentialing_cycle_months
    body = assert_error(
        api(
            login(tenant_a.admin), "PATCH", "organization", {"recredentialing_cycle_months": months}
        ),
        400,
        "invalid",
    )
    assert set(body["details"]) == {"recredentialing_cycle_months"}
    assert org_row(tenant_a.org).recredentialing_cycle_months == before
    assert events_of(tenant_a.org, "org.settings.changed") == []


@pytest.mark.parametrize("days", [29, 366, "monthly"])
def test_an_invalid_verification_window_is_a_400_and_nothing_changes(tenant_a, login, days):
    body = assert_error(
        api(login(tenant_a.admin), "PATCH", "organization", {"psv_validity_days": days}),
        400,
        "invalid",
    )
    assert set(body["details"]) == {"psv_validity_days"}
    assert org_row(tenant_a.org).psv_validity_days == 120


def test_the_api_changes_the_verification_window(tenant_a, login):
    response = api(login(tenant_a.admin), "PATCH", "organization", {"psv_validity_days": 90})
    assert response.status_code == 200 and response.json()["psv_validity_days"] == 90
    assert org_row(tenant_a.org).psv_validity_days == 90


def test_an_unchanged_setting_records_no_event(tenant_a, login):
    current = org_row(tenant_a.org).recredentialing_cycle_months
    response = api(
        login(tenant_a.owner), "PATCH", "organization", {"recredentialing_cycle_months": current}
    )
    assert response.status_code == 200
    assert events_of(tenant_a.org, "org.settings.changed") == []


# --- audit events ------------------------------------------------------------------------
def test_auditor_reads_only_org_a_events_newest_first(tenant_a, tenant_b, login):
    invite(tenant_a)
    invite(tenant_b, email="someone@b.example")
    response = api(login(tenant_a.auditor), "GET", "audit/events")
    assert response.status_code == 200
    body = response.json()
    ids = [e["id"] for e in body["results"]]
    assert ids == [str(e.pk) for e in reversed(events_of(tenant_a.org))]
    assert not set(ids) & {str(e.pk) for e in events_of(tenant_b.org)}
    seqs = [e["seq"] for e in body["results"]]
    assert seqs == sorted(seqs, reverse=True)


def test_audit_events_filter_by_action(tenant_a, login):
    invite(tenant_a)
    invite(tenant_a, email="another@a.example")
    response = api(login(tenant_a.auditor), "GET", "audit/events?action=member.invitation")
    assert response.status_code == 200
    actions = [e["action"] for e in response.json()["results"]]
    assert actions == ["member.invitation.sent", "member.invitation.sent"]


def test_audit_events_page_with_a_cursor_without_gaps_or_repeats(tenant_a, login):
    for n in range(3):
        invite(tenant_a, email=f"p{n}@a.example")
    client = login(tenant_a.auditor)
    page = api(client, "GET", "audit/events?page_size=2").json()
    seen = []
    while True:
        assert len(page["results"]) <= 2
        seen += [e["seq"] for e in page["results"]]
        if not page["next"]:
            break
        page = client.get(page["next"]).json()
    assert seen == [e.seq for e in reversed(events_of(tenant_a.org))]


def test_an_invalid_audit_filter_is_a_400_naming_the_filter(tenant_a, login):
    body = assert_error(
        api(login(tenant_a.auditor), "GET", "audit/events?date_from=yesterday"), 400, "invalid"
    )
    assert set(body["details"]) == {"date_from"}


def test_coordinator_cannot_read_audit_events(tenant_a, login):
    assert_error(api(login(tenant_a.coordinator), "GET", "audit/events"), 403, "forbidden")


# --- OpenAPI -----------------------------------------------------------------------------
def openapi_path(pattern) -> str:
    return "/api/v1/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))


def test_the_openapi_schema_documents_every_api_route(client, db):
    from credex.urls import api_patterns

    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/me" in doc["paths"]
    expected = {openapi_path(p) for p in api_patterns}
    assert expected <= set(doc["paths"]), expected - set(doc["paths"])


def test_the_openapi_schema_declares_the_api_key_scheme_on_every_operation(client, db):
    doc = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    schemes = doc["components"]["securitySchemes"]
    (name,) = [n for n, s in schemes.items() if s.get("name") == "Authorization"]
    assert schemes[name]["type"] == "apiKey" and schemes[name]["in"] == "header"
    for path, operations in doc["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            assert {name: []} in operation["security"], (method, path)


def test_the_openapi_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yml")


def test_the_openapi_schema_is_yaml_by_default(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    doc = yaml.safe_load(response.content)
    assert doc["openapi"].startswith("3.") and "/api/v1/me" in doc["paths"]


def test_the_api_docs_page_renders(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"/api/schema/" in response.content


def test_inviting_an_address_with_an_open_invitation_is_a_409_and_nothing_is_sent(
    tenant_a, login, mailoutbox, django_capture_on_commit_callbacks
):
    client = login(tenant_a.owner)
    body = {"email": "again@example.com", "role": "coordinator"}
    with django_capture_on_commit_callbacks(execute=True):
        assert api(client, "POST", "invitations", body).status_code == 201
        response = api(client, "POST", "invitations", {**body, "email": "AGAIN@example.com"})
    err = assert_error(response, 409, "conflict")
    assert err["details"] == {"email": "already invited"}
    assert len(mailoutbox) == 1
    assert in_org(tenant_a.org, Invitation.objects.count) == 1
