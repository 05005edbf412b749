"""The billing page, banners and API: what the organization pays and why, the trial's last
week, past due and read-only, the billing period, Checkout and settings (issue 13)."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from billing.models import BillingAccount, BillingStatus
from billing.services.accounts import account_for, writes_pause
from credex.tenancy import tenant_context
from roster.models import ProviderStatus
from tests.factories import make_provider
from tests.stripe_stub import StripeStub

pytestmark = pytest.mark.django_db


def _account(org) -> BillingAccount:
    with tenant_context(org):
        return BillingAccount.objects.select_related("plan").get()


def _set(org, **fields):
    with tenant_context(org):
        BillingAccount.objects.filter(organization_id=org.pk).update(**fields)


def _actions(org) -> list[str]:
    with tenant_context(org):
        return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


def _providers(org, active=3, inactive=1):
    with tenant_context(org):
        for i in range(active):
            make_provider(org, seed=i + 1, status=ProviderStatus.ACTIVE)
        for i in range(inactive):
            make_provider(org, seed=100 + i, status=ProviderStatus.INACTIVE)


def _dashboard(client, org) -> str:
    response = client.get(f"/o/{org.slug}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("days", [7, 3, 1])
def test_the_trial_banner_shows_in_the_last_week_to_owners_and_admins(
    tenant_a, client, login, days
):
    _set(tenant_a.org, trial_ends_at=timezone.now() + timedelta(days=days, hours=-2))
    login(tenant_a.owner)
    html = _dashboard(client, tenant_a.org)
    assert f"{days} day{'s' if days > 1 else ''} left in the free trial" in html
    assert "Add a payment method" in html
    login(tenant_a.coordinator)
    assert "left in the free trial" not in _dashboard(client, tenant_a.org)


def test_no_trial_banner_before_the_last_week_or_with_a_card(tenant_a, client, login):
    login(tenant_a.owner)
    assert "left in the free trial" not in _dashboard(client, tenant_a.org)  # 14 days left
    _set(
        tenant_a.org,
        trial_ends_at=timezone.now() + timedelta(days=2),
        payment_method_on_file=True,
    )
    assert "left in the free trial" not in _dashboard(client, tenant_a.org)


def test_past_due_and_read_only_banners(tenant_a, client, login):
    _set(tenant_a.org, status=BillingStatus.PAST_DUE, past_due_since=timezone.now())
    login(tenant_a.admin)
    assert "A payment failed." in _dashboard(client, tenant_a.org)
    login(tenant_a.coordinator)
    assert "A payment failed." not in _dashboard(client, tenant_a.org)
    with tenant_context(tenant_a.org):
        writes_pause(org=tenant_a.org, account=account_for(tenant_a.org), reason="test")
    html = _dashboard(client, tenant_a.org)  # everyone sees read-only
    assert "is read-only: billing is past due" in html
    assert "screening keeps running" in html


def test_the_billing_page_shows_what_the_organization_pays_and_why(tenant_a, client, login):
    _providers(tenant_a.org, active=3, inactive=2)
    login(tenant_a.auditor)  # auditors read billing
    response = client.get(f"/o/{tenant_a.org.slug}/billing/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Payments are not configured on this installation" in html
    assert "$99.00" in html and "$15.00" in html
    assert "$144.00" in html  # 99 + 3 seats x 15 (inactive providers are not seats)
    assert "Add a payment method" not in html and "Save billing settings" not in html
    login(tenant_a.owner)
    html = client.get(f"/o/{tenant_a.org.slug}/billing/").content.decode()
    assert "Save billing settings" in html and "Change billing period" in html
    # reachable from every page's navigation
    assert f'href="/o/{tenant_a.org.slug}/billing/"' in _dashboard(client, tenant_a.org)


def test_changing_the_billing_period_on_the_page_is_audited(tenant_a, client, login):
    login(tenant_a.owner)
    url = f"/o/{tenant_a.org.slug}/billing/change/"
    response = client.post(url, {"action": "plan", "interval": "year"})
    assert response.status_code == 302
    account = _account(tenant_a.org)
    assert account.plan.interval == "year" and account.plan.base_cents == 118800
    assert _actions(tenant_a.org).count("billing.plan_changed") == 1
    bad = client.post(url, {"action": "plan", "interval": "fortnight"})
    assert bad.status_code == 400
    assert "Choose monthly or annual billing." in bad.content.decode()
    assert _account(tenant_a.org).plan.interval == "year"


def test_a_coordinator_cannot_change_billing(tenant_a, client, login):
    login(tenant_a.coordinator)
    assert client.get(f"/o/{tenant_a.org.slug}/billing/").status_code == 403
    response = client.post(
        f"/o/{tenant_a.org.slug}/billing/change/", {"action": "plan", "interval": "year"}
    )
    assert response.status_code == 403
    assert _account(tenant_a.org).plan.interval == "month"


@pytest.mark.parametrize(
    "fields",
    [
        {"billing_email": "not an e-mail"},
        {"charge_mode": "sometimes"},
        {"payout_schedule": "hourly"},
        {"billing_email": "a" * 300 + "@x.example"},
    ],
)
def test_bad_billing_settings_are_a_400_and_nothing_is_saved(tenant_a, client, login, fields):
    login(tenant_a.owner)
    body = {
        "action": "settings",
        "charge_mode": "invoice",
        "payout_schedule": "monthly",
        "billing_email": "",
        **fields,
    }
    response = client.post(f"/o/{tenant_a.org.slug}/billing/change/", body)
    assert response.status_code == 400
    assert "Some billing settings are not valid." in response.content.decode()
    account = _account(tenant_a.org)
    assert (account.charge_mode, account.billing_email) == ("invoice", "")
    assert "billing.settings_changed" not in _actions(tenant_a.org)


def test_checkout_offline_says_payments_are_not_configured(tenant_a, client, login):
    login(tenant_a.owner)
    response = client.post(f"/o/{tenant_a.org.slug}/billing/change/", {"action": "checkout"})
    assert response.status_code == 400
    assert "Payments are not configured" in response.content.decode()
    api = client.post(
        "/api/v1/billing/checkout",
        "{}",
        content_type="application/json",
        HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug,
    )
    assert api.status_code == 400 and api.json()["code"] == "payments_not_configured"
    assert _account(tenant_a.org).stripe_customer_id == ""


def _stripe_handlers(stub: StripeStub):
    counter = iter(range(1, 1000))
    stub.on(
        "POST",
        r"/v1/prices",
        lambda req: {"id": f"price_{next(counter)}", "object": "price"},
    )
    stub.on("POST", r"/v1/customers", lambda req: {"id": "cus_checkout", "object": "customer"})
    stub.on(
        "POST",
        r"/v1/checkout/sessions",
        lambda req: {
            "id": "cs_1",
            "object": "checkout.session",
            "url": "https://checkout.stripe.com/c/pay/cs_1",
        },
    )


def test_checkout_online_sends_base_and_seat_items_and_the_webhook_activates(
    tenant_a, client, login, settings
):
    _providers(tenant_a.org, active=4, inactive=1)
    settings.STRIPE_WEBHOOK_SECRET = "whsec_pages"
    with StripeStub() as stub:
        _stripe_handlers(stub)
        settings.STRIPE_SECRET_KEY = "sk_test_credex"
        settings.STRIPE_API_BASE = stub.url
        login(tenant_a.owner)
        html = client.get(f"/o/{tenant_a.org.slug}/billing/").content.decode()
        assert "Add a payment method and subscribe" in html
        assert "Payments are not configured" not in html
        response = client.post(f"/o/{tenant_a.org.slug}/billing/change/", {"action": "checkout"})
        assert response.status_code == 302
        assert response["Location"] == "https://checkout.stripe.com/c/pay/cs_1"
        (customer,) = stub.requests_to("POST", r"/v1/customers")
        assert customer.form["metadata[org_id]"] == str(tenant_a.org.pk)
        assert customer.idempotency_key == f"credex-customer-{tenant_a.org.pk}"
        (session,) = stub.requests_to("POST", r"/v1/checkout/sessions")
        form = session.form
        assert form["mode"] == "subscription"
        assert form["client_reference_id"] == str(tenant_a.org.pk)
        assert form["line_items[0][quantity]"] == "1"
        assert form["line_items[1][quantity]"] == "4"  # 4 active providers
        assert "subscription_data[trial_end]" in form  # the trial's rest stays free
        assert session.idempotency_key.startswith("credex-checkout-")
        assert len(stub.requests_to("POST", r"/v1/prices")) == 2
        # back from Checkout: Stripe's webhook completes it
        body = json.dumps(
            {
                "id": "evt_pages_checkout",
                "object": "event",
                "created": int(time.time()),
                "type": "checkout.session.completed",
                "data": {
                    "object": {
                        "id": "cs_1",
                        "object": "checkout.session",
                        "mode": "subscription",
                        "status": "complete",
                        "client_reference_id": str(tenant_a.org.pk),
                        "customer": "cus_checkout",
                        "subscription": "sub_pages",
                    }
                },
            }
        )
        import hashlib
        import hmac

        ts = int(time.time())
        mac = hmac.new(b"whsec_pages", f"{ts}.{body}".encode(), hashlib.sha256).hexdigest()
        hook = client.post(
            "/webhooks/stripe",
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=f"t={ts},v1={mac}",
        )
        assert hook.status_code == 200
        back = client.get(f"/o/{tenant_a.org.slug}/billing/?checkout=done")
        html = back.content.decode()
        assert "Manage cards and invoices" in html and ">Active<" in html
    assert "billing.checkout_started" in _actions(tenant_a.org)


def test_stripe_failing_is_a_clear_502_and_nothing_is_recorded(tenant_a, client, login, settings):
    with StripeStub() as stub:
        _stripe_handlers(stub)
        stub.on(
            "POST",
            r"/v1/checkout/sessions",
            lambda req: (500, {"error": {"type": "api_error", "message": "down"}}),
        )
        stub.on("POST", r"/v1/billing_portal/sessions", lambda req: (400, {"error": {}}))
        settings.STRIPE_SECRET_KEY = "sk_test_credex"
        settings.STRIPE_API_BASE = stub.url
        login(tenant_a.owner)
        page = client.post(f"/o/{tenant_a.org.slug}/billing/change/", {"action": "checkout"})
        assert page.status_code == 502
        assert "Stripe could not start Checkout just now" in page.content.decode()
        api = client.post(
            "/api/v1/billing/checkout",
            "{}",
            content_type="application/json",
            HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug,
        )
        assert api.status_code == 502
        assert api.json()["code"] == "payment_provider_error"
        portal = client.post(f"/o/{tenant_a.org.slug}/billing/change/", {"action": "portal"})
        assert portal.status_code == 502
    actions = _actions(tenant_a.org)
    assert "billing.checkout_started" not in actions
    assert "billing.portal_opened" not in actions


def test_the_page_lets_its_forms_reach_stripes_hosted_pages_only_online(
    tenant_a, client, login, settings
):
    login(tenant_a.owner)
    offline = client.get(f"/o/{tenant_a.org.slug}/billing/")
    assert "checkout.stripe.com" not in offline["Content-Security-Policy"]
    settings.STRIPE_SECRET_KEY = "sk_test_credex"
    online = client.get(f"/o/{tenant_a.org.slug}/billing/")
    form_action = next(
        d for d in online["Content-Security-Policy"].split(";") if "form-action" in d
    )
    assert "'self'" in form_action
    for origin in ("https://checkout.stripe.com", "https://billing.stripe.com"):
        assert origin in form_action
    # Other pages keep form-action 'self' alone.
    dashboard = client.get(f"/o/{tenant_a.org.slug}/")
    assert "checkout.stripe.com" not in dashboard["Content-Security-Policy"]


def test_the_api_reads_and_changes_billing(tenant_a, client, login):
    _providers(tenant_a.org, active=2, inactive=0)
    login(tenant_a.admin)
    headers = {"HTTP_X_CREDEX_ORGANIZATION": tenant_a.org.slug}
    body = client.get("/api/v1/billing", **headers).json()
    assert body["status"] == "trialing" and body["seats"] == 2
    assert body["amount_per_interval_cents"] == 9900 + 2 * 1500
    assert body["payments_configured"] is False and body["trial_days_left"] == 14
    changed = client.patch(
        "/api/v1/billing",
        json.dumps({"interval": "year", "charge_mode": "immediate"}),
        content_type="application/json",
        **headers,
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["plan"]["interval"] == "year"
    assert changed.json()["amount_per_interval_cents"] == 118800 + 2 * 14400
    assert changed.json()["charge_mode"] == "immediate"
    bad = client.patch(
        "/api/v1/billing",
        json.dumps({"charge_mode": "x\u0000"}),
        content_type="application/json",
        **headers,
    )
    assert bad.status_code == 400 and set(bad.json()) == {"code", "message", "details"}
    assert client.get("/api/v1/billing/invoices", **headers).json() == []
    assert _account(tenant_a.org).charge_mode == "immediate"


def test_an_outsider_sees_no_billing_of_another_org(tenant_a, tenant_b, client, login):
    login(tenant_b.owner)
    assert client.get(f"/o/{tenant_a.org.slug}/billing/").status_code == 404
    response = client.get("/api/v1/billing", HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug)
    assert response.status_code == 404


def test_the_seats_page_lists_who_counts_and_why_and_records_the_read(tenant_a, client, login):
    org = tenant_a.org
    active = make_provider(org, seed=1, last_name="Adams", status=ProviderStatus.ACTIVE)
    make_provider(org, seed=2, last_name="Brown", status=ProviderStatus.INACTIVE)
    make_provider(org, seed=3, last_name="Clark", status="terminated")
    applicant = make_provider(org, seed=4, last_name="Davis", status="applicant")
    make_provider(org, seed=5, last_name="Evans", status="applicant")  # never verified
    login(tenant_a.owner)
    response = client.post(
        f"/api/v1/providers/{applicant.pk}/verifications",
        json.dumps({"source": "nppes", "method": "web", "result": "verified"}),
        content_type="application/json",
        HTTP_X_CREDEX_ORGANIZATION=org.slug,
    )
    assert response.status_code == 201, response.content
    page = client.get(f"/o/{org.slug}/billing/seats/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "2 seats" in html
    assert "Adams" in html and "Davis" in html
    assert "Applicant, first verified" in html
    for absent in ("Brown", "Clark", "Evans"):
        assert absent not in html
    with tenant_context(org):
        read = AuditEvent.objects.filter(action="roster.provider.list_viewed").latest("created_at")
    assert set(read.data["providers"]) == {str(active.pk), str(applicant.pk)}
    assert read.data["part"] == "seats"
    # Linked from the billing page's seat line.
    assert f"/o/{org.slug}/billing/seats/" in client.get(f"/o/{org.slug}/billing/").content.decode()


def test_the_seats_page_is_for_billing_readers_only(tenant_a, tenant_b, client, login):
    login(tenant_a.coordinator)
    assert client.get(f"/o/{tenant_a.org.slug}/billing/seats/").status_code == 403
    login(tenant_a.auditor)
    assert client.get(f"/o/{tenant_a.org.slug}/billing/seats/").status_code == 200
    login(tenant_b.owner)
    assert client.get(f"/o/{tenant_a.org.slug}/billing/seats/").status_code in (403, 404)


def test_the_billing_page_keeps_the_signed_in_role_in_the_sidebar(tenant_a, client, login):
    # The page's membership-fee card once shadowed the signed-in membership: "Signed in as".
    login(tenant_a.owner)
    body = client.get(f"/o/{tenant_a.org.slug}/billing/").content.decode()
    assert "Signed in as owner" in body and "Exchange membership fee" in body
