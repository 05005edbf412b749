"""POST /webhooks/stripe: signatures on the raw body, each event once, any arrival order.

Payloads are shaped like Stripe's events and signed the way Stripe signs them
(`Stripe-Signature: t=<ts>,v1=<hmac_sha256(secret, "<ts>.<body>")>`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid

import pytest
from django.db import connections

from audit.models import AuditEvent
from billing.models import BillingAccount, BillingStatus, Invoice, InvoiceStatus, StripeEvent
from billing.services.accounts import account_for, writes_pause
from credex.tenancy import platform_path, tenant_context

SECRET = "whsec_test_credex"


@pytest.fixture(autouse=True)
def _webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET


def sign(body: str, secret: str = SECRET, ts: int | None = None) -> str:
    ts = int(time.time()) if ts is None else ts
    mac = hmac.new(secret.encode(), f"{ts}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def event(kind: str, obj: dict, *, created: int, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "livemode": False,
        "pending_webhooks": 1,
        "type": kind,
        "data": {"object": obj},
    }


def deliver(client, payload: dict, *, signature: str | None = None):
    body = json.dumps(payload)
    headers = {} if signature == "" else {"HTTP_STRIPE_SIGNATURE": signature or sign(body)}
    return client.post("/webhooks/stripe", body, content_type="application/json", **headers)


def _customer(org, customer="cus_test123"):
    with tenant_context(org):
        account = account_for(org)
        account.stripe_customer_id = customer
        account.save(update_fields=["stripe_customer_id"])
    return customer


def _account(org) -> BillingAccount:
    with tenant_context(org):
        return BillingAccount.objects.get()


def _events():
    from django.db import transaction

    with transaction.atomic(), platform_path():
        return list(StripeEvent.objects.values_list("event_id", "outcome"))


def subscription(org, status: str, *, sub_id="sub_123", customer="cus_test123") -> dict:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "current_period_end": 1798761600,
        "metadata": {"org_id": str(org.pk)},
        "items": {
            "object": "list",
            "data": [{"id": "si_seat", "quantity": 4, "price": {"id": "price_seat"}}],
        },
    }


def invoice(status: str, *, inv_id="in_123", customer="cus_test123", amount=15900) -> dict:
    return {
        "id": inv_id,
        "object": "invoice",
        "customer": customer,
        "number": "CREDEX-0001",
        "status": status,
        "currency": "usd",
        "subtotal": amount,
        "total": amount,
        "amount_due": amount,
        "amount_paid": amount if status == "paid" else 0,
        "period_start": 1796083200,
        "period_end": 1798761600,
        "hosted_invoice_url": "https://invoice.stripe.com/i/test",
        "lines": {
            "object": "list",
            "data": [
                {"id": "il_base", "description": "Practices base", "amount": 9900, "quantity": 1},
                {
                    "id": "il_seat",
                    "description": "4 × Provider seat",
                    "amount": 6000,
                    "quantity": 4,
                },
            ],
        },
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signature",
    ["", "t=1,v1=deadbeef", "garbage", None],
    ids=["missing", "wrong", "garbage", "other-secret"],
)
def test_a_bad_or_missing_signature_is_a_400_and_changes_nothing(client, tenant_a, signature):
    _customer(tenant_a.org)
    payload = event("invoice.paid", invoice("paid"), created=int(time.time()))
    body = json.dumps(payload)
    if signature is None:
        signature = sign(body, secret="whsec_someone_else")
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature else {}
    response = client.post("/webhooks/stripe", body, content_type="application/json", **headers)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert _events() == []
    with tenant_context(tenant_a.org):
        assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_without_a_configured_secret_nothing_is_accepted(client, tenant_a, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload = event("invoice.paid", invoice("paid"), created=int(time.time()))
    response = deliver(client, payload, signature=sign(json.dumps(payload)))
    assert response.status_code == 400
    assert _events() == []


@pytest.mark.django_db
def test_a_huge_body_is_refused_before_parsing(client):
    body = json.dumps({"id": "evt_x", "pad": "x" * 600_000})
    response = client.post(
        "/webhooks/stripe", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body)
    )
    assert response.status_code == 413
    assert _events() == []


@pytest.mark.django_db
def test_a_signed_body_that_is_not_an_event_is_a_400(client):
    body = json.dumps({"hello": "world"})
    response = client.post(
        "/webhooks/stripe", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body)
    )
    assert response.status_code == 400
    assert _events() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        '{"id": "evt_nul\\u0000", "object": "event", "type": "invoice.paid", "data": {}}',
        '{"id": "evt_raw_nul\x00", "object": "event"}',
        "[" * 200_000 + "]" * 200_000,
        '{"id": "evt_bad", "object": "event", "data": \xff}',
    ],
    ids=["escaped-nul", "raw-nul", "deeply-nested", "not-utf8"],
)
def test_hostile_signed_bodies_are_a_400_and_write_nothing(client, body):
    raw = body.encode("utf-8", "surrogateescape") if "\xff" not in body else body.encode("latin-1")
    ts = int(time.time())
    mac = hmac.new(SECRET.encode(), f"{ts}.".encode() + raw, hashlib.sha256).hexdigest()
    response = client.post(
        "/webhooks/stripe",
        raw,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=f"t={ts},v1={mac}",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "details"}
    assert _events() == []


@pytest.mark.django_db
def test_checkout_completed_subscribes_and_restores_a_read_only_org(client, tenant_a):
    org = tenant_a.org
    with tenant_context(org):
        writes_pause(org=org, account=account_for(org), reason="trial ended")
    session = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "paid",
        "client_reference_id": str(org.pk),
        "customer": "cus_new",
        "subscription": "sub_new",
    }
    response = deliver(
        client, event("checkout.session.completed", session, created=int(time.time()))
    )
    assert response.status_code == 200
    account = _account(org)
    assert (account.stripe_customer_id, account.stripe_subscription_id) == ("cus_new", "sub_new")
    assert account.status == BillingStatus.ACTIVE and account.payment_method_on_file
    org.refresh_from_db()
    assert org.writes_paused_at is None
    with tenant_context(org):
        actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "billing.webhook_received",
        "billing.checkout_completed",
        "billing.read_only_off",
    } <= actions


@pytest.mark.django_db
def test_each_event_is_processed_once(
    client, tenant_a, mailoutbox, django_capture_on_commit_callbacks
):
    _customer(tenant_a.org)
    payload = event("invoice.payment_failed", invoice("open"), created=int(time.time()))
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(client, payload)
        second = deliver(client, payload)
    assert first.json()["outcome"] == "past due"
    assert second.status_code == 200 and second.json()["outcome"] == "duplicate"
    assert len(_events()) == 1
    with tenant_context(tenant_a.org):
        assert AuditEvent.objects.filter(action="billing.payment_failed").count() == 1
        assert AuditEvent.objects.filter(action="billing.dunning_sent").count() == 1
    assert len(mailoutbox) == 1  # the day-0 dunning e-mail, once
    assert set(mailoutbox[0].to) == {tenant_a.owner.email, tenant_a.admin.email}


@pytest.mark.django_db
@pytest.mark.parametrize("order", ["in order", "reversed"])
def test_invoice_events_in_any_order_end_paid_and_active(client, tenant_a, order):
    _customer(tenant_a.org)
    now = int(time.time())
    events = [
        event("invoice.finalized", invoice("open"), created=now - 30),
        event("invoice.payment_failed", invoice("open"), created=now - 20),
        event("invoice.paid", invoice("paid"), created=now - 10),
    ]
    if order == "reversed":
        events.reverse()
    for payload in events:
        assert deliver(client, payload).status_code == 200
    for payload in events:  # and every one delivered twice
        assert deliver(client, payload).json()["outcome"] == "duplicate"
    with tenant_context(tenant_a.org):
        inv = Invoice.objects.get(stripe_invoice_id="in_123")
        assert inv.status == InvoiceStatus.PAID
        assert inv.total_cents == 15900
        assert [line.amount_cents for line in inv.lines.all()] == [9900, 6000]
    account = _account(tenant_a.org)
    assert account.status == BillingStatus.ACTIVE
    assert account.past_due_since is None


@pytest.mark.django_db
@pytest.mark.parametrize("order", ["in order", "reversed"])
def test_subscription_events_in_any_order_keep_the_newest_state(client, tenant_a, order):
    _customer(tenant_a.org)
    now = int(time.time())
    events = [
        event(
            "customer.subscription.created",
            subscription(tenant_a.org, "trialing"),
            created=now - 30,
        ),
        event(
            "customer.subscription.updated",
            subscription(tenant_a.org, "past_due"),
            created=now - 20,
        ),
        event(
            "customer.subscription.updated", subscription(tenant_a.org, "active"), created=now - 10
        ),
    ]
    if order == "reversed":
        events.reverse()
    for payload in events:
        assert deliver(client, payload).status_code == 200
    account = _account(tenant_a.org)
    assert account.status == BillingStatus.ACTIVE
    assert account.stripe_subscription_status == "active"
    assert account.stripe_subscription_id == "sub_123"


@pytest.mark.django_db
def test_a_canceled_subscription_makes_the_org_read_only_and_keeps_everything(client, tenant_a):
    _customer(tenant_a.org)
    payload = event(
        "customer.subscription.deleted",
        subscription(tenant_a.org, "canceled"),
        created=int(time.time()),
    )
    assert deliver(client, payload).status_code == 200
    tenant_a.org.refresh_from_db()
    assert tenant_a.org.writes_paused_at is not None
    assert _account(tenant_a.org).status == BillingStatus.CANCELED


@pytest.mark.django_db
def test_trial_will_end_emails_owners_and_admins(
    client, tenant_a, mailoutbox, django_capture_on_commit_callbacks
):
    _customer(tenant_a.org)
    sub = {**subscription(tenant_a.org, "trialing"), "trial_end": int(time.time()) + 3 * 86400}
    with django_capture_on_commit_callbacks(execute=True):
        deliver(
            client, event("customer.subscription.trial_will_end", sub, created=int(time.time()))
        )
    assert len(mailoutbox) == 1
    assert "trial" in mailoutbox[0].subject.lower()
    assert tenant_a.coordinator.email not in mailoutbox[0].to


@pytest.mark.django_db
def test_an_event_for_an_unknown_customer_is_recorded_once_and_changes_nothing(client, tenant_a):
    payload = event(
        "invoice.paid", invoice("paid", customer="cus_nobody"), created=int(time.time())
    )
    assert deliver(client, payload).json()["outcome"] == "no organization"
    assert deliver(client, payload).json()["outcome"] == "duplicate"
    with tenant_context(tenant_a.org):
        assert not Invoice.objects.exists()


def test_concurrent_duplicate_deliveries_apply_once(committed_tenant):
    tenant_a = committed_tenant
    from django.test import Client

    tag = uuid.uuid4().hex[:12]
    customer = _customer(tenant_a.org, f"cus_{tag}")
    payload = event(
        "invoice.payment_failed",
        invoice("open", inv_id=f"in_{tag}", customer=customer),
        created=int(time.time()),
    )
    body = json.dumps(payload)
    signature = sign(body)
    barrier = threading.Barrier(4)
    results = []

    def post():
        try:
            barrier.wait()
            response = Client().post(
                "/webhooks/stripe",
                body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=signature,
            )
            results.append((response.status_code, response.json().get("outcome")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(code for code, _ in results) == [200] * 4
    assert sorted(outcome for _, outcome in results) == ["duplicate"] * 3 + ["past due"]
    with tenant_context(tenant_a.org):
        assert AuditEvent.objects.filter(action="billing.payment_failed").count() == 1
        assert Invoice.objects.count() == 1
