"""Sellers' payouts (issue 13, item 4): the Stripe Connect Express payout account, its
`account.updated` webhook, scheduled payouts and their retries, and the public pricing page.

Stripe is the request-checking loopback stub (tests/stripe_stub.py): every test that goes
online asserts the exact requests (path, form parameters, Idempotency-Key from our ids).
Webhooks are signed with the endpoint secret the way Stripe signs them.
"""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from billing.models import (
    AccountKind,
    BillingAccount,
    EntryKind,
    JournalEntry,
    LedgerAccount,
    MembershipTier,
    Payout,
    PayoutStatus,
    Plan,
    Posting,
)
from billing.services.accounts import account_for, writes_pause
from billing.services.payouts import proceeds_available, proceeds_balance
from billing.tasks.payouts import payouts_daily, payouts_run_task
from credex.tenancy import platform_path, tenant_context
from tests.conftest import build_tenant, own_queue
from tests.exchange_trades import make_trade
from tests.stripe_stub import StripeStub
from tests.test_billing_webhooks import SECRET, event, sign
from tests.waiting import published_tasks

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)
TUESDAY = date(2026, 3, 3)
FIRST_OF_MONTH = date(2026, 4, 1)  # a Wednesday
ACCT = "acct_1RiverbendX"
LINK_URL = "https://connect.stripe.com/setup/e/acct_1RiverbendX/s3cr3t"


@pytest.fixture
def seller(db):
    return build_tenant("Riverbend Medical Group", "river.example", roles=("admin", "auditor"))


@pytest.fixture
def buyer(db):
    return build_tenant("Acme Health", "a.example", roles=("coordinator",))


@contextlib.contextmanager
def online(settings, *, transfers_fail: int = 0):
    """Stripe at the loopback stub: Express accounts, account links and transfers (the first
    `transfers_fail` transfers refused)."""
    with StripeStub() as stub:
        transfers = {"n": 0}

        def transfer(req):
            transfers["n"] += 1
            if transfers["n"] <= transfers_fail:
                return 400, {"error": {"type": "invalid_request_error", "message": "No funds."}}
            return {"id": f"tr_{transfers['n']}", "object": "transfer"}

        stub.on(
            "POST",
            "/v1/accounts",
            lambda req: {
                "id": ACCT,
                "object": "account",
                "type": "express",
                "payouts_enabled": False,
                "charges_enabled": False,
                "details_submitted": False,
                "metadata": {"org_id": req.form.get("metadata[org_id]")},
            },
        )
        stub.on(
            "POST",
            "/v1/account_links",
            lambda req: {
                "object": "account_link",
                "url": LINK_URL,
                "created": int(time.time()),
                "expires_at": int(time.time()) + 300,
            },
        )
        stub.on("POST", "/v1/transfers", transfer)
        settings.STRIPE_SECRET_KEY = "sk_test_credex"
        settings.STRIPE_API_BASE = stub.url
        settings.STRIPE_WEBHOOK_SECRET = SECRET
        yield stub


def _account(org) -> BillingAccount:
    with tenant_context(org):
        return account_for(org)


def _set(org, **fields):
    with tenant_context(org):
        account_for(org)
        BillingAccount.objects.filter(organization_id=org.pk).update(**fields)


def _actions(org, prefix="billing.payout") -> list[str]:
    with tenant_context(org):
        return list(
            AuditEvent.objects.filter(action__startswith=prefix)
            .order_by("seq")
            .values_list("action", flat=True)
        )


def _payouts(org) -> list[Payout]:
    with tenant_context(org):
        return list(Payout.objects.order_by("created_at"))


def _proceeds(org) -> tuple[int, int]:
    """(ledger balance, available to a new payout)."""
    with tenant_context(org):
        return proceeds_balance(org), proceeds_available(org)


def _run(org, day: date) -> str:
    return payouts_run_task.apply(kwargs={"org_id": str(org.pk), "day": day.isoformat()}).get()


