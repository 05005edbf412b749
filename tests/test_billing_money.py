"""Exchange money: the buyer's charge for a purchase, its refund on a dispute."""

from __future__ import annotations

import pytest

from billing.models import BillingAccount, Charge, ChargeMode, ChargeStatus
from credex.tenancy import tenant_context
from exchange.services import aftertrade as svc
from tests.conftest import build_tenant, make_user
from tests.exchange_trades import make_trade

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(db):
    return build_tenant("Riverbend Medical Group", "river.example", roles=("admin", "auditor"))


def _charges(org):
    with tenant_context(org):
        return list(Charge.objects.all())


def test_a_purchase_makes_one_pending_charge(tenant_a, seller):
    order = make_trade(tenant_a, seller, price_cents=3000, fee_cents=300)
    (charge,) = _charges(tenant_a.org)
    assert charge.status == ChargeStatus.PENDING
    assert charge.amount_cents == 3300 and charge.reference_id == str(order.pk)
    assert charge.journal_entry_id == order.journal_entry_id
    assert _charges(seller.org) == []


def test_immediate_mode_offline_is_not_collected(tenant_a, seller):
    with tenant_context(tenant_a.org):
        from billing.services.accounts import account_for

        account = account_for(tenant_a.org)
        BillingAccount.objects.filter(pk=account.pk).update(charge_mode=ChargeMode.IMMEDIATE)
    make_trade(tenant_a, seller, price_cents=3000, fee_cents=300)
    (charge,) = _charges(tenant_a.org)
    assert charge.status == ChargeStatus.NOT_COLLECTED


def test_a_dispute_refund_credits_the_pending_charge(tenant_a, seller):
    order = make_trade(tenant_a, seller, price_cents=3000, fee_cents=300)
    operator = make_user("operator@credex.example", is_exchange_operator=True)
    with tenant_context(tenant_a.org):
        dispute = svc.dispute_open(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            order=order,
            reason="incomplete",
            description="The evidence file is missing its second page.",
        )
    svc.dispute_refund(operator=operator, dispute_id=dispute.pk, note="Confirmed.")
    (charge,) = _charges(tenant_a.org)
    assert charge.status == ChargeStatus.CREDITED and charge.refunded_at


def test_an_offline_payout_request_records_the_payout_and_its_entry(tenant_a, seller):
    from billing.models import Payout, PayoutStatus
    from billing.services.payouts import payout_request, proceeds_available

    make_trade(tenant_a, seller, price_cents=3000, fee_cents=300)
    with tenant_context(seller.org):
        payout = payout_request(org=seller.org, actor=seller.membership(seller.owner))
        assert payout.status == PayoutStatus.RECORDED and payout.amount_cents == 3000
        assert proceeds_available(seller.org) == 0
        assert Payout.objects.count() == 1


def test_a_payout_below_the_minimum_is_a_conflict_and_writes_nothing(tenant_a, seller, settings):
    from billing.models import Payout
    from billing.services.payouts import payout_request
    from credex.errors import Conflict

    settings.BILLING_PAYOUT_MINIMUM_CENTS = 5000
    make_trade(tenant_a, seller, price_cents=3000, fee_cents=300)
    with tenant_context(seller.org):
        with pytest.raises(Conflict):
            payout_request(org=seller.org, actor=seller.membership(seller.owner))
        assert Payout.objects.count() == 0


@pytest.mark.parametrize("fails", [False, True])
def test_an_online_payout_sends_a_transfer_or_reverses_a_failed_one(
    tenant_a, seller, settings, fails
):
    from billing.models import Payout, PayoutStatus
    from billing.services.accounts import account_for
    from billing.services.payouts import payout_request, proceeds_available
    from tests.stripe_stub import StripeStub

    make_trade(tenant_a, seller, price_cents=3000, fee_cents=300)
    with StripeStub() as stub:
        if fails:
            stub.on("POST", "/v1/transfers", lambda req: (400, {"error": {"message": "no"}}))
        else:
            stub.on("POST", "/v1/transfers", lambda req: {"id": "tr_1", "object": "transfer"})
        settings.STRIPE_SECRET_KEY = "sk_test_x"
        settings.STRIPE_API_BASE = stub.url
        with tenant_context(seller.org):
            account = account_for(seller.org)
            BillingAccount.objects.filter(pk=account.pk).update(
                stripe_connect_account_id="acct_1", payouts_enabled=True
            )
            payout = payout_request(org=seller.org, actor=seller.membership(seller.owner))
            (req,) = stub.requests_to("POST", "/v1/transfers")
            assert req.form["transfer_group"] == f"payout_{payout.pk}"
            assert req.idempotency_key == f"credex-payout-{payout.pk}-1"
            payout = Payout.objects.get(pk=payout.pk)
            if fails:
                assert payout.status == PayoutStatus.FAILED and payout.next_attempt_at
                from billing.services.payouts import payouts_retry_due, proceeds_balance

                # back in the proceeds, but held for the retry: not available to another payout
                assert proceeds_balance(seller.org) == 3000
                assert proceeds_available(seller.org) == 0

                stub.on("POST", "/v1/transfers", lambda req: {"id": "tr_2", "object": "transfer"})
                later = payout.next_attempt_at
                assert payouts_retry_due(org=seller.org, now=later) == 1
                retry = stub.requests_to("POST", "/v1/transfers")[-1]
                assert retry.idempotency_key == f"credex-payout-{payout.pk}-2"
                payout = Payout.objects.get(pk=payout.pk)
                assert payout.status == PayoutStatus.SENT and payout.attempts == 2
                assert proceeds_available(seller.org) == 0
            else:
                assert payout.status == PayoutStatus.SENT and payout.stripe_transfer_id == "tr_1"
                assert proceeds_available(seller.org) == 0


