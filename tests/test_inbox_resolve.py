"""Resolving an expired credential's inbox item: a reason is required (or a renewal), the
resolution can be undone for a few seconds (page and API, audited), a "resolved" filter finds it
again, and the daily generation re-opens it while the credential is still expired."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from credex.errors import Conflict, InvalidInput
from credex.tenancy import tenant_context
from roster.models import InboxItem
from roster.services import inbox as svc
from roster.services.providers import credential_create, credential_update
from tests.factories import make_provider


@pytest.fixture(autouse=True)
def _generous_throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


def coordinator(tenant):
    return tenant.membership(tenant.coordinator)


def add_credential(tenant, provider, expiry, number="L-1"):
    with tenant_context(tenant.org):
        return credential_create(
            org=tenant.org,
            actor=tenant.membership(tenant.owner),
            provider=provider,
            kind="state_license",
            number=number,
            state="CA",
            issue_date=timezone.localdate() - timedelta(days=700),
            expiry_date=expiry,
        )


def generate(org, today=None):
    with tenant_context(org):
        return svc.inbox_generate(org=org, today=today or timezone.localdate())


def reload(org, item):
    with tenant_context(org):
        return InboxItem.objects.get(pk=item.pk)


def actions(org, item) -> list[str]:
    with tenant_context(org):
        return list(
            AuditEvent.objects.filter(
                organization_id=org.pk, target_id=str(item.pk), action__startswith="roster.inbox."
            )
            .order_by("seq")
            .values_list("action", flat=True)
        )


def pretend_resolved_yesterday(org, item):
    """The resolution happened a day ago (the test cannot wait for tomorrow)."""
    with tenant_context(org):
        InboxItem.objects.filter(pk=item.pk).update(resolved_at=timezone.now() - timedelta(days=1))


@pytest.fixture
def provider(tenant_a):
    return make_provider(tenant_a.org, seed=31, coordinator=coordinator(tenant_a))


@pytest.fixture
def expired(tenant_a, provider):
    """An open item about a licence that expired three days ago."""
    cred = add_credential(tenant_a, provider, timezone.localdate() - timedelta(days=3))
    generate(tenant_a.org)
    with tenant_context(tenant_a.org):
        return InboxItem.objects.select_related("credential").get(credential=cred)


@pytest.fixture
def expiring(tenant_a, provider):
    """An open item about a licence that expires in 20 days (not expired)."""
    cred = add_credential(tenant_a, provider, timezone.localdate() + timedelta(days=20), "L-2")
    generate(tenant_a.org)
    with tenant_context(tenant_a.org):
        return InboxItem.objects.select_related("credential").get(credential=cred)


def api(client, method, path, body=None):
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, f"/api/v1/{path}", data, content_type="application/json")


def page(tenant, suffix=""):
    return f"/o/{tenant.org.slug}/inbox/{suffix}"


# --- a reason, or a renewal -----------------------------------------------------------------


def test_resolving_an_expired_credentials_item_without_a_reason_is_refused(tenant_a, expired):
    with tenant_context(tenant_a.org), pytest.raises(InvalidInput) as refused:
        svc.inbox_item_resolve(org=tenant_a.org, actor=coordinator(tenant_a), item=expired)
    assert refused.value.details == {"note": "required"}
    assert reload(tenant_a.org, expired).status == "open"
    assert "roster.inbox.item.resolved" not in actions(tenant_a.org, expired)


def test_resolving_an_expired_credentials_item_with_a_reason_is_recorded(tenant_a, expired):
    with tenant_context(tenant_a.org):
        svc.inbox_item_resolve(
            org=tenant_a.org, actor=coordinator(tenant_a), item=expired, note="Renewal applied"
        )
    after = reload(tenant_a.org, expired)
    assert (after.status, after.resolution) == ("resolved", "Renewal applied")


def test_after_a_renewal_the_item_resolves_without_a_reason(tenant_a, expired):
    with tenant_context(tenant_a.org):
        credential_update(
            org=tenant_a.org,
            actor=coordinator(tenant_a),
            credential=expired.credential,
            expiry_date=timezone.localdate() + timedelta(days=700),
        )
        svc.inbox_item_resolve(org=tenant_a.org, actor=coordinator(tenant_a), item=expired)
    assert reload(tenant_a.org, expired).status == "resolved"


def test_an_item_not_yet_expired_still_resolves_without_a_reason(tenant_a, expiring):
    with tenant_context(tenant_a.org):
        svc.inbox_item_resolve(org=tenant_a.org, actor=coordinator(tenant_a), item=expiring)
    assert reload(tenant_a.org, expiring).resolution == "done"


def test_the_api_refuses_a_reasonless_resolve_of_an_expired_credential(tenant_a, expired, login):
    client = login(tenant_a.coordinator)
    refused = api(client, "POST", f"inbox/{expired.pk}/resolve", {})
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid"
    assert refused.json()["details"] == {"note": "required"}
    assert reload(tenant_a.org, expired).status == "open"
    ok = api(client, "POST", f"inbox/{expired.pk}/resolve", {"note": "Board says renewed"})
    assert ok.status_code == 200 and ok.json()["status"] == "resolved"


def test_the_page_asks_for_a_reason_and_refuses_without_one(tenant_a, expired, login):
    client = login(tenant_a.coordinator)
    body = client.get(page(tenant_a)).content.decode()
    assert "The credential is still expired. What was done?" in body
    assert f'id="note-{expired.pk}"' in body
    response = client.post(page(tenant_a, f"{expired.pk}/resolve/"), {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "still expired" in response.content.decode()
    assert reload(tenant_a.org, expired).status == "open"


def test_bulk_resolving_expired_items_without_a_reason_is_refused(tenant_a, expired, login):
    client = login(tenant_a.coordinator)
    response = client.post(
        page(tenant_a, "bulk/"),
        {"action": "resolve", "items": [expired.pk]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "still expired" in response.content.decode()
    assert reload(tenant_a.org, expired).status == "open"


# --- undo -----------------------------------------------------------------------------------


def test_the_resolved_notice_carries_an_undo_button_that_re_opens_the_item(
    tenant_a, expired, login
):
    client = login(tenant_a.coordinator)
    response = client.post(
        page(tenant_a, f"{expired.pk}/resolve/"),
        {"note": "Called the board"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Resolved" in body
    undo = page(tenant_a, f"{expired.pk}/undo/")
    assert f'hx-post="{undo}"' in body and ">Undo</button>" in body
    again = client.post(undo, {}, HTTP_HX_REQUEST="true")
    assert again.status_code == 200 and "Re-opened" in again.content.decode()
    after = reload(tenant_a.org, expired)
    assert (after.status, after.resolution, after.resolved_at) == ("open", "", None)
    assert actions(tenant_a.org, expired)[-2:] == [
        "roster.inbox.item.resolved",
        "roster.inbox.item.undone",
    ]


def test_without_htmx_the_list_page_after_the_redirect_offers_the_undo(tenant_a, expiring, login):
    client = login(tenant_a.coordinator)
    response = client.post(page(tenant_a, f"{expiring.pk}/resolve/"), {}, follow=True)
    body = response.content.decode()
    assert "Resolved" in body and page(tenant_a, f"{expiring.pk}/undo/") in body
    # shown once: a reload no longer offers it
    assert page(tenant_a, f"{expiring.pk}/undo/") not in client.get(page(tenant_a)).content.decode()


def test_undo_after_the_window_is_refused_and_changes_nothing(tenant_a, expiring, login):
    client = login(tenant_a.coordinator)
    assert api(client, "POST", f"inbox/{expiring.pk}/resolve", {}).status_code == 200
    with tenant_context(tenant_a.org):
        InboxItem.objects.filter(pk=expiring.pk).update(
            resolved_at=timezone.now() - timedelta(seconds=svc.UNDO_SECONDS + 1)
        )
    refused = api(client, "POST", f"inbox/{expiring.pk}/undo")
    assert refused.status_code == 409 and refused.json()["details"] == {"undo": "expired"}
    assert reload(tenant_a.org, expiring).status == "resolved"
    assert "roster.inbox.item.undone" not in actions(tenant_a.org, expiring)


def test_the_api_undoes_a_fresh_resolution_and_refuses_an_open_item(tenant_a, expiring, login):
    client = login(tenant_a.coordinator)
    assert api(client, "POST", f"inbox/{expiring.pk}/undo").status_code == 409
    api(client, "POST", f"inbox/{expiring.pk}/resolve", {})
    undone = api(client, "POST", f"inbox/{expiring.pk}/undo")
    assert undone.status_code == 200 and undone.json()["status"] == "open"


def test_the_auditor_and_the_outsider_cannot_undo(tenant_a, tenant_b, expiring, login, client):
    with tenant_context(tenant_a.org):
        svc.inbox_item_resolve(org=tenant_a.org, actor=coordinator(tenant_a), item=expiring)
    assert login(tenant_a.auditor).post(page(tenant_a, f"{expiring.pk}/undo/")).status_code == 403
    client.logout()
    assert login(tenant_b.owner).post(page(tenant_a, f"{expiring.pk}/undo/")).status_code == 404
    assert reload(tenant_a.org, expiring).status == "resolved"


def test_an_undone_snoozed_item_goes_back_to_its_snooze(tenant_a, expiring):
    actor = coordinator(tenant_a)
    until = timezone.localdate() + timedelta(days=7)
    with tenant_context(tenant_a.org):
        item = svc.inbox_item_snooze(org=tenant_a.org, actor=actor, item=expiring, until=until)
        svc.inbox_item_resolve(org=tenant_a.org, actor=actor, item=item)
        svc.inbox_item_undo(org=tenant_a.org, actor=actor, item=item)
    after = reload(tenant_a.org, expiring)
    assert (after.status, after.snoozed_until) == ("snoozed", until)


def test_undo_of_a_resolution_twice_is_a_conflict(tenant_a, expiring):
    actor = coordinator(tenant_a)
    with tenant_context(tenant_a.org):
        svc.inbox_item_resolve(org=tenant_a.org, actor=actor, item=expiring)
        svc.inbox_item_undo(org=tenant_a.org, actor=actor, item=expiring)
        with pytest.raises(Conflict):
            svc.inbox_item_undo(org=tenant_a.org, actor=actor, item=expiring)


# --- the "resolved" filter ------------------------------------------------------------------


def test_the_resolved_filter_finds_the_item_again_on_the_page_and_in_the_api(
    tenant_a, expired, expiring, login
):
    actor = coordinator(tenant_a)
    with tenant_context(tenant_a.org):
        svc.inbox_item_resolve(org=tenant_a.org, actor=actor, item=expired, note="Chased board")
        svc.inbox_item_dismiss(org=tenant_a.org, actor=actor, item=expiring, reason="Leaving")
    client = login(tenant_a.coordinator)
    body = client.get(page(tenant_a) + "?status=resolved").content.decode()
    assert '<option value="resolved" selected>' in body
    assert "Chased board" in body and "Leaving" not in body
    assert f"/{expired.pk}/resolve/" not in body  # closed: an outcome, no actions
    rows = api(client, "GET", "inbox?status=resolved").json()["results"]
    assert [r["id"] for r in rows] == [str(expired.pk)]
    dismissed = api(client, "GET", "inbox?status=dismissed").json()["results"]
    assert [r["id"] for r in dismissed] == [str(expiring.pk)]


# --- it comes back the next day -------------------------------------------------------------


def test_the_daily_task_re_opens_an_item_whose_credential_is_still_expired(tenant_a, expired):
    from roster.jobs.inbox import inbox_generate_task

    with tenant_context(tenant_a.org):
        svc.inbox_item_resolve(
            org=tenant_a.org, actor=coordinator(tenant_a), item=expired, note="Renewal applied"
        )
    # the same day, a re-run leaves the resolution alone
    assert generate(tenant_a.org).get("reopened") is None
    assert reload(tenant_a.org, expired).status == "resolved"
    pretend_resolved_yesterday(tenant_a.org, expired)
    result = inbox_generate_task.apply(kwargs={"org_id": str(tenant_a.org.pk)}).get()
    assert result["reopened"] == 1
    after = reload(tenant_a.org, expired)
    assert (after.status, after.resolution, after.resolved_at) == ("open", "", None)
    with tenant_context(tenant_a.org):
        event = AuditEvent.objects.filter(
            organization_id=tenant_a.org.pk, action="roster.inbox.item.reopened"
        ).get()
    assert event.target_id == str(expired.pk)
    assert event.data["previous_resolution"] == "Renewal applied"


def test_a_renewed_or_dismissed_item_does_not_come_back(tenant_a, provider, expired):
    actor = coordinator(tenant_a)
    other = add_credential(tenant_a, provider, timezone.localdate() - timedelta(days=5), "L-9")
    generate(tenant_a.org)
    with tenant_context(tenant_a.org):
        dismissed = InboxItem.objects.get(credential=other)
        svc.inbox_item_dismiss(org=tenant_a.org, actor=actor, item=dismissed, reason="Leaving")
        svc.inbox_item_resolve(org=tenant_a.org, actor=actor, item=expired, note="Renewed")
        credential_update(
            org=tenant_a.org,
            actor=actor,
            credential=expired.credential,
            expiry_date=timezone.localdate() + timedelta(days=700),
        )
    pretend_resolved_yesterday(tenant_a.org, expired)
    pretend_resolved_yesterday(tenant_a.org, dismissed)
    assert generate(tenant_a.org, timezone.localdate() + timedelta(days=1)).get("reopened") is None
    assert reload(tenant_a.org, expired).status == "resolved"
    assert reload(tenant_a.org, dismissed).status == "dismissed"