def _billing(slug: str) -> str:
    return f"/o/{slug}/billing/"


# --- Connect Express onboarding ------------------------------------------------------------


def test_set_up_payouts_creates_the_express_account_once_and_sends_the_admin_to_stripe(
    seller, client, login, settings
):
    org = seller.org
    login(seller.admin)
    with online(settings) as stub:
        first = client.post(_billing(org.slug) + "change/", {"action": "connect"})
        second = client.post(_billing(org.slug) + "change/", {"action": "connect"})
        (created,) = stub.requests_to("POST", "/v1/accounts")  # clicked twice, created once
        links = stub.requests_to("POST", "/v1/account_links")
    assert first.status_code == 302 and first["Location"] == LINK_URL
    assert second.status_code == 302 and second["Location"] == LINK_URL

    assert created.form == {
        "type": "express",
        "country": "US",
        "email": "owner@river.example",  # no billing e-mail set: the owner's
        "capabilities[transfers][requested]": "true",
        "business_profile[name]": "Riverbend Medical Group",
        "metadata[org_id]": str(org.pk),
    }
    assert created.idempotency_key == f"credex-connect-account-{org.pk}"
    assert created.headers["stripe-version"] == "2024-06-20"

    assert len(links) == 2
    back = f"http://testserver/o/{org.slug}/billing/"
    for link in links:
        assert link.form == {
            "account": ACCT,
            "type": "account_onboarding",
            "return_url": back + "?connect=done",
            "refresh_url": back + "?connect=refresh",
        }
        assert link.idempotency_key.startswith(f"credex-account-link-{org.pk}-{ACCT}-")

    account = _account(org)
    assert account.stripe_connect_account_id == ACCT and account.payouts_enabled is False
    assert _actions(org) == [
        "billing.payout_account_created",
        "billing.payout_onboarding_started",
        "billing.payout_onboarding_started",
    ]


def test_the_billing_page_shows_the_payout_account_state_and_the_way_back_from_stripe(
    seller, client, login, settings
):
    org = seller.org
    login(seller.owner)
    with online(settings):
        html = client.get(_billing(org.slug)).content.decode()
        assert "Not set up" in html and "Set up payouts with Stripe" in html

        _set(org, stripe_connect_account_id=ACCT)
        html = client.get(_billing(org.slug) + "?connect=done").content.decode()
        assert "Onboarding incomplete" in html and "Continue the setup at Stripe" in html
        assert "Welcome back from Stripe" in html
        html = client.get(_billing(org.slug) + "?connect=refresh").content.decode()
        assert "The setup link at Stripe expired" in html

        _set(org, payouts_enabled=True)
        html = client.get(_billing(org.slug)).content.decode()
        assert "Payouts enabled" in html and "Continue the setup" not in html

        login(seller.auditor)  # auditors read the state, cannot start the setup
        html = client.get(_billing(org.slug)).content.decode()
        assert "Payouts enabled" in html and 'value="connect"' not in html


@pytest.mark.parametrize("who", ["auditor", "anonymous", "outsider"])
def test_only_owners_and_admins_set_up_payouts(seller, tenant_b, client, login, settings, who):
    org = seller.org
    if who == "auditor":
        login(seller.auditor)
    elif who == "outsider":
        login(tenant_b.owner)
    with online(settings) as stub:
        response = client.post(_billing(org.slug) + "change/", {"action": "connect"})
        assert stub.requests == []
    expected = {"auditor": 403, "outsider": 404, "anonymous": 302}[who]
    assert response.status_code == expected
    if who == "anonymous":
        assert "/accounts/login/" in response["Location"]
    assert _account(org).stripe_connect_account_id == ""
    assert _actions(org) == []


