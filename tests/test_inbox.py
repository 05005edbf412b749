"""The expiry inbox: generation thresholds, idempotency (also two runs at once), automatic
resolution on renewal, the coordinator's actions and who may take them, the page, the API,
the Celery tasks on a real worker, the digest, and the cross-organization view."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import date, timedelta

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from credex.errors import Conflict, Forbidden, InvalidInput
from credex.services import api_key_create, organization_create
from credex.tenancy import tenant_context
from enrollment.models import Payer, PayerContract
from roster.models import InboxItem, InboxStatus
from roster.selectors.inbox import active_items
from roster.services import inbox as svc
from roster.services.providers import credential_create, credential_update, provider_update
from tests.conftest import add_member, build_tenant, make_user
from tests.factories import make_provider

TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _generous_throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


# --- helpers ---------------------------------------------------------------------------------


def coordinator_of(tenant):
    return tenant.membership(tenant.coordinator)


def add_credential(tenant, provider, expiry: date, kind="state_license", **extra):
    with tenant_context(tenant.org):
        return credential_create(
            org=tenant.org,
            actor=tenant.membership(tenant.owner),
            provider=provider,
            kind=kind,
            number=extra.pop("number", "L-1"),
            state="CA",
            issue_date=date(2020, 1, 1),
            expiry_date=expiry,
            **extra,
        )


def generate(org, today=TODAY):
    with tenant_context(org):
        return svc.inbox_generate(org=org, today=today)


def items(org, **filters):
    with tenant_context(org):
        return list(InboxItem.objects.filter(**filters).order_by("threshold_days", "key"))


def open_items(org):
    return items(org, status__in=svc.ACTIVE)


@pytest.fixture
def provider(tenant_a):
    return make_provider(tenant_a.org, seed=11, coordinator=coordinator_of(tenant_a))


# --- thresholds ----------------------------------------------------------------------------


def test_a_credential_expiring_in_89_days_gets_a_90_day_item_for_its_coordinator(
    tenant_a, provider
):
    cred = add_credential(tenant_a, provider, TODAY + timedelta(days=89))
    generate(tenant_a.org)
    [item] = open_items(tenant_a.org)
    assert item.threshold_days == 90
    assert item.kind == "credential_expiry"
    assert item.credential_id == cred.pk and item.provider_id == provider.pk
    assert item.due_date == cred.expiry_date
    assert item.assigned_to_id == coordinator_of(tenant_a).pk
    assert item.key == f"credential_expiry:{cred.pk}:{cred.expiry_date.isoformat()}:90"


def test_a_credential_91_days_out_gets_no_item(tenant_a, provider):
    add_credential(tenant_a, provider, TODAY + timedelta(days=91))
    assert generate(tenant_a.org)["created"] == 0
    assert items(tenant_a.org) == []


def test_reaching_30_days_supersedes_the_60_and_90_day_items(tenant_a, provider):
    expiry = TODAY + timedelta(days=89)
    add_credential(tenant_a, provider, expiry)
    generate(tenant_a.org)  # 89 days left: 90
    generate(tenant_a.org, today=expiry - timedelta(days=59))  # 60
    assert [i.threshold_days for i in open_items(tenant_a.org)] == [60]
    generate(tenant_a.org, today=expiry - timedelta(days=29))  # 30
    rows = items(tenant_a.org)
    assert [(i.threshold_days, i.status) for i in rows] == [
        (30, InboxStatus.OPEN),
        (60, InboxStatus.RESOLVED),
        (90, InboxStatus.RESOLVED),
    ]
    assert {i.resolution for i in rows if i.threshold_days > 30} == {"superseded"}


def test_jumping_straight_to_29_days_creates_only_the_30_day_item(tenant_a, provider):
    add_credential(tenant_a, provider, TODAY + timedelta(days=29))
    generate(tenant_a.org)
    assert [(i.threshold_days, i.status) for i in items(tenant_a.org)] == [(30, "open")]


def test_an_expired_credential_gets_a_0_day_item(tenant_a, provider):
    add_credential(tenant_a, provider, TODAY - timedelta(days=3))
    generate(tenant_a.org)
    assert [i.threshold_days for i in open_items(tenant_a.org)] == [0]


def test_re_credentialing_uses_120_90_60_30_and_0(tenant_a, provider):
    with tenant_context(tenant_a.org):
        provider.recredentialing_due_date = TODAY + timedelta(days=100)
        provider.save()
    generate(tenant_a.org)
    [item] = open_items(tenant_a.org)
    assert (item.kind, item.threshold_days, item.provider_id) == (
        "recredentialing",
        120,
        provider.pk,
    )
    generate(tenant_a.org, today=TODAY + timedelta(days=15))  # 85 days left
    assert [(i.threshold_days) for i in open_items(tenant_a.org)] == [90]


def test_caqh_re_attestation_is_due_120_days_after_the_last_attestation(tenant_a, provider):
    with tenant_context(tenant_a.org):
        provider.caqh_last_attested = TODAY - timedelta(days=100)
        provider.save()
    generate(tenant_a.org)
    [item] = open_items(tenant_a.org)
    assert item.kind == "caqh"
    assert item.due_date == TODAY + timedelta(days=20)
    assert item.threshold_days == 30


def test_a_payer_contract_renewal_gets_an_unassigned_item(tenant_a):
    with tenant_context(tenant_a.org):
        payer = Payer.objects.create(organization=tenant_a.org, name="Blue Plan")
        contract = PayerContract.objects.create(
            organization=tenant_a.org,
            payer=payer,
            effective_date=date(2025, 1, 1),
            renewal_date=TODAY + timedelta(days=45),
        )
    generate(tenant_a.org)
    [item] = open_items(tenant_a.org)
    assert (item.kind, item.threshold_days, item.contract_id, item.assigned_to_id) == (
        "contract_renewal",
        60,
        contract.pk,
        None,
    )


def test_terminated_providers_and_revoked_credentials_raise_no_items(tenant_a):
    gone = make_provider(tenant_a.org, seed=12, status="terminated")
    add_credential(tenant_a, gone, TODAY + timedelta(days=10))
    active = make_provider(tenant_a.org, seed=13)
    add_credential(tenant_a, active, TODAY + timedelta(days=10), status="revoked")
    add_credential(tenant_a, active, TODAY + timedelta(days=10), kind="education")
    generate(tenant_a.org)
    assert items(tenant_a.org) == []


# --- idempotency ---------------------------------------------------------------------------


def test_running_generation_twice_creates_the_same_rows(tenant_a, provider):
    add_credential(tenant_a, provider, TODAY + timedelta(days=20))
    add_credential(tenant_a, provider, TODAY + timedelta(days=70), kind="dea", number="")
    first = generate(tenant_a.org)
    before = {(i.pk, i.key, i.status) for i in items(tenant_a.org)}
    second = generate(tenant_a.org)
    assert first["created"] == 2 and second == {"created": 0}
    assert {(i.pk, i.key, i.status) for i in items(tenant_a.org)} == before


def test_two_concurrent_runs_on_committed_data_create_no_duplicates(committed_tenant):
    org = committed_tenant.org
    coordinator = coordinator_of(committed_tenant)
    for n in range(30):
        p = make_provider(org, seed=5000 + n, coordinator=coordinator)
        add_credential(committed_tenant, p, TODAY + timedelta(days=n * 3 - 5))
    # Items at 90 days exist already, so the runs also race to supersede them.
    generate(org, today=TODAY - timedelta(days=40))
    before = {i.pk for i in items(org)}
    connections.close_all()

    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(generate(org))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert len(results) == 2
    rows = items(org)
    keys = [i.key for i in rows]
    assert len(keys) == len(set(keys))
    open_now = [i for i in rows if i.status == "open"]
    assert len(open_now) == 30  # one current item per credential
    assert sum(r["created"] for r in results) == len({i.pk for i in rows} - before)
    superseded = [i for i in rows if i.resolution == "superseded"]
    assert sum(r.get("superseded", 0) for r in results) == len(superseded)
    with tenant_context(org):
        events = AuditEvent.objects.filter(
            organization_id=org.pk, action="roster.inbox.item.auto_resolved"
        ).count()
    assert events == len(superseded)  # each resolved once, by one of the runs


# --- automatic resolution ------------------------------------------------------------------


def test_renewing_a_credential_resolves_its_open_item_as_a_system_event(tenant_a, provider):
    cred = add_credential(tenant_a, provider, TODAY + timedelta(days=20))
    generate(tenant_a.org)
    [item] = open_items(tenant_a.org)
    with tenant_context(tenant_a.org):
        credential_update(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            credential=cred,
            expiry_date=cred.expiry_date + timedelta(days=730),
        )
    result = generate(tenant_a.org)
    assert result["renewed"] == 1
    [after] = items(tenant_a.org, pk=item.pk)
    assert (after.status, after.resolution) == ("resolved", "renewed")
    assert open_items(tenant_a.org) == []
    with tenant_context(tenant_a.org):
        event = AuditEvent.objects.get(
            organization_id=tenant_a.org.pk,
            action="roster.inbox.item.auto_resolved",
            target_id=str(item.pk),
        )
    assert event.actor_kind == "system" and event.actor_label == "inbox"
    assert event.data["resolution"] == "renewed"


def test_re_credentialing_a_provider_resolves_the_re_credentialing_item(tenant_a, provider):
    with tenant_context(tenant_a.org):
        provider.recredentialing_due_date = TODAY + timedelta(days=10)
        provider.save()
    generate(tenant_a.org)
    with tenant_context(tenant_a.org):
        provider_update(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            provider=provider,
            recredentialing_due_date=TODAY + timedelta(days=3 * 365),
        )
    generate(tenant_a.org)
    [item] = items(tenant_a.org)
    assert (item.status, item.resolution) == ("resolved", "renewed")


# --- a coordinator's actions ---------------------------------------------------------------


@pytest.fixture
def item(tenant_a, provider):
    add_credential(tenant_a, provider, timezone.localdate() + timedelta(days=20))
    generate(tenant_a.org, today=timezone.localdate())
    return open_items(tenant_a.org)[0]


def test_snoozing_hides_the_item_until_the_date(tenant_a, item):
    today = timezone.localdate()
    with tenant_context(tenant_a.org):
        svc.inbox_item_snooze(
            org=tenant_a.org,
            actor=coordinator_of(tenant_a),
            item=item,
            until=today + timedelta(days=7),
        )
        assert list(active_items(org=tenant_a.org, today=today)) == []
        assert list(active_items(org=tenant_a.org, today=today + timedelta(days=6))) == []
        assert [i.pk for i in active_items(org=tenant_a.org, today=today + timedelta(days=7))] == [
            item.pk
        ]


def test_snooze_dismiss_and_resolve_are_each_audited(tenant_a, provider):
    today = timezone.localdate()
    for n in range(3):
        add_credential(tenant_a, provider, today + timedelta(days=10 + n), number=f"L{n}")
    generate(tenant_a.org, today=today)
    a, b, c = open_items(tenant_a.org)
    actor = coordinator_of(tenant_a)
    with tenant_context(tenant_a.org):
        svc.inbox_item_snooze(org=tenant_a.org, actor=actor, item=a, until=today + timedelta(3))
        svc.inbox_item_dismiss(org=tenant_a.org, actor=actor, item=b, reason="Leaving in May")
        svc.inbox_item_resolve(org=tenant_a.org, actor=actor, item=c)
        events = {
            e.action: e
            for e in AuditEvent.objects.filter(
                organization_id=tenant_a.org.pk, action__startswith="roster.inbox.item."
            )
        }
    assert events["roster.inbox.item.snoozed"].target_id == str(a.pk)
    assert events["roster.inbox.item.dismissed"].data["reason"] == "Leaving in May"
    assert events["roster.inbox.item.resolved"].target_id == str(c.pk)
    assert all(e.actor_label == tenant_a.coordinator.email for e in events.values())
    assert [i.status for i in items(tenant_a.org)] == ["snoozed", "dismissed", "resolved"]


def test_dismissing_without_a_reason_is_refused_and_changes_nothing(tenant_a, item):
    with tenant_context(tenant_a.org), pytest.raises(InvalidInput):
        svc.inbox_item_dismiss(
            org=tenant_a.org, actor=coordinator_of(tenant_a), item=item, reason=" "
        )
    assert items(tenant_a.org, pk=item.pk)[0].status == "open"


def test_acting_on_a_closed_item_is_a_conflict(tenant_a, item):
    actor = coordinator_of(tenant_a)
    with tenant_context(tenant_a.org):
        svc.inbox_item_resolve(org=tenant_a.org, actor=actor, item=item)
        with pytest.raises(Conflict):
            svc.inbox_item_dismiss(org=tenant_a.org, actor=actor, item=item, reason="x")


def test_an_auditor_cannot_act_on_items(tenant_a, item):
    with tenant_context(tenant_a.org), pytest.raises(Forbidden):
        svc.inbox_item_resolve(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.auditor), item=item
        )
    assert items(tenant_a.org, pk=item.pk)[0].status == "open"


# --- the page ------------------------------------------------------------------------------


def inbox_url(tenant, suffix=""):
    return f"/o/{tenant.org.slug}/inbox/{suffix}"


def test_the_coordinator_sees_the_item_with_its_due_badge(tenant_a, item, login):
    response = login(tenant_a.coordinator).get(inbox_url(tenant_a))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Pat Doe11" in body and "in 20 days" in body and "30-day notice" in body
    assert f'action="/o/{tenant_a.org.slug}/inbox/{item.pk}/snooze/"' in body


def test_the_inbox_filters_live_in_the_url(tenant_a, item, login):
    client = login(tenant_a.coordinator)
    assert "Pat Doe11" in client.get(inbox_url(tenant_a) + "?assigned=me").content.decode()
    assert "Pat Doe11" not in client.get(inbox_url(tenant_a) + "?kind=caqh").content.decode()
    unassigned = client.get(inbox_url(tenant_a) + "?assigned=unassigned").content.decode()
    assert "No items match these filters" in unassigned
    assert "Pat Doe11" in client.get(inbox_url(tenant_a) + "?due_within=30").content.decode()


def test_the_empty_inbox_says_what_to_do_next(tenant_a, login):
    body = login(tenant_a.coordinator).get(inbox_url(tenant_a)).content.decode()
    assert "Nothing is due." in body


def test_the_auditor_reads_the_inbox_without_action_buttons(tenant_a, item, login):
    response = login(tenant_a.auditor).get(inbox_url(tenant_a))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Pat Doe11" in body and "/snooze/" not in body and "bulk-form" not in body


def test_the_auditor_gets_403_on_every_inbox_action_and_nothing_changes(tenant_a, item, login):
    client = login(tenant_a.auditor)
    for action, data in (("snooze", {"days": 7}), ("dismiss", {"reason": "x"}), ("resolve", {})):
        assert client.post(inbox_url(tenant_a, f"{item.pk}/{action}/"), data).status_code == 403
    bulk = client.post(inbox_url(tenant_a, "bulk/"), {"action": "resolve", "items": [item.pk]})
    assert bulk.status_code == 403
    assert items(tenant_a.org, pk=item.pk)[0].status == "open"


def test_snoozing_through_htmx_answers_with_the_refreshed_list(tenant_a, item, login):
    client = login(tenant_a.coordinator)
    response = client.post(
        inbox_url(tenant_a, f"{item.pk}/snooze/"),
        {"days": "14", "q": "assigned=me"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Snoozed" in body and "until" in body
    assert "<html" not in body  # a fragment
    [after] = items(tenant_a.org, pk=item.pk)
    assert after.status == "snoozed"
    assert after.snoozed_until == timezone.localdate() + timedelta(days=14)


def test_dismissing_without_a_reason_on_the_page_shows_why_and_changes_nothing(
    tenant_a, item, login
):
    client = login(tenant_a.coordinator)
    response = client.post(
        inbox_url(tenant_a, f"{item.pk}/dismiss/"), {"reason": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "Say why" in response.content.decode()
    assert items(tenant_a.org, pk=item.pk)[0].status == "open"


def test_bulk_snooze_and_assign_act_on_every_selected_item(tenant_a, provider, login):
    today = timezone.localdate()
    for n in range(3):
        add_credential(tenant_a, provider, today + timedelta(days=5 + n), number=f"B{n}")
    generate(tenant_a.org, today=today)
    rows = open_items(tenant_a.org)
    client = login(tenant_a.coordinator)
    admin = tenant_a.membership(tenant_a.admin)
    response = client.post(
        inbox_url(tenant_a, "bulk/"),
        {"action": "assign", "assignee": str(admin.pk), "items": [r.pk for r in rows]},
    )
    assert response.status_code == 302
    assert {i.assigned_to_id for i in items(tenant_a.org)} == {admin.pk}
    client.post(
        inbox_url(tenant_a, "bulk/"),
        {"action": "snooze", "days": "7", "items": [r.pk for r in rows[:2]]},
    )
    assert [i.status for i in items(tenant_a.org)].count("snoozed") == 2


def test_bulk_assigning_to_an_auditor_is_refused(tenant_a, item, login):
    auditor = tenant_a.membership(tenant_a.auditor)
    response = login(tenant_a.coordinator).post(
        inbox_url(tenant_a, "bulk/"),
        {"action": "assign", "assignee": str(auditor.pk), "items": [item.pk]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert items(tenant_a.org, pk=item.pk)[0].assigned_to_id == coordinator_of(tenant_a).pk


# --- the API -------------------------------------------------------------------------------


def api(client, method, path, body=None, **extra):
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, f"/api/v1/{path}", data, content_type="application/json", **extra)


def test_the_api_lists_items_with_filters_and_a_cursor(tenant_a, provider, login):
    today = timezone.localdate()
    for n in range(3):
        add_credential(tenant_a, provider, today + timedelta(days=5 + 30 * n), number=f"C{n}")
    generate(tenant_a.org, today=today)
    client = login(tenant_a.coordinator)
    body = api(client, "GET", "inbox?page_size=2").json()
    assert [r["threshold_days"] for r in body["results"]] == [30, 60]
    assert body["next"]
    rest = client.get(body["next"]).json()
    assert [r["threshold_days"] for r in rest["results"]] == [90]
    before = (today + timedelta(days=10)).isoformat()
    assert len(api(client, "GET", f"inbox?due_before={before}").json()["results"]) == 1
    assert api(client, "GET", "inbox?kind=caqh").json()["results"] == []
    assert len(api(client, "GET", "inbox?assigned=me").json()["results"]) == 3
    assert api(client, "GET", "inbox?status=bogus").status_code == 400


def test_the_api_snoozes_dismisses_and_resolves(tenant_a, provider, login):
    today = timezone.localdate()
    for n in range(3):
        add_credential(tenant_a, provider, today + timedelta(days=5 + n), number=f"D{n}")
    generate(tenant_a.org, today=today)
    a, b, c = open_items(tenant_a.org)
    client = login(tenant_a.coordinator)
    r = api(client, "POST", f"inbox/{a.pk}/snooze", {"days": 10})
    assert r.status_code == 200 and r.json()["status"] == "snoozed"
    assert r.json()["snoozed_until"] == (today + timedelta(days=10)).isoformat()
    r = api(client, "POST", f"inbox/{b.pk}/dismiss", {"reason": "duplicate licence"})
    assert r.json()["status"] == "dismissed" and r.json()["resolution"] == "duplicate licence"
    assert api(client, "POST", f"inbox/{c.pk}/resolve", {}).json()["status"] == "resolved"
    assert api(client, "POST", f"inbox/{c.pk}/resolve", {}).status_code == 409


def test_the_api_refuses_the_auditor_the_outsider_and_anonymous(tenant_a, tenant_b, item, client):
    owner = tenant_a.membership(tenant_a.owner)
    with tenant_context(tenant_a.org):
        _, auditor_key = api_key_create(org=tenant_a.org, actor=owner, name="ro", role="auditor")
    with tenant_context(tenant_b.org):
        _, outsider_key = api_key_create(
            org=tenant_b.org, actor=tenant_b.membership(tenant_b.owner), name="b"
        )
    path = f"inbox/{item.pk}/resolve"
    assert api(client, "POST", path, {}).status_code == 401
    assert api(client, "GET", "inbox").status_code == 401
    auditor = {"HTTP_AUTHORIZATION": f"Api-Key {auditor_key}"}
    assert api(client, "GET", "inbox", **auditor).status_code == 200
    assert api(client, "POST", path, {}, **auditor).status_code == 403
    outsider = {"HTTP_AUTHORIZATION": f"Api-Key {outsider_key}"}
    assert api(client, "POST", path, {}, **outsider).status_code == 404
    assert api(client, "GET", "inbox", **outsider).json()["results"] == []
    assert items(tenant_a.org, pk=item.pk)[0].status == "open"


# --- the digest ----------------------------------------------------------------------------


def test_the_digest_mails_each_assignee_their_items_due_within_30_days(
    tenant_a, provider, mailoutbox, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    add_credential(tenant_a, provider, today + timedelta(days=12), number="DG1")
    add_credential(tenant_a, provider, today + timedelta(days=80), number="DG2")
    generate(tenant_a.org, today=today)
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant_a.org):
        sent = svc.inbox_digest_send(org=tenant_a.org)
    assert sent == 1
    [mail] = mailoutbox
    assert mail.to == [tenant_a.coordinator.email]
    assert "DG1" in mail.body and "DG2" not in mail.body and "in 12 days" in mail.body


def test_the_digest_task_sends_nothing_unless_enabled(tenant_a, item, mailoutbox, settings):
    from roster.jobs.inbox import inbox_digest

    settings.INBOX_DIGEST_ENABLED = False
    assert inbox_digest.apply(kwargs={"org_id": str(tenant_a.org.pk)}).get() == 0
    assert mailoutbox == []


# --- the cross-organization view -----------------------------------------------------------


def test_the_cross_org_view_shows_both_organizations_and_nothing_of_a_third(
    tenant_a, tenant_b, login
):
    ivy = make_user("ivy@independent.example")
    add_member(tenant_a.org, ivy, "coordinator")
    add_member(tenant_b.org, ivy, "coordinator")
    third_owner = make_user("owner@c.example")
    third = organization_create(name="Cedar Clinic", owner=third_owner)
    today = timezone.localdate()
    for org, name, seed in (
        (tenant_a.org, "Alvarez", 21),
        (tenant_b.org, "Brennan", 22),
        (third, "Zimmer", 23),
    ):
        p = make_provider(org, seed=seed, last_name=name)
        with tenant_context(org):
            from roster.models import Credential

            Credential.objects.create(
                organization=org, provider=p, kind="dea", expiry_date=today + timedelta(days=15)
            )
    response = login(ivy).get("/expiring/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme Health" in body and "Bayside Clinic" in body
    assert "Alvarez" in body and "Brennan" in body
    assert "Cedar Clinic" not in body and "Zimmer" not in body
    assert f"/o/{tenant_a.org.slug}/inbox/" in body and f"/o/{tenant_b.org.slug}/inbox/" in body


def test_the_cross_org_view_needs_a_signed_in_user(client, db):
    response = client.get("/expiring/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Celery, with a real worker ------------------------------------------------------------


@pytest.fixture
def worker(committed_db):
    from tests.conftest import own_queue_worker

    with own_queue_worker(shutdown_timeout=20):
        yield


@pytest.mark.external
def test_a_real_worker_runs_the_generation_for_one_organization(committed_tenant, worker):
    from roster.jobs.inbox import inbox_generate_task

    p = make_provider(committed_tenant.org, seed=7001, coordinator=coordinator_of(committed_tenant))
    add_credential(committed_tenant, p, timezone.localdate() + timedelta(days=40))
    other = build_tenant("Worker Other", f"other-{uuid.uuid4().hex[:8]}.example", roles=())
    result = inbox_generate_task.delay(org_id=str(committed_tenant.org.pk)).get(timeout=60)
    assert result == {"created": 1}
    [row] = items(committed_tenant.org)
    assert (row.threshold_days, row.provider_id) == (60, p.pk)
    assert items(other.org) == []
    again = inbox_generate_task.delay(org_id=str(committed_tenant.org.pk)).get(timeout=60)
    assert again == {"created": 0}


@pytest.mark.external
def test_the_daily_job_fans_out_one_generation_per_organization(committed_tenant, worker):
    from roster.jobs.inbox import inbox_daily
    from tests.waiting import wait_for

    p = make_provider(committed_tenant.org, seed=7002, coordinator=coordinator_of(committed_tenant))
    add_credential(committed_tenant, p, timezone.localdate() - timedelta(days=1))
    enqueued = inbox_daily.delay(force=True).get(timeout=60)
    assert enqueued >= 1
    [row] = wait_for(lambda: items(committed_tenant.org), what="the generated inbox item")
    assert (row.threshold_days, row.assigned_to_id) == (0, coordinator_of(committed_tenant).pk)
