"""Members are removed, not deleted: removed_at, no access, revoked keys, open work reassigned
through the owning apps' audited services, history kept, re-invite restores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.db.models import ProtectedError
from django.utils import timezone

from audit.models import AuditEvent
from committee.models import CommitteeReview
from credex import member_hooks, services
from credex.models import ApiKey, Membership, Role
from credex.tenancy import tenant_context
from roster.models import InboxItem, InboxStatus, Provider
from tests.conftest import make_user
from tests.factories import make_provider, populate_every_tenant_table
from tests.test_api import api, assert_error, make_key
from verifications.models import RequestStatus, VerificationRequest

pytestmark = pytest.mark.django_db


def _events(org, action=None):
    with tenant_context(org):
        qs = AuditEvent.objects.filter(organization=org).order_by("seq")
        if action:
            qs = qs.filter(action=action)
        return list(qs)


def _membership(org, pk) -> Membership:
    with tenant_context(org):
        return Membership.all_objects.select_related("user").get(pk=pk)


@dataclass
class Work:
    provider: Provider
    closed_provider: Provider
    open_item: InboxItem
    snoozed_item: InboxItem
    resolved_item: InboxItem
    open_request: VerificationRequest
    done_request: VerificationRequest
    review: CommitteeReview


def _give_work(tenant, member: Membership) -> Work:
    """Open and closed work of each kind held by `member`."""
    org = tenant.org
    provider = make_provider(org, seed=11, coordinator=member)
    closed_provider = make_provider(org, seed=12, coordinator=member, status="terminated")
    today = timezone.localdate()
    with tenant_context(org):

        def item(key, status, **extra):
            return InboxItem.objects.create(
                organization=org,
                kind="caqh",
                key=key,
                threshold_days=30,
                due_date=today + timedelta(days=30),
                provider=provider,
                assigned_to=member,
                status=status,
                **extra,
            )

        open_item = item("caqh:a", InboxStatus.OPEN)
        snoozed = item("caqh:b", InboxStatus.SNOOZED, snoozed_until=today + timedelta(days=3))
        resolved = item("caqh:c", InboxStatus.RESOLVED, resolved_at=timezone.now())
        open_request = VerificationRequest.objects.create(
            organization=org, provider=provider, source="oig", assigned_to=member
        )
        done_request = VerificationRequest.objects.create(
            organization=org,
            provider=provider,
            source="sam",
            assigned_to=member,
            status=RequestStatus.COMPLETED,
            completed_at=timezone.now(),
        )
        review = CommitteeReview.objects.create(
            organization=org,
            provider=provider,
            cycle="initial",
            ready_marked_by=member,
            decision="approved",
            decision_date=date(2026, 11, 2),
            decided_by=member,
        )
    return Work(
        provider, closed_provider, open_item, snoozed, resolved, open_request, done_request, review
    )


def _reload(org, obj):
    with tenant_context(org):
        return type(obj).objects.get(pk=obj.pk)


def _page(tenant, member):
    return f"/o/{tenant.org.slug}/settings/members/{member.pk}/remove/"


# --- the page ---------------------------------------------------------------------------------
def test_the_confirmation_shows_the_counts_and_writes_nothing(tenant_a, login):
    coordinator = tenant_a.membership(tenant_a.coordinator)
    _give_work(tenant_a, coordinator)
    client = login(tenant_a.admin)
    before = len(_events(tenant_a.org))
    page = client.get(_page(tenant_a, coordinator))
    assert page.status_code == 200
    html = page.content.decode()
    # Both providers are theirs to coordinate; two inbox items are open (one snoozed); one
    # PSV request is open.
    assert '<li data-kind="roster.provider"><strong>2</strong> providers they coordinate' in html
    assert '<li data-kind="roster.inbox_item"><strong>2</strong> open inbox items' in html
    assert '<li data-kind="verifications.request"><strong>1</strong> open PSV request<' in html
    assert 'value="me" checked' in html and 'value="unassigned"' in html
    assert _membership(tenant_a.org, coordinator.pk).removed_at is None
    assert len(_events(tenant_a.org)) == before


def test_removal_through_the_page_reassigns_open_work_to_the_remover(tenant_a, login, client):
    org = tenant_a.org
    coordinator = tenant_a.membership(tenant_a.coordinator)
    admin = tenant_a.membership(tenant_a.admin)
    work = _give_work(tenant_a, coordinator)
    response = login(tenant_a.admin).post(_page(tenant_a, coordinator), {"reassign_to": "me"})
    assert response.status_code == 302

    removed = _membership(org, coordinator.pk)
    assert removed.removed_at is not None and removed.removed_by_id == admin.pk
    assert _reload(org, work.provider).coordinator_id == admin.pk
    assert _reload(org, work.closed_provider).coordinator_id == admin.pk
    assert _reload(org, work.open_item).assigned_to_id == admin.pk
    assert _reload(org, work.snoozed_item).assigned_to_id == admin.pk
    assert _reload(org, work.open_request).assigned_to_id == admin.pk
    # Closed and decided work keeps naming the removed member.
    assert _reload(org, work.resolved_item).assigned_to_id == coordinator.pk
    assert _reload(org, work.done_request).assigned_to_id == coordinator.pk
    review = _reload(org, work.review)
    assert review.decided_by_id == coordinator.pk and review.ready_marked_by_id == coordinator.pk

    # One audit event per reassigned object, then the removal naming what moved.
    events = _events(org)
    actions = [e.action for e in events]
    assert actions.count("roster.provider.updated") == 2
    assert actions.count("roster.inbox.item.assigned") == 2
    assert actions.count("verifications.request.assigned") == 1
    assert actions[-1] == "member.removed"
    removal = events[-1].data
    assert removal["reassigned_to"] == str(admin.pk)
    assert removal["open_work"] == {
        "roster.provider": 2,
        "roster.inbox_item": 2,
        "verifications.request": 1,
    }
    moved = [e for e in events if e.action == "roster.inbox.item.assigned"]
    assert {e.target_id for e in moved} == {str(work.open_item.pk), str(work.snoozed_item.pk)}
    assert all(e.data["reason"] == "member removed" for e in moved)
    assert all(e.data["to"] == str(admin.pk) for e in moved)

    # History shows the removed member's name, marked; the member list lists them apart.
    review_page = client.get(f"/o/{org.slug}/committee/reviews/{work.review.pk}/")
    assert "recorded by coordinator@a.example (removed)" in review_page.content.decode()
    members_page = client.get(f"/o/{org.slug}/settings/members/").content.decode()
    current, _, removed_section = members_page.partition("Removed members")
    assert "coordinator@a.example" not in current and "coordinator@a.example" in removed_section


def test_leaving_the_work_unassigned(tenant_a, login):
    org = tenant_a.org
    coordinator = tenant_a.membership(tenant_a.coordinator)
    work = _give_work(tenant_a, coordinator)
    login(tenant_a.admin).post(_page(tenant_a, coordinator), {"reassign_to": "unassigned"})
    assert _reload(org, work.provider).coordinator_id is None
    assert _reload(org, work.open_item).assigned_to_id is None
    assert _reload(org, work.open_request).assigned_to_id is None
    assert _reload(org, work.resolved_item).assigned_to_id == coordinator.pk
    assert _events(org, "member.removed")[-1].data["reassigned_to"] is None


def test_the_removed_member_can_no_longer_open_the_organization(tenant_a, login, client):
    org = tenant_a.org
    coordinator = tenant_a.membership(tenant_a.coordinator)
    member_client = login(tenant_a.coordinator)
    assert member_client.get(f"/o/{org.slug}/").status_code == 200
    assert api(member_client, "GET", "members", org=org.slug).status_code == 200
    with tenant_context(org):
        services.membership_remove(
            org=org, actor=tenant_a.membership(tenant_a.admin), membership=coordinator
        )
    # Same answers as for someone who never was a member.
    assert member_client.get(f"/o/{org.slug}/").status_code == 404
    assert member_client.get(f"/o/{org.slug}/inbox/").status_code == 404
    assert_error(api(member_client, "GET", "members", org=org.slug), 404)
    me = api(member_client, "GET", "me").json()
    assert me["organizations"] == [] and me["role"] is None
    # Nor does the organization appear in their switcher.
    home = member_client.get("/")
    assert org.name not in home.content.decode()


def test_a_removed_membership_is_not_offered_as_an_assignee(tenant_a, login):
    org = tenant_a.org
    coordinator = tenant_a.membership(tenant_a.coordinator)
    with tenant_context(org):
        services.membership_remove(
            org=org, actor=tenant_a.membership(tenant_a.admin), membership=coordinator
        )
        item = InboxItem.objects.create(
            organization=org, kind="caqh", key="caqh:x", threshold_days=30, due_date=date.today()
        )
    client = login(tenant_a.admin)
    response = client.post(
        f"/o/{org.slug}/inbox/bulk/",
        {"action": "assign", "items": [str(item.pk)], "assignee": str(coordinator.pk)},
        follow=True,
    )
    assert "Choose a member who can act on items." in response.content.decode()
    assert _reload(org, item).assigned_to_id is None


# --- the API ----------------------------------------------------------------------------------
def test_removal_through_the_api_revokes_their_keys(tenant_a, client):
    org = tenant_a.org
    admin = tenant_a.membership(tenant_a.admin)
    with tenant_context(org):
        admins_key, admins_raw = services.api_key_create(
            org=org, actor=admin, name="Admin's sync", role=Role.COORDINATOR
        )
    _, owners_raw = make_key(tenant_a, role=Role.ADMIN, name="Owner's admin key")
    work = _give_work(tenant_a, admin)
    assert api(client, "GET", "me", key=admins_raw).status_code == 200

    preview = api(client, "GET", f"members/{admin.pk}/removal-preview", key=owners_raw)
    assert preview.status_code == 200
    body = preview.json()
    assert {w["kind"]: w["count"] for w in body["open_work"]} == {
        "roster.provider": 2,
        "roster.inbox_item": 2,
        "verifications.request": 1,
    }
    assert body["reassign_to"] == ["unassigned", "me"]

    # An API key cannot take work over; nothing is written.
    refused = api(client, "DELETE", f"members/{admin.pk}?reassign_to=me", key=owners_raw)
    assert_error(refused, 400)
    assert _membership(org, admin.pk).removed_at is None

    response = api(client, "DELETE", f"members/{admin.pk}?reassign_to=unassigned", key=owners_raw)
    assert response.status_code == 204
    assert _membership(org, admin.pk).removed_at is not None
    assert _reload(org, work.open_item).assigned_to_id is None
    with tenant_context(org):
        assert ApiKey.objects.get(pk=admins_key.pk).revoked_at is not None
    assert_error(api(client, "GET", "me", key=admins_raw), 401)
    revoked = _events(org, "api_key.revoked")
    assert [e.data["reason"] for e in revoked] == ["creator removed"]
    assert api(client, "GET", "me", key=owners_raw).status_code == 200

    # Listed as removed, not as a member; its id is gone from the member endpoints.
    current = api(client, "GET", "members", key=owners_raw).json()
    assert str(admin.pk) not in {m["id"] for m in current}
    removed = api(client, "GET", "members?removed=true", key=owners_raw).json()
    assert [m["id"] for m in removed] == [str(admin.pk)] and removed[0]["removed_at"]
    assert_error(api(client, "GET", f"members/{admin.pk}", key=owners_raw), 404)
    assert_error(api(client, "DELETE", f"members/{admin.pk}", key=owners_raw), 404)


def test_a_session_caller_can_take_the_work_over(tenant_a, login):
    org = tenant_a.org
    coordinator = tenant_a.membership(tenant_a.coordinator)
    owner = tenant_a.membership(tenant_a.owner)
    work = _give_work(tenant_a, coordinator)
    client = login(tenant_a.owner)
    response = api(client, "DELETE", f"members/{coordinator.pk}?reassign_to=me", org=org.slug)
    assert response.status_code == 204
    assert _reload(org, work.open_request).assigned_to_id == owner.pk


def test_reassign_to_may_come_in_a_json_body(tenant_a, login):
    org = tenant_a.org
    coordinator = tenant_a.membership(tenant_a.coordinator)
    work = _give_work(tenant_a, coordinator)
    client = login(tenant_a.admin)
    body = {"reassign_to": "me"}
    response = api(client, "DELETE", f"members/{coordinator.pk}", body, org=org.slug)
    assert response.status_code == 204
    assert _reload(org, work.open_item).assigned_to_id == tenant_a.membership(tenant_a.admin).pk


def test_a_bad_reassign_value_is_refused_and_nothing_written(tenant_a, login):
    org = tenant_a.org
    coordinator = tenant_a.membership(tenant_a.coordinator)
    _give_work(tenant_a, coordinator)
    client = login(tenant_a.owner)
    before = len(_events(org))
    assert_error(
        api(client, "DELETE", f"members/{coordinator.pk}?reassign_to=everyone", org=org.slug), 400
    )
    client.post(_page(tenant_a, coordinator), {"reassign_to": "x" * 5000})
    assert _membership(org, coordinator.pk).removed_at is None
    assert len(_events(org)) == before


def test_a_foreign_membership_id_answers_404_and_writes_nothing(tenant_a, tenant_b, login):
    foreign = tenant_b.membership(tenant_b.owner)
    client = login(tenant_a.owner)
    before_a, before_b = len(_events(tenant_a.org)), len(_events(tenant_b.org))
    assert client.get(_page(tenant_a, foreign)).status_code == 404
    assert client.post(_page(tenant_a, foreign), {"reassign_to": "me"}).status_code == 404
    slug = tenant_a.org.slug
    assert_error(api(client, "DELETE", f"members/{foreign.pk}", org=slug), 404)
    assert_error(api(client, "GET", f"members/{foreign.pk}/removal-preview", org=slug), 404)
    assert _membership(tenant_b.org, foreign.pk).removed_at is None
    assert (len(_events(tenant_a.org)), len(_events(tenant_b.org))) == (before_a, before_b)


def test_the_last_owner_cannot_be_removed(tenant_a, login):
    org = tenant_a.org
    owner = tenant_a.membership(tenant_a.owner)
    client = login(tenant_a.owner)
    response = client.post(_page(tenant_a, owner), {"reassign_to": "unassigned"}, follow=True)
    assert "must keep at least one owner" in response.content.decode()
    assert_error(api(client, "DELETE", f"members/{owner.pk}", org=org.slug), 409)
    assert _membership(org, owner.pk).removed_at is None
    assert _events(org, "member.removed") == []


def test_a_failing_receiver_rolls_the_whole_removal_back(tenant_a):
    """The reassignments, their audit events and the removal are one transaction."""
    org = tenant_a.org
    coordinator = tenant_a.membership(tenant_a.coordinator)
    work = _give_work(tenant_a, coordinator)
    before = len(_events(org))

    def boom(**kwargs):
        raise RuntimeError("receiver failed")

    member_hooks.membership_removed.register(boom)
    try:
        with pytest.raises(RuntimeError), tenant_context(org):
            services.membership_remove(
                org=org,
                actor=tenant_a.membership(tenant_a.admin),
                membership=coordinator,
                reassign_to="me",
            )
    finally:
        member_hooks.membership_removed.unregister(boom)
    assert _membership(org, coordinator.pk).removed_at is None
    assert _reload(org, work.open_item).assigned_to_id == coordinator.pk
    assert _reload(org, work.provider).coordinator_id == coordinator.pk
    assert len(_events(org)) == before


# --- history, PROTECT, re-invite ------------------------------------------------------------
def test_a_member_referenced_by_work_cannot_be_deleted(tenant_a):
    """PROTECT: the database row that records who did something cannot vanish."""
    populate_every_tenant_table(tenant_a)
    owner = tenant_a.membership(tenant_a.owner)
    with pytest.raises(ProtectedError), tenant_context(tenant_a.org):
        Membership.all_objects.get(pk=owner.pk).delete()


def test_removing_a_member_who_holds_every_kind_of_record_keeps_every_reference(tenant_a):
    """The isolation fixture's rows all name the first owner; once removed, every reference
    still points at the same membership except the open work that moved."""
    org = tenant_a.org
    populate_every_tenant_table(tenant_a)
    first = tenant_a.membership(tenant_a.owner)
    admin = tenant_a.membership(tenant_a.admin)
    with tenant_context(org):
        services.membership_change_role(org=org, actor=first, membership=admin, role=Role.OWNER)
        admin.role = Role.OWNER
        services.membership_remove(org=org, actor=admin, membership=first, reassign_to="me")
        from screening.models import ScreeningHit
        from screening.nppes.models import NppesMismatch

        assert ScreeningHit.objects.get().reviewed_by_id == first.pk
        assert NppesMismatch.objects.get().decided_by_id == first.pk
        assert CommitteeReview.objects.get().ready_marked_by_id == first.pk
        assert Provider.objects.get().coordinator_id == admin.pk
        assert InboxItem.objects.get().assigned_to_id == admin.pk
        assert VerificationRequest.objects.get().assigned_to_id == admin.pk


def test_inviting_a_removed_member_again_restores_the_membership(tenant_a, login, client):
    org = tenant_a.org
    coordinator = tenant_a.membership(tenant_a.coordinator)
    work = _give_work(tenant_a, coordinator)
    owner = tenant_a.membership(tenant_a.owner)
    with tenant_context(org):
        services.membership_remove(org=org, actor=owner, membership=coordinator)
        invitation = services.membership_invite(
            org=org, actor=owner, email="coordinator@a.example", role=Role.AUDITOR
        )
    login(tenant_a.coordinator)
    accepted = client.post(f"/invitations/{services._invite_token(invitation)}/")
    assert accepted.status_code == 302
    restored = _membership(org, coordinator.pk)
    assert restored.removed_at is None and restored.removed_by_id is None
    assert restored.role == Role.AUDITOR
    with tenant_context(org):
        assert Membership.all_objects.filter(user=tenant_a.coordinator).count() == 1
    event = _events(org, "member.restored")[-1]
    assert event.target_id == str(coordinator.pk) and event.data["role"] == Role.AUDITOR
    assert client.get(f"/o/{org.slug}/").status_code == 200
    # The decision they recorded is theirs again, with no "(removed)" mark.
    page = client.get(f"/o/{org.slug}/committee/reviews/{work.review.pk}/").content.decode()
    assert "recorded by coordinator@a.example" in page and "(removed)" not in page


def test_a_new_invitee_still_gets_a_fresh_membership(tenant_a, login, client):
    with tenant_context(tenant_a.org):
        invitation = services.membership_invite(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            email="fresh@a.example",
            role=Role.COORDINATOR,
        )
    user = make_user("fresh@a.example")
    login(user)
    assert client.post(f"/invitations/{services._invite_token(invitation)}/").status_code == 302
    assert _events(tenant_a.org, "member.restored") == []
    with tenant_context(tenant_a.org):
        assert Membership.objects.get(user=user).role == Role.COORDINATOR