def test_a_coordinator_sees_nothing_of_payouts(buyer, client, login, settings):
    login(buyer.coordinator)
    with online(settings) as stub:
        assert client.get(_billing(buyer.org.slug)).status_code == 403
        response = client.post(_billing(buyer.org.slug) + "change/", {"action": "connect"})
        assert response.status_code == 403 and stub.requests == []


def test_offline_set_up_payouts_says_payments_are_not_configured_and_writes_nothing(
    seller, client, login, settings
):
    settings.STRIPE_SECRET_KEY = ""
    login(seller.owner)
    html = client.get(_billing(seller.org.slug)).content.decode()
    assert 'value="connect"' not in html  # nothing to click offline
    response = client.post(_billing(seller.org.slug) + "change/", {"action": "connect"})
    assert response.status_code == 400
    assert "Payments are not configured on this installation" in response.content.decode()
    assert "no payout account can be connected" in response.content.decode()
    assert _account(seller.org).stripe_connect_account_id == ""
    assert _actions(seller.org) == []


def test_a_stripe_refusal_creating_the_account_is_a_clear_error_and_stores_nothing(
    seller, client, login, settings
):
    login(seller.owner)
    with online(settings) as stub:
        stub.on(
            "POST",
            "/v1/accounts",
            lambda req: (400, {"error": {"type": "invalid_request_error", "message": "nope"}}),
        )
        response = client.post(_billing(seller.org.slug) + "change/", {"action": "connect"})
        assert stub.requests_to("POST", "/v1/account_links") == []
    assert response.status_code == 502
    assert "Stripe could not create the payout account" in response.content.decode()
    assert _account(seller.org).stripe_connect_account_id == ""
    assert _actions(seller.org) == []


# --- account.updated -----------------------------------------------------------------------


def _account_event(org, *, enabled: bool, created: int, metadata=True, acct=ACCT) -> dict:
    obj = {
        "id": acct,
        "object": "account",
        "type": "express",
        "payouts_enabled": enabled,
        "charges_enabled": False,  # transfers only: never true on these accounts
        "details_submitted": enabled,
        "capabilities": {"transfers": "active" if enabled else "pending"},
        "metadata": {"org_id": str(org.pk)} if metadata else {},
    }
    return event("account.updated", obj, created=created)


def _deliver(client, payload: dict) -> dict:
    body = json.dumps(payload)
    response = client.post(
        "/webhooks/stripe", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body)
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("order", ["in order", "reversed"])
def test_account_updated_enables_payouts_whatever_the_order_and_however_often(
    seller, client, settings, order
):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    _set(seller.org, stripe_connect_account_id=ACCT)
    now = int(time.time())
    pending = _account_event(seller.org, enabled=False, created=now - 60)
    enabled = _account_event(seller.org, enabled=True, created=now)
    deliveries = [pending, enabled] if order == "in order" else [enabled, pending]
    outcomes = [_deliver(client, payload)["outcome"] for payload in deliveries]
    outcomes += [_deliver(client, payload)["outcome"] for payload in deliveries]  # again
    if order == "in order":
        assert outcomes[:2] == ["payouts not enabled", "payouts enabled"]
    else:
        assert outcomes[:2] == ["payouts enabled", "stale"]  # the older state came later
    assert outcomes[2:] == ["duplicate", "duplicate"]
    account = _account(seller.org)
    assert account.payouts_enabled is True
    assert account.connect_state_at.timestamp() == now
    assert _actions(seller.org) == ["billing.payout_account_updated"]  # one change, once


