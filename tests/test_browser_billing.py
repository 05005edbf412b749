"""The browser, end to end, for billing: an admin in the last week of the trial follows the
banner to the billing page, goes to Stripe Checkout (the loopback stub stands in for Stripe's
hosted page and, as Stripe does, sends the signed webhooks when the customer subscribes),
comes back subscribed, adds a provider to the roster and sees the seat count follow.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
import requests

from tests.test_browser import CHROMIUM, live_url, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

assert CHROMIUM
SECRET = "whsec_browser_checkout"


@pytest.fixture
def trial_tenant(committed_tenant):
    """Built before the browser starts (Playwright's loop and the ORM do not share a thread):
    five days left in the trial, two active providers."""
    from django.utils import timezone

    from billing.services.accounts import account_for
    from credex.tenancy import tenant_context
    from tests.factories import make_provider

    org = committed_tenant.org
    with tenant_context(org):
        account = account_for(org)
        account.trial_ends_at = timezone.now() + timedelta(days=5) - timedelta(hours=1)
        account.save(update_fields=["trial_ends_at"])
    for seed in (1, 2):
        make_provider(org, seed=seed)
    return committed_tenant


def _signed_post(url: str, event: dict) -> None:
    body = json.dumps(event)
    ts = int(time.time())
    mac = hmac.new(SECRET.encode(), f"{ts}.{body}".encode(), hashlib.sha256).hexdigest()
    response = requests.post(
        url,
        data=body.encode(),
        headers={"Content-Type": "application/json", "Stripe-Signature": f"t={ts},v1={mac}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def _hosted_checkout(stub, base: str):
    """Stripe's side: prices, the customer, the Checkout session, its hosted page, and the
    webhooks Stripe sends when the customer pays."""
    from tests.stripe_stub import Raw

    sessions: dict = {}
    prices = iter(["price_base", "price_seat"])
    stub.on("POST", r"/v1/prices", lambda req: {"id": next(prices), "object": "price"})
    stub.on("POST", r"/v1/customers", lambda req: {"id": "cus_browser", "object": "customer"})

    def session_create(req):
        form = req.nested()
        sessions["cs_browser"] = form
        return {
            "id": "cs_browser",
            "object": "checkout.session",
            "url": f"{stub.url}/c/pay/cs_browser",
        }

    def hosted_page(req):
        seats = sessions["cs_browser"]["line_items"][1]["quantity"]
        html = (
            "<!doctype html><title>Stripe Checkout (test)</title><main><h1>Subscribe</h1>"
            f"<p>Seats: {seats}</p><form method=post><label>Card number "
            "<input name=card value=4242424242424242></label>"
            "<button type=submit>Subscribe</button></form></main>"
        )
        return Raw(body=html.encode())

    def hosted_pay(req):
        form = sessions["cs_browser"]
        org_id = form["client_reference_id"]
        now = int(time.time())
        seats = int(form["line_items"][1]["quantity"])
        webhook = f"{base}/webhooks/stripe"
        _signed_post(
            webhook,
            {
                "id": "evt_browser_checkout",
                "object": "event",
                "type": "checkout.session.completed",
                "created": now,
                "data": {
                    "object": {
                        "id": "cs_browser",
                        "object": "checkout.session",
                        "mode": "subscription",
                        "status": "complete",
                        "payment_status": "no_payment_required",
                        "client_reference_id": org_id,
                        "customer": "cus_browser",
                        "subscription": "sub_browser",
                        "metadata": {"org_id": org_id},
                    }
                },
            },
        )
        _signed_post(
            webhook,
            {
                "id": "evt_browser_subscription",
                "object": "event",
                "type": "customer.subscription.created",
                "created": now + 1,
                "data": {
                    "object": {
                        "id": "sub_browser",
                        "object": "subscription",
                        "status": "trialing",
                        "customer": "cus_browser",
                        "metadata": {"org_id": org_id},
                        "current_period_end": now + 5 * 86400,
                        "items": {
                            "data": [
                                {"id": "si_base", "price": {"id": "price_base"}, "quantity": 1},
                                {"id": "si_seat", "price": {"id": "price_seat"}, "quantity": seats},
                            ]
                        },
                    }
                },
            },
        )
        return Raw(status=303, location=form["success_url"])

    stub.on("POST", r"/v1/checkout/sessions", session_create)
    stub.on("GET", r"/c/pay/cs_browser", hosted_page)
    stub.on("POST", r"/c/pay/cs_browser", hosted_pay)
    return sessions


@pytest.fixture
def stripe_online(settings, live_url):  # noqa: F811
    from tests.stripe_stub import StripeStub

    with StripeStub() as stub:
        settings.STRIPE_SECRET_KEY = "sk_test_browser"
        settings.STRIPE_API_BASE = stub.url
        settings.STRIPE_WEBHOOK_SECRET = SECRET
        sessions = _hosted_checkout(stub, live_url)
        yield stub, sessions


def test_trial_banner_to_checkout_and_back_subscribed_then_seats_follow_the_roster(
    trial_tenant,
    stripe_online,
    live_url,  # noqa: F811
    page,  # noqa: F811
):
    from tests.conftest import PASSWORD, own_queue
    from tests.factories import valid_npi

    with own_queue():  # the tasks the roster change publishes go to a queue of this test's
        _walk(trial_tenant, stripe_online, live_url, page, PASSWORD, valid_npi)


def _walk(t, stripe_online, base, browser, PASSWORD, valid_npi):
    stub, sessions = stripe_online
    slug = t.org.slug

    browser.goto(f"{base}/accounts/login/")
    browser.get_by_label("Email").fill(t.owner.email)
    browser.get_by_label("Password", exact=True).fill(PASSWORD)
    browser.get_by_role("button", name="Sign in").click()
    browser.wait_for_url(f"**/o/{slug}/")

    # The trial banner on the dashboard leads to billing.
    banner = browser.locator(".billing-banner")
    assert "5 days left in the free trial" in banner.inner_text()
    banner.get_by_role("link", name="Add a payment method").click()
    browser.wait_for_url(f"**/o/{slug}/billing/")
    seats_row = browser.locator(".billing-breakdown tbody tr", has_text="Provider seats")
    assert seats_row.locator("td.num").first.inner_text() == "2"

    # To Stripe Checkout (the stub's hosted page) with the base and two seats.
    browser.get_by_role("button", name="Add a payment method and subscribe").click()
    browser.wait_for_url(f"{stub.url}/c/pay/cs_browser")
    assert browser.locator("main p").inner_text() == "Seats: 2"
    form = sessions["cs_browser"]
    assert form["mode"] == "subscription"
    assert [item["price"] for item in form["line_items"]] == ["price_base", "price_seat"]
    assert form["subscription_data"]["trial_end"]  # the trial's rest stays free
    browser.get_by_role("button", name="Subscribe").click()

    # Back on CredEx, subscribed: no trial banner, the portal instead of Checkout.
    browser.wait_for_url(f"**/o/{slug}/billing/?checkout=done")
    assert "being confirmed by Stripe" in browser.locator(".alert-success").inner_text()
    assert browser.locator(".billing-banner").count() == 0
    # Subscribed with a card; the trial's rest stays free, so Stripe says "trialing".
    assert browser.locator(".billing-plan .badge").inner_text() == "Free trial"
    assert browser.locator(".billing-plan dd", has_text="on file").is_visible()
    assert browser.get_by_role("button", name="Manage cards and invoices").is_visible()

    # A provider added to the roster in the browser is a seat on the billing browser.
    browser.goto(f"{base}/o/{slug}/providers/new/")
    browser.locator("#id_first_name").fill("Nadia")
    browser.locator("#id_last_name").fill("Okafor")
    browser.locator("#id_npi").fill(valid_npi(77))
    browser.locator("#id_provider_type").select_option("MD")
    browser.locator("#id_status").select_option("active")
    browser.get_by_role("button", name="Add provider").click()
    browser.wait_for_url(f"**/o/{slug}/providers/*/")
    browser.goto(f"{base}/o/{slug}/billing/")
    seats_row = browser.locator(".billing-breakdown tbody tr", has_text="Provider seats")
    assert seats_row.locator("td.num").first.inner_text() == "3"
