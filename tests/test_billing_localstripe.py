"""Billing against localstripe: the real `stripe` SDK talking to a stateful fake of Stripe on
loopback (started here, tests/localstripe_server.py), and localstripe's own signed webhooks
delivered over HTTP to the running app (a live server thread): customers, payment methods,
a subscription with a seat quantity, seat changes with proration, invoices, cancellation.

What localstripe does not implement (Checkout Sessions, Prices, Connect, idempotency keys,
trialing, and `invoice.payment_failed` for a declined card: it raises to the caller and sends no
event) is tested against the loopback stub (tests/stripe_stub.py) elsewhere. localstripe
subscriptions hold one item, so the subscription here is the seat item alone (the base item's
handling is covered with the stub); the test stands in for Stripe Checkout by creating the
subscription with the SDK, as Checkout would after the customer's card.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import stripe

from billing.models import BillingAccount, BillingStatus, Invoice, InvoiceStatus, SeatSync
from billing.services.accounts import account_for
from billing.services.subscriptions import customer_ensure
from billing.tasks.seats import seat_sync_task
from credex.tenancy import tenant_context
from tests.conftest import own_queue
from tests.factories import make_provider, valid_npi

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_localstripe_credex"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def localstripe():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.localstripe_server", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{url}/v1/customers", auth=("sk_test_x", ""), timeout=1)
            break
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"localstripe did not start: {process.stderr.read()!r}")
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def live_url(committed_db):
    from django.test.testcases import LiveServerThread

    thread = LiveServerThread("127.0.0.1", lambda app: app, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


@pytest.fixture
def online(settings, localstripe, live_url):
    """Billing online against localstripe, its webhooks pointed at this app."""
    settings.STRIPE_SECRET_KEY = "sk_test_localstripe"
    settings.STRIPE_API_BASE = localstripe
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    response = requests.post(
        f"{localstripe}/_config/webhooks/credex",
        data={"url": f"{live_url}/webhooks/stripe", "secret": SECRET},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": localstripe},
        stripe_version="2024-06-20",
    )


def _wait_for(predicate, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _account(org) -> BillingAccount:
    with tenant_context(org):
        return BillingAccount.objects.get(organization_id=org.pk)


def _event_types(org) -> set[str]:
    from billing.models import StripeEvent

    with tenant_context(org):
        return set(StripeEvent.objects.values_list("type", flat=True))


def _subscribe(org, sdk, *, card: str, seats: int):
    """A customer made by our code, a card and a subscription to the plan's seat price, as
    Stripe Checkout would leave them. Returns (customer id, subscription)."""
    with tenant_context(org):
        account = account_for(org)
        customer = customer_ensure(org=org, account=account, stripe_client=sdk)
        product = sdk.v1.products.create({"name": f"{account.plan.name} (seat)"})
        price = sdk.v1.plans.create(
            {
                "amount": account.plan.seat_cents,
                "currency": "usd",
                "interval": account.plan.interval,
                "product": product.id,
            }
        )
        type(account.plan).objects.filter(pk=account.plan_id).update(stripe_seat_price_id=price.id)
    method = sdk.v1.payment_methods.create(
        {"type": "card", "card": {"number": card, "exp_month": 12, "exp_year": 2031, "cvc": "123"}}
    )
    sdk.v1.payment_methods.attach(method.id, {"customer": customer})
    sdk.v1.customers.update(customer, {"invoice_settings": {"default_payment_method": method.id}})
    try:
        subscription = sdk.v1.subscriptions.create(
            {
                "customer": customer,
                "items": [{"plan": price.id, "quantity": seats}],
                "metadata": {"org_id": str(org.pk)},
            }
        )
    except stripe.StripeError:
        subscription = None  # a declined first payment
    return customer, subscription


def test_subscribe_change_seats_with_proration_and_cancel_against_localstripe(
    committed_tenant, online, client
):
    sdk = online
    org = committed_tenant.org
    for seed in (1, 2):
        make_provider(org, seed=seed)

    customer, subscription = _subscribe(org, sdk, card="4242424242424242", seats=2)
    assert subscription.status == "active"
    assert customer.startswith("cus_")
    assert sdk.v1.customers.retrieve(customer).metadata["org_id"] == str(org.pk)

    # localstripe's signed webhooks reach the app: the subscription and its paid invoice.
    _wait_for(
        lambda: {"customer.subscription.created", "invoice.payment_succeeded"} <= _event_types(org),
        "the subscription and invoice webhooks",
    )
    account = _account(org)
    assert account.status == BillingStatus.ACTIVE
    assert account.stripe_customer_id == customer
    assert account.stripe_subscription_id == subscription.id
    assert account.stripe_seat_item_id == subscription["items"]["data"][0]["id"]
    assert account.seats_billed == 2
    assert account.payment_method_on_file
    with tenant_context(org):
        (invoice,) = Invoice.objects.all()
        assert invoice.status == InvoiceStatus.PAID
        assert invoice.total_cents == 2 * account.plan.seat_cents
        assert invoice.stripe_invoice_id.startswith("in_")

    # A provider added through the API: the debounced sync sends the quantity, prorated.
    client.force_login(
        committed_tenant.owner, backend="allauth.account.auth_backends.AuthenticationBackend"
    )
    with own_queue():
        response = client.post(
            "/api/v1/providers",
            json.dumps(
                {
                    "first_name": "Ann",
                    "last_name": "Lee",
                    "npi": valid_npi(3),
                    "provider_type": "MD",
                    "status": "active",
                }
            ),
            content_type="application/json",
            HTTP_X_CREDEX_ORGANIZATION=org.slug,
        )
        assert response.status_code == 201, response.content
    assert seat_sync_task.apply(kwargs={"org_id": str(org.pk)}).get() == "3 seats"
    item = sdk.v1.subscription_items.retrieve(account.stripe_seat_item_id)
    assert item.quantity == 3
    prorations = [i for i in sdk.v1.invoice_items.list({"customer": customer}).data if i.proration]
    assert len(prorations) == 1
    assert 0 < prorations[0].amount <= account.plan.seat_cents
    account = _account(org)
    assert (account.seats, account.seats_billed) == (3, 3)
    with tenant_context(org):
        sync = SeatSync.objects.order_by("-created_at").first()
        assert (sync.stripe_quantity_before, sync.seats) == (2, 3)
        assert sync.idempotency_key.startswith("credex-")

    # The nightly reconciliation reads Stripe's quantity back: no drift, nothing sent.
    assert seat_sync_task.apply(kwargs={"org_id": str(org.pk), "source": "nightly"}).get()
    with tenant_context(org):
        assert not SeatSync.objects.filter(drift=True).exists()
    assert sdk.v1.subscription_items.retrieve(account.stripe_seat_item_id).quantity == 3

    # Canceled in Stripe (the portal): the webhook makes the org read-only, nothing deleted.
    sdk.v1.subscriptions.cancel(subscription.id)
    _wait_for(
        lambda: "customer.subscription.deleted" in _event_types(org), "the cancellation webhook"
    )
    account = _account(org)
    assert account.status == BillingStatus.CANCELED
    org.refresh_from_db()
    assert org.writes_paused_at is not None
    with tenant_context(org):
        from roster.models import Provider

        assert Provider.objects.count() == 3