def test_account_updated_finds_the_seller_by_its_account_id_and_ignores_other_accounts(
    seller, buyer, client, settings
):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    _set(seller.org, stripe_connect_account_id=ACCT)
    now = int(time.time())
    found = _deliver(client, _account_event(seller.org, enabled=True, created=now, metadata=False))
    assert found["outcome"] == "payouts enabled"
    assert _account(seller.org).payouts_enabled is True
    # An account nobody here has: recorded, nothing changed anywhere.
    unknown = _deliver(
        client, _account_event(seller.org, enabled=False, created=now, metadata=False, acct="a_x")
    )
    assert unknown["outcome"] == "no organization"
    # Our metadata naming another organization than the account's owner: not applied there.
    _set(buyer.org, stripe_connect_account_id="acct_buyer")
    foreign = _deliver(client, _account_event(buyer.org, enabled=True, created=now + 5))
    assert foreign["outcome"] == "not this organization's payout account"
    assert _account(buyer.org).payouts_enabled is False
    assert _account(seller.org).payouts_enabled is True


def test_account_events_signed_by_the_connect_endpoint_are_accepted(seller, client, settings):
    """Stripe signs the Connect endpoint's deliveries with that endpoint's own secret."""
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = "whsec_connect_endpoint"
    _set(seller.org, stripe_connect_account_id=ACCT)
    body = json.dumps(_account_event(seller.org, enabled=True, created=int(time.time())))
    wrong = client.post(
        "/webhooks/stripe",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, secret="whsec_neither"),
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_signature"
    assert _account(seller.org).payouts_enabled is False
    response = client.post(
        "/webhooks/stripe",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, secret="whsec_connect_endpoint"),
    )
    assert response.status_code == 200 and response.json()["outcome"] == "payouts enabled"
    assert _account(seller.org).payouts_enabled is True


# --- payouts on request, online ------------------------------------------------------------


def test_a_payout_request_waits_for_stripe_to_enable_payouts(
    buyer, seller, client, login, settings
):
    make_trade(buyer, seller, price_cents=3000, fee_cents=300)
    login(seller.admin)
    headers = {"HTTP_X_CREDEX_ORGANIZATION": seller.org.slug}
    with online(settings) as stub:
        _set(seller.org, stripe_connect_account_id=ACCT)  # onboarding not finished
        html = client.get(_billing(seller.org.slug)).content.decode()
        assert "Pay out $30.00 now" not in html
        refused = client.post("/api/v1/billing/payouts", **headers)
        assert refused.status_code == 409
        assert refused.json()["code"] == "payouts_not_enabled"
        assert "finish the setup at Stripe" in refused.json()["message"]
        page = client.post(_billing(seller.org.slug) + "change/", {"action": "payout"})
        assert page.status_code == 409
        assert _payouts(seller.org) == [] and stub.requests_to("POST", "/v1/transfers") == []
        assert _proceeds(seller.org) == (3000, 3000)

        _set(seller.org, payouts_enabled=True)
        assert "Pay out $30.00 now" in client.get(_billing(seller.org.slug)).content.decode()
        paid = client.post("/api/v1/billing/payouts", **headers)
        assert paid.status_code == 201 and paid.json()["status"] == "sent"
        (transfer,) = stub.requests_to("POST", "/v1/transfers")
    payout = _payouts(seller.org)[0]
    assert transfer.form["destination"] == ACCT and transfer.form["amount"] == "3000"
    assert transfer.form["transfer_group"] == f"payout_{payout.pk}"
    assert transfer.idempotency_key == f"credex-payout-{payout.pk}-1"
    assert payout.scheduled is False and payout.scheduled_for is None


# --- scheduled payouts ---------------------------------------------------------------------


def test_the_daily_run_fans_out_once_a_day_to_organizations_with_proceeds(buyer, seller):
    from django.core.cache import cache

    make_trade(buyer, seller, price_cents=3000, fee_cents=300)
    with own_queue() as queue, published_tasks(queue) as published:
        assert payouts_daily.apply(kwargs={"force": True}).get() >= 1
    ours = [kw for name, kw in published if kw["org_id"] in (str(seller.org.pk), str(buyer.org.pk))]
    today = datetime.now(UTC).date()  # the UTC day, whatever the server's zone
    assert ours == [{"org_id": str(seller.org.pk), "day": today.isoformat()}]  # not the buyer
    assert {name for name, _ in published} == {"billing.payouts.run"}

    cache.delete(f"billing.payouts.daily:{today}")
    with own_queue():
        payouts_daily.apply().get()
        assert payouts_daily.apply().get() == 0  # the second beat of the day does nothing