def test_an_invoiced_purchase_is_collected_when_stripe_says_the_invoice_is_paid(
    tenant_a, seller, settings, client, django_capture_on_commit_callbacks
):
    import json
    import time

    from billing.models import AccountKind, EntryKind, JournalEntry, LedgerAccount
    from tests.stripe_stub import StripeStub
    from tests.test_billing_webhooks import SECRET, event, invoice, sign

    settings.STRIPE_WEBHOOK_SECRET = SECRET
    with tenant_context(tenant_a.org):
        BillingAccount.objects.filter(organization_id=tenant_a.org.pk).update(
            stripe_customer_id="cus_money"
        )
    with StripeStub() as stub:
        stub.on(
            "POST", r"/v1/invoiceitems", lambda req: {"id": "ii_money", "object": "invoiceitem"}
        )
        settings.STRIPE_SECRET_KEY = "sk_test_credex"
        settings.STRIPE_API_BASE = stub.url
        with django_capture_on_commit_callbacks(execute=True):
            make_trade(tenant_a, seller, price_cents=3000, fee_cents=300)
        (item,) = stub.requests_to("POST", r"/v1/invoiceitems")
        assert item.form["customer"] == "cus_money" and item.form["amount"] == "3300"
        assert item.idempotency_key.startswith("credex-charge-")
    (charge,) = _charges(tenant_a.org)
    assert charge.stripe_invoice_item_id == "ii_money"
    paid = invoice("paid", inv_id="in_money", customer="cus_money", amount=3300)
    paid["lines"]["data"] = [
        {"id": "il_money", "invoice_item": "ii_money", "amount": 3300, "quantity": 1}
    ]
    payload = event("invoice.paid", paid, created=int(time.time()))
    body = json.dumps(payload)
    response = client.post(
        "/webhooks/stripe", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body)
    )
    assert response.status_code == 200, response.content
    with tenant_context(tenant_a.org):
        charge = Charge.objects.select_related("invoice").get()
        assert charge.status == ChargeStatus.COLLECTED
        assert charge.invoice.stripe_invoice_id == "in_money"
        due = LedgerAccount.objects.get(kind=AccountKind.EXCHANGE_DUE)
        assert due.balance_cents == 0  # the buyer owes nothing more
        assert JournalEntry.objects.filter(kind=EntryKind.COLLECTION).count() == 1
    # the same event again collects nothing twice
    again = client.post(
        "/webhooks/stripe", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body)
    )
    assert again.json()["outcome"] == "duplicate"


def test_a_seller_requests_a_payout_on_the_page_and_reads_it_in_the_api(
    tenant_a, seller, client, login
):
    make_trade(tenant_a, seller, price_cents=3000, fee_cents=300)
    login(seller.admin)
    page = client.get(f"/o/{seller.org.slug}/billing/").content.decode()
    assert "Pay out $30.00 now" in page
    response = client.post(f"/o/{seller.org.slug}/billing/change/", {"action": "payout"})
    assert response.status_code == 302
    headers = {"HTTP_X_CREDEX_ORGANIZATION": seller.org.slug}
    body = client.get("/api/v1/billing/payouts", **headers).json()
    assert body["available_cents"] == 0
    (payout,) = body["payouts"]
    assert payout["amount_cents"] == 3000 and payout["status"] == "recorded"
    # nothing left: a second request is a 409 in the error shape, nothing written
    again = client.post("/api/v1/billing/payouts", **headers)
    assert again.status_code == 409 and again.json()["code"] == "below_payout_minimum"
    assert len(client.get("/api/v1/billing/payouts", **headers).json()["payouts"]) == 1
    # the buyer's organization sees none of it
    login(tenant_a.owner)
    theirs = client.get("/api/v1/billing/payouts", HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug)
    assert theirs.json()["payouts"] == []