def test_weekly_pays_on_monday_and_not_on_tuesday(buyer, seller):
    _set(seller.org, payout_schedule="weekly")
    make_trade(buyer, seller, price_cents=3000, fee_cents=300)
    assert _run(seller.org, TUESDAY) == "not a pay day"
    assert _payouts(seller.org) == []
    assert _run(seller.org, MONDAY) == "paid 3000 cents (recorded)"  # offline: a record
    (payout,) = _payouts(seller.org)
    assert payout.scheduled and payout.scheduled_for == MONDAY
    assert payout.status == PayoutStatus.RECORDED and payout.requested_by is None
    assert _proceeds(seller.org) == (0, 0)
    with tenant_context(seller.org):
        audit = AuditEvent.objects.get(action="billing.payout_requested")
    assert (audit.actor_kind, audit.actor_label) == ("system", "billing-payouts")
    assert audit.data["scheduled_for"] == MONDAY.isoformat()


def test_the_same_monday_twice_pays_once(buyer, seller):
    _set(seller.org, payout_schedule="weekly")
    make_trade(buyer, seller, price_cents=3000, fee_cents=300)
    assert _run(seller.org, MONDAY).startswith("paid 3000")
    make_trade(buyer, seller, price_cents=4000, fee_cents=400, npi_seed=7002)  # sold again
    assert _run(seller.org, MONDAY) == "payout_already_scheduled"
    assert len(_payouts(seller.org)) == 1
    assert _proceeds(seller.org) == (4000, 4000)  # nothing written by the second run
    assert _run(seller.org, MONDAY + timedelta(days=7)).startswith("paid 4000")
    assert [p.scheduled_for for p in _payouts(seller.org)] == [MONDAY, MONDAY + timedelta(7)]


def test_below_the_minimum_nothing_is_paid(buyer, seller, settings):
    settings.BILLING_PAYOUT_MINIMUM_CENTS = 5000
    _set(seller.org, payout_schedule="weekly")
    make_trade(buyer, seller, price_cents=3000, fee_cents=300)
    assert _run(seller.org, MONDAY) == "below_payout_minimum"
    assert _payouts(seller.org) == [] and _proceeds(seller.org) == (3000, 3000)
    assert _actions(seller.org) == []


@pytest.mark.parametrize(
    ("schedule", "day", "pays"),
    [
        ("monthly", FIRST_OF_MONTH, True),
        ("monthly", MONDAY, False),
        ("weekly", FIRST_OF_MONTH, False),
        ("manual", MONDAY, False),
        ("manual", FIRST_OF_MONTH, False),
    ],
)
def test_monthly_pays_on_the_first_and_manual_never(buyer, seller, schedule, day, pays):
    _set(seller.org, payout_schedule=schedule)
    make_trade(buyer, seller, price_cents=3000, fee_cents=300)
    outcome = _run(seller.org, day)
    assert outcome == ("paid 3000 cents (recorded)" if pays else "not a pay day")
    assert len(_payouts(seller.org)) == (1 if pays else 0)


def test_a_read_only_seller_is_still_paid_what_it_earned(buyer, seller):
    _set(seller.org, payout_schedule="weekly")
    make_trade(buyer, seller, price_cents=3000, fee_cents=300)
    with tenant_context(seller.org):
        writes_pause(org=seller.org, account=account_for(seller.org), reason="test")
    assert _run(seller.org, MONDAY).startswith("paid 3000")


def test_online_without_enabled_payouts_the_schedule_waits(buyer, seller, settings):
    _set(seller.org, payout_schedule="weekly", stripe_connect_account_id=ACCT)
    make_trade(buyer, seller, price_cents=3000, fee_cents=300)
    with online(settings) as stub:
        assert _run(seller.org, MONDAY) == "payouts_not_enabled"
        assert stub.requests == []
    assert _payouts(seller.org) == []


def _ledger_sums(org) -> dict:
    with transaction.atomic(), platform_path():
        total = sum(Posting.objects.values_list("amount_cents", flat=True))
        proceeds = LedgerAccount.objects.get(
            organization_id=org.pk, kind=AccountKind.EXCHANGE_PROCEEDS
        )
        proceeds_postings = sum(
            Posting.objects.filter(account=proceeds).values_list("amount_cents", flat=True)
        )
        kinds = sorted(
            JournalEntry.objects.filter(postings__organization_id=org.pk)
            .values_list("kind", flat=True)
            .distinct()
        )
    return {
        "total": total,
        "proceeds": proceeds.balance_cents,
        "proceeds_postings": proceeds_postings,
        "kinds": kinds,
    }


def test_a_failed_scheduled_transfer_is_reversed_and_retried_by_the_task(buyer, seller, settings):
    _set(seller.org, payout_schedule="weekly", stripe_connect_account_id=ACCT, payouts_enabled=True)
    make_trade(buyer, seller, price_cents=3000, fee_cents=300)
    with online(settings, transfers_fail=1) as stub:
        assert _run(seller.org, MONDAY) == "paid 3000 cents (failed)"
        (payout,) = _payouts(seller.org)
        assert payout.status == PayoutStatus.FAILED and payout.failure_reason
        assert payout.next_attempt_at > timezone.now()
        # Reversed: the money is back in the proceeds, held for the retry.
        assert _proceeds(seller.org) == (3000, 0)
        sums = _ledger_sums(seller.org)
        assert sums["total"] == 0 and sums["proceeds"] == -sums["proceeds_postings"] == 3000
        assert sums["kinds"] == sorted(
            [EntryKind.EXCHANGE_PURCHASE, EntryKind.PAYOUT, EntryKind.PAYOUT_REVERSAL]
        )

        # Not due yet: the next day's run leaves it.
        assert _run(seller.org, TUESDAY) == "not a pay day"
        assert len(stub.requests_to("POST", "/v1/transfers")) == 1
        # Its time comes: the daily run retries it (a new attempt, a new idempotency key).
        with tenant_context(seller.org):
            Payout.objects.filter(pk=payout.pk).update(
                next_attempt_at=timezone.now() - timedelta(minutes=1)
            )
        assert _run(seller.org, TUESDAY + timedelta(1)) == "1 retried, not a pay day"
        first, retry = stub.requests_to("POST", "/v1/transfers")
    assert first.idempotency_key == f"credex-payout-{payout.pk}-1"
    assert retry.idempotency_key == f"credex-payout-{payout.pk}-2"
    assert first.form["transfer_group"] == retry.form["transfer_group"] == f"payout_{payout.pk}"
    (payout,) = _payouts(seller.org)
    assert payout.status == PayoutStatus.SENT and payout.attempts == 2
    assert payout.stripe_transfer_id == "tr_2"
    assert _proceeds(seller.org) == (0, 0)
    sums = _ledger_sums(seller.org)
    assert sums["total"] == 0 and sums["proceeds"] == -sums["proceeds_postings"] == 0
    assert _actions(seller.org) == [
        "billing.payout_requested",
        "billing.payout_failed",
        "billing.payout_retried",
        "billing.payout_sent",
    ]


def test_a_payout_on_request_leaves_a_failed_payouts_money_to_its_retry(buyer, seller, settings):
    _set(seller.org, stripe_connect_account_id=ACCT, payouts_enabled=True)
    make_trade(buyer, seller, price_cents=3000, fee_cents=300)
    with online(settings, transfers_fail=1) as stub:
        from billing.services.payouts import payout_request
        from credex.errors import Conflict

        with tenant_context(seller.org):
            payout_request(org=seller.org, actor=seller.membership(seller.owner))
            with pytest.raises(Conflict):  # the 3000 are the failed payout's, not available
                payout_request(org=seller.org, actor=seller.membership(seller.owner))
        make_trade(buyer, seller, price_cents=4000, fee_cents=400, npi_seed=7002)
        assert _proceeds(seller.org) == (7000, 4000)
        with tenant_context(seller.org):
            fresh = payout_request(org=seller.org, actor=seller.membership(seller.owner))
            Payout.objects.filter(status=PayoutStatus.FAILED).update(
                next_attempt_at=timezone.now() - timedelta(minutes=1)
            )
        assert fresh.amount_cents == 4000
        assert _run(seller.org, TUESDAY) == "1 retried, not a pay day"
        assert len(stub.requests_to("POST", "/v1/transfers")) == 3
    assert sorted(p.status for p in _payouts(seller.org)) == ["sent", "sent"]
    assert _proceeds(seller.org) == (0, 0)


# --- the public pricing page ---------------------------------------------------------------


def test_the_pricing_page_is_public_and_shows_the_plans_seats_trial_and_exchange(client):
    response = client.get("/pricing/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "$99.00</strong> a month",
        "$15.00</strong> per provider seat a month",
        "$1,188.00</strong> a year",
        "$12.00</strong> per provider seat a month, billed yearly ($144.00 a seat a year)",
        "10 providers: $249.00 a month",
        "14-day free trial",
        "No card needed",
        "Applicants</strong> count from their first verification",
        "Inactive and terminated providers</strong> do not count",
        "Coordinator, admin and auditor seats are unlimited",
        "$500.00",
        "$1,500.00",
        "$4,000.00",
        "$9,000.00",
        "facilitation fee of 10% of the price, at least $2.00",
        "on request from $25.00",
        'href="/accounts/signup/"',
    ):
        assert text in html, text
    assert client.post("/pricing/").status_code == 405


def test_the_pricing_page_follows_the_plan_and_tier_rows(client):
    with transaction.atomic():
        month = Plan.objects.get(code="practices", interval="month", version=1)
        # A price change is a new version: the page shows the newest active one.
        Plan.objects.create(
            code="practices",
            version=2,
            name="Practices",
            interval="month",
            base_cents=12900,
            seat_cents=1900,
            trial_days=21,
        )
        Plan.objects.filter(code="practices", interval="year").update(seat_cents=13200)
        MembershipTier.objects.filter(min_clinicians=1).update(annual_fee_cents=55500)
    html = client.get("/pricing/").content.decode()
    assert "$129.00</strong> a month" in html and "$19.00</strong> per provider seat" in html
    assert "$99.00" not in html and "$15.00" not in html
    assert "$11.00</strong> per provider seat a month, billed yearly ($132.00" in html
    assert "$555.00" in html and "$500.00" not in html
    assert "21-day free trial" in html
    assert month.base_cents == 9900  # the old version is kept for those who have it


def test_the_pricing_page_shows_the_exchange_fee_the_operator_set(client):
    from exchange.models import ExchangeSettings

    ExchangeSettings.objects.update_or_create(
        pk=1, defaults={"fee_basis_points": 750, "fee_minimum_cents": 350}
    )
    html = client.get("/pricing/").content.decode()
    assert "facilitation fee of 7.5% of the price, at least $3.50" in html


def test_the_sign_in_page_and_the_billing_page_link_to_pricing(seller, client, login):
    assert 'href="/pricing/"' in client.get("/accounts/login/").content.decode()
    login(seller.owner)
    assert 'href="/pricing/"' in client.get(_billing(seller.org.slug)).content.decode()
    # Signed in without choosing an organization, the page still reads.
    assert client.get("/pricing/").status_code == 200
