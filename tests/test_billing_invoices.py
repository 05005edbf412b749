"""Offline invoices, the exchange membership fee, the invoice page and PDF, and the statement
(issue 13: "invoices as records", "invoices with PDF", "exchange membership fee", "statements
for both sides", GET /api/v1/billing/statement)."""

from __future__ import annotations

import subprocess
import uuid
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEvent
from billing.models import (
    AccountKind,
    BillingAccount,
    Charge,
    ChargeKind,
    ChargeStatus,
    Invoice,
    InvoiceStatus,
    LedgerAccount,
    LineKind,
    Payout,
    Plan,
)
from billing.services.accounts import account_for, writes_pause
from billing.services.charges import membership_fee_charge, membership_year_end
from billing.services.invoices import invoice_issue, invoice_number, period_of_month
from billing.tasks.invoices import invoice_issue_task, issue_monthly
from credex.errors import Conflict, InvalidInput
from credex.tenancy import tenant_context
from roster.models import ProviderStatus
from tests.conftest import build_tenant, make_user, own_queue
from tests.exchange_trades import make_trade
from tests.factories import make_provider
from tests.waiting import published_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(db):
    return build_tenant("Riverbend Medical Group", "river.example", roles=("admin", "auditor"))


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _set(org, **fields):
    with tenant_context(org):
        BillingAccount.objects.filter(organization_id=org.pk).update(**fields)


def _trial_over_before(org, day: date):
    _set(org, trial_ends_at=_day_start(day) - timedelta(days=3))


def _trial_until_after(org, day: date):
    _set(org, trial_ends_at=_day_start(day) + timedelta(days=10))


def _providers(org, active=3, inactive=1, seed=1):
    for i in range(active):
        make_provider(org, seed=seed + i, status=ProviderStatus.ACTIVE)
    for i in range(inactive):
        make_provider(org, seed=seed + 500 + i, status=ProviderStatus.INACTIVE)


def _invoices(org):
    with tenant_context(org):
        return list(Invoice.objects.prefetch_related("lines").order_by("period_start"))


def _lines(invoice):
    return [(x.kind, x.quantity, x.unit_cents, x.amount_cents) for x in invoice.lines.all()]


def _actions(org, action):
    with tenant_context(org):
        return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def _charges(org):
    with tenant_context(org):
        return list(Charge.objects.select_related("invoice").order_by("created_at"))


def _refund(buyer, order, note="Confirmed."):
    from exchange.services import aftertrade as svc

    operator = make_user(
        f"operator-{uuid.uuid4().hex[:6]}@credex.example", is_exchange_operator=True
    )
    with tenant_context(buyer.org):
        dispute = svc.dispute_open(
            org=buyer.org,
            actor=buyer.membership(buyer.owner),
            order=order,
            reason="incomplete",
            description="The evidence file is missing its second page.",
        )
    svc.dispute_refund(operator=operator, dispute_id=dispute.pk, note=note)


def _issue(org, start, end):
    """invoice_issue in `org`'s scope; the invoice comes back with its lines read."""
    with tenant_context(org):
        invoice = invoice_issue(org=org, period_start=start, period_end=end)
        if invoice is None:
            return None
        return Invoice.objects.prefetch_related("lines").get(pk=invoice.pk)


# --- the offline month, end to end through the task ---------------------------------------------
def test_an_offline_month_is_invoiced_once_with_every_line_through_the_monthly_task(
    tenant_a, seller
):
    month_start, month_end = period_of_month(timezone.localdate())
    _trial_over_before(tenant_a.org, month_start)
    _providers(tenant_a.org, active=3, inactive=1)
    _trial_until_after(seller.org, month_end)
    make_trade(tenant_a, seller, price_cents=3000, fee_cents=300)  # through purchase_make
    with tenant_context(tenant_a.org):  # the trial ended without a card: read-only, still billed
        writes_pause(org=tenant_a.org, account=account_for(tenant_a.org), reason="trial ended")

    def run_month():
        # The 1st of next month, 07:00: the beat sends last month's invoice to every organization.
        first_of_next = month_end + timedelta(days=1)
        with (
            time_machine.travel(_day_start(first_of_next) + timedelta(hours=7), tick=False),
            own_queue() as queue,
            published_tasks(queue) as published,
        ):
            assert issue_monthly.apply(kwargs={"force": True}).get() >= 2
            sent = [kw for name, kw in published if name == "billing.invoices.issue"]
            ours = {tenant_a.org.pk, seller.org.pk}
            for kwargs in sent:
                if uuid.UUID(kwargs["org_id"]) in ours:
                    assert kwargs["month"] == f"{month_start:%Y-%m}"
                    invoice_issue_task.apply(kwargs=kwargs).get()
            assert {uuid.UUID(kw["org_id"]) for kw in sent} >= ours

    run_month()
    (invoice,) = _invoices(tenant_a.org)
    assert invoice.number == invoice_number(tenant_a.org, month_start)
    assert invoice.number.startswith("CX-") and invoice.number.endswith(f"-{month_start:%Y%m}")
    assert (invoice.period_start, invoice.period_end) == (month_start, month_end)
    assert invoice.status == InvoiceStatus.NOT_COLLECTED
    (charge,) = _charges(tenant_a.org)
    assert _lines(invoice) == [
        (LineKind.BASE, 1, 9900, 9900),
        # 3 active providers and the clinician the purchase added; the inactive one is no seat
        (LineKind.SEATS, 4, 1500, 6000),
        (LineKind.EXCHANGE_PURCHASE, 1, 3300, 3300),  # price + facilitation fee
    ]
    assert invoice.lines.all()[2].reference == str(charge.pk)
    assert invoice.total_cents == invoice.subtotal_cents == invoice.amount_due_cents == 19200
    assert invoice.amount_paid_cents == 0
    assert charge.invoice_id == invoice.pk and charge.status == ChargeStatus.NOT_COLLECTED
    (issued,) = _actions(tenant_a.org, "billing.invoice_issued")
    assert issued.data["total_cents"] == 19200 and issued.data["charges"] == [str(charge.pk)]
    # The seller is still in its trial and has nothing pending: nothing to bill, no invoice.
    assert _invoices(seller.org) == []

    run_month()  # a second beat (or a retried task) writes nothing
    (again,) = _invoices(tenant_a.org)
    assert again.pk == invoice.pk and _lines(again) == _lines(invoice)
    assert len(_actions(tenant_a.org, "billing.invoice_issued")) == 1
    assert _invoices(seller.org) == []


def test_the_monthly_fan_out_goes_on_when_one_organization_cannot_be_sent(
    tenant_a, tenant_b, monkeypatch
):
    real = invoice_issue_task.apply_async
    refused = str(tenant_a.org.pk)

    def flaky(*args, kwargs=None, **options):
        if kwargs["org_id"] == refused:
            raise ConnectionError("the broker refused the message")
        return real(*args, kwargs=kwargs, **options)

    monkeypatch.setattr(invoice_issue_task, "apply_async", flaky)
    with own_queue() as queue, published_tasks(queue) as published:
        count = issue_monthly.apply(kwargs={"month": "2026-11", "force": True}).get()
    sent = {kw["org_id"] for name, kw in published if name == "billing.invoices.issue"}
    assert str(tenant_b.org.pk) in sent and refused not in sent
    assert count == len(sent)


def test_one_organizations_failure_leaves_the_others_invoiced(tenant_a, tenant_b, monkeypatch):
    import billing.services.invoices as invoices

    for org in (tenant_a.org, tenant_b.org):
        _trial_over_before(org, date(2026, 11, 1))
    real = invoices.invoice_issue

    def broken_for_a(*, org, **kwargs):
        if org.pk == tenant_a.org.pk:
            raise RuntimeError("boom")
        return real(org=org, **kwargs)

    monkeypatch.setattr(invoices, "invoice_issue", broken_for_a)
    failed = invoice_issue_task.apply(kwargs={"org_id": str(tenant_a.org.pk), "month": "2026-11"})
    done = invoice_issue_task.apply(kwargs={"org_id": str(tenant_b.org.pk), "month": "2026-11"})
    assert failed.failed() and done.successful()
    assert _invoices(tenant_a.org) == []
    (invoice,) = _invoices(tenant_b.org)
    assert done.get() == invoice.number


def test_nothing_is_issued_online_or_for_a_bad_period(tenant_a, settings):
    before = len(_invoices(tenant_a.org))
    for start, end in (
        (date(2026, 11, 30), date(2026, 11, 1)),  # ends before it starts
        (date(2026, 1, 1), date(2027, 6, 1)),  # longer than a year
        (date(1, 1, 1), date(1, 1, 31)),
        ("2026-11-01", date(2026, 11, 30)),
    ):
        with pytest.raises(InvalidInput):
            _issue(tenant_a.org, start, end)
    settings.STRIPE_SECRET_KEY = "sk_test_online"
    with pytest.raises(Conflict) as refused:
        _issue(tenant_a.org, date(2026, 11, 1), date(2026, 11, 30))
    assert refused.value.code == "payments_configured"
    assert issue_monthly.apply(kwargs={"force": True}).get() == 0
    assert len(_invoices(tenant_a.org)) == before
    assert _actions(tenant_a.org, "billing.invoice_issued") == []


def test_the_same_number_for_another_period_is_a_conflict(tenant_a):
    _trial_over_before(tenant_a.org, date(2026, 11, 1))
    _issue(tenant_a.org, date(2026, 11, 1), date(2026, 11, 30))
    with pytest.raises(Conflict):
        _issue(tenant_a.org, date(2026, 11, 1), date(2026, 11, 15))
    assert len(_invoices(tenant_a.org)) == 1


# --- the trial, proration, yearly plans ----------------------------------------------------------
def test_a_month_inside_the_trial_bills_only_the_pending_exchange_charges(tenant_a, seller):
    start, end = period_of_month(timezone.localdate())
    _trial_until_after(tenant_a.org, end)
    _providers(tenant_a.org, active=2, inactive=0)
    assert _issue(tenant_a.org, start, end) is None  # nothing to bill: nothing written
    assert _invoices(tenant_a.org) == [] and _actions(tenant_a.org, "billing.invoice_issued") == []
    make_trade(tenant_a, seller, price_cents=3000, fee_cents=300)
    invoice = _issue(tenant_a.org, start, end)
    assert [line[0] for line in _lines(invoice)] == [LineKind.EXCHANGE_PURCHASE]
    assert invoice.total_cents == 3300


def test_a_trial_ending_inside_the_month_prorates_the_plan_by_day(tenant_a):
    _providers(tenant_a.org, active=2, inactive=0)
    # Ends at noon on 10 June: 11 to 30 June are billed, 20 of 30 days.
    _set(tenant_a.org, trial_ends_at=_day_start(date(2027, 6, 10)) + timedelta(hours=12))
    invoice = _issue(tenant_a.org, date(2027, 6, 1), date(2027, 6, 30))
    assert _lines(invoice) == [(LineKind.BASE, 1, 6600, 6600), (LineKind.SEATS, 2, 1000, 2000)]
    assert "20 of 30 days after the trial" in invoice.lines.all()[0].description
    assert invoice.total_cents == 8600


def test_a_yearly_plan_is_billed_once_a_year_in_advance(tenant_a):
    _providers(tenant_a.org, active=2, inactive=0)
    yearly = Plan.objects.get(code="practices", interval="year", version=1)
    _set(tenant_a.org, plan=yearly)
    _trial_over_before(tenant_a.org, date(2027, 1, 1))
    first = _issue(tenant_a.org, date(2027, 1, 1), date(2027, 1, 31))
    assert _lines(first) == [(LineKind.BASE, 1, 118800, 118800), (LineKind.SEATS, 2, 14400, 28800)]
    assert _issue(tenant_a.org, date(2027, 2, 1), date(2027, 2, 28)) is None  # paid for the year
    renewal = _issue(tenant_a.org, date(2028, 1, 1), date(2028, 1, 31))
    assert renewal.total_cents == 118800 + 2 * 14400


# --- refunds become credits ----------------------------------------------------------------------
def test_a_refund_credits_the_next_invoice_or_cancels_out_on_the_first(tenant_a, seller):
    start, end = period_of_month(timezone.localdate())
    _trial_until_after(tenant_a.org, end + timedelta(days=70))  # no plan lines on any of them
    first_order = make_trade(tenant_a, seller, price_cents=3000, fee_cents=300, npi_seed=7001)
    invoice = _issue(tenant_a.org, start, end)  # in the trial: the purchase only
    assert invoice.total_cents == 3300
    # Refunded after it was billed: credited on the next invoice, once.
    _refund(tenant_a, first_order)
    second_order = make_trade(tenant_a, seller, price_cents=2000, fee_cents=200, npi_seed=7002)
    _refund(tenant_a, second_order)  # refunded before it was ever billed
    next_start, next_end = period_of_month(end + timedelta(days=1))
    with time_machine.travel(_day_start(next_end + timedelta(days=1)), tick=False):
        following = _issue(tenant_a.org, next_start, next_end)
    by_ref = {(line.kind, line.reference): line.amount_cents for line in following.lines.all()}
    first_charge, second_charge = _charges(tenant_a.org)
    assert by_ref == {
        (LineKind.EXCHANGE_PURCHASE, str(second_charge.pk)): 2200,
        (LineKind.CREDIT, str(second_charge.pk)): -2200,
        (LineKind.CREDIT, str(first_charge.pk)): -3300,
    }
    assert following.total_cents == -3300 and following.amount_due_cents == 0
    assert first_charge.invoice_id == invoice.pk and first_charge.status == ChargeStatus.CREDITED
    assert second_charge.invoice_id == following.pk
    later = _issue(tenant_a.org, *period_of_month(next_end + timedelta(days=1)))
    assert later is None  # every credit was given once


# --- the exchange membership fee -----------------------------------------------------------------
def test_joining_the_exchange_charges_the_membership_fee_once_a_year_at_the_right_tier(tenant_a):
    from exchange.tasks.membership import membership_fee_renew_task, membership_fees_daily
    from tests.exchange_membership_support import approved, make_operator

    _providers(tenant_a.org, active=3, inactive=2)  # 3 clinicians: "Up to 10"
    approved(tenant_a, make_operator())
    (charge,) = _charges(tenant_a.org)
    today = timezone.localdate()
    assert charge.kind == ChargeKind.MEMBERSHIP_FEE and charge.amount_cents == 50000
    assert charge.reference_id == f"{tenant_a.org.pk}:{today.year}"
    assert charge.status == ChargeStatus.PENDING  # on the next invoice
    with tenant_context(tenant_a.org):
        account = account_for(tenant_a.org)
        again, created = membership_fee_charge(org=tenant_a.org, year=today.year, actor=_system())
    assert not created and again.pk == charge.pk
    assert account.membership_tier.name == "Up to 10 clinicians"
    paid_through = account.membership_paid_through
    assert paid_through == membership_year_end(today)
    (event,) = _actions(tenant_a.org, "billing.membership_fee_charged")
    assert event.data["clinicians"] == 3 and event.data["amount_cents"] == 50000

    # The daily renewal: nothing due within the year ...
    assert membership_fee_renew_task.apply(kwargs={"org_id": str(tenant_a.org.pk)}).get() == (
        "nothing due"
    )
    # ... and the next year at the tier of the roster then (12 clinicians: "11 to 50").
    _providers(tenant_a.org, active=9, inactive=0, seed=40)
    with time_machine.travel(_day_start(paid_through + timedelta(days=1)) + timedelta(hours=5)):
        with own_queue() as queue, published_tasks(queue) as published:
            assert membership_fees_daily.apply(kwargs={"force": True}).get() >= 1
        sent = [kw for name, kw in published if name == "exchange.membership.fee_renew"]
        assert {"org_id": str(tenant_a.org.pk)} in sent
        assert membership_fee_renew_task.apply(kwargs={"org_id": str(tenant_a.org.pk)}).get() == (
            "charged 150000"
        )
        assert membership_fee_renew_task.apply(kwargs={"org_id": str(tenant_a.org.pk)}).get() == (
            "nothing due"
        )
    fees = [c for c in _charges(tenant_a.org) if c.kind == ChargeKind.MEMBERSHIP_FEE]
    assert [c.amount_cents for c in fees] == [50000, 150000]
    assert fees[1].reference_id == f"{tenant_a.org.pk}:{(paid_through + timedelta(days=1)).year}"
    with tenant_context(tenant_a.org):
        account = BillingAccount.objects.select_related("membership_tier").get()
    assert account.membership_tier.name == "11 to 50 clinicians"
    assert account.membership_paid_through == membership_year_end(paid_through + timedelta(days=1))


def _system():
    from audit.services import Actor

    return Actor.system("test")


def test_the_membership_fee_goes_on_the_invoice_and_shows_on_the_billing_page(
    tenant_a, client, login
):
    from tests.exchange_membership_support import approved, make_operator

    _trial_until_after(tenant_a.org, period_of_month(timezone.localdate())[1])
    _providers(tenant_a.org, active=2, inactive=0)
    login(tenant_a.owner)
    html = client.get(f"/o/{tenant_a.org.slug}/billing/").content.decode()
    assert "Up to 10 clinicians: $500.00 a year" in html  # what joining would cost
    approved(tenant_a, make_operator())
    html = client.get(f"/o/{tenant_a.org.slug}/billing/").content.decode()
    assert "Up to 10 clinicians: <strong>$500.00</strong> a year" in html
    assert "paid through" in html
    invoice = _issue(tenant_a.org, *period_of_month(timezone.localdate()))
    (line,) = invoice.lines.all()  # in the trial: the fee alone
    assert line.kind == LineKind.MEMBERSHIP_FEE and line.amount_cents == 50000
    (charge,) = _charges(tenant_a.org)
    assert charge.status == ChargeStatus.NOT_COLLECTED and charge.invoice_id == invoice.pk


def test_membership_fee_years_are_checked(tenant_a):
    with tenant_context(tenant_a.org):
        for year, start in ((1999, None), ("2026", None), (2026, date(2027, 1, 1))):
            with pytest.raises(InvalidInput):
                membership_fee_charge(org=tenant_a.org, year=year, actor=_system(), start=start)
    assert _charges(tenant_a.org) == []


# --- the invoice page and PDF --------------------------------------------------------------------
@pytest.fixture
def billed(tenant_a, seller):
    """tenant_a with an offline invoice for this month: base, 4 seats (3 providers and the
    purchase's clinician) and a purchase."""
    month_start, month_end = period_of_month(timezone.localdate())
    _trial_over_before(tenant_a.org, month_start)
    _providers(tenant_a.org, active=3, inactive=0)
    make_trade(tenant_a, seller, price_cents=3000, fee_cents=300)
    return _issue(tenant_a.org, month_start, month_end)


def test_the_invoice_page_shows_every_line_to_owners_and_auditors(tenant_a, billed, client, login):
    url = f"/o/{tenant_a.org.slug}/billing/invoices/{billed.pk}/"
    for user in (tenant_a.owner, tenant_a.auditor):
        login(user)
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert f"Invoice {billed.number}" in html
        assert "$99.00" in html and "$60.00" in html and "$33.00" in html and "$192.00" in html
        assert "Not collected" in html
        assert f"/o/{tenant_a.org.slug}/billing/invoices/{billed.pk}.pdf" in html
    # the billing page links the invoice and its PDF
    html = client.get(f"/o/{tenant_a.org.slug}/billing/").content.decode()
    assert f'href="{url}"' in html and f'href="{url[:-1]}.pdf"' in html


def test_the_invoice_pdf_shows_the_total_and_its_download_is_audited(
    tenant_a, billed, client, login, tmp_path
):
    login(tenant_a.auditor)
    response = client.get(f"/o/{tenant_a.org.slug}/billing/invoices/{billed.pk}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    path = tmp_path / "invoice.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert billed.number in text and "$192.00" in text and "Acme Health" in text
    assert "Provider seats" in text and "Not collected" in text
    (event,) = _actions(tenant_a.org, "billing.invoice_downloaded")
    assert event.target_id == str(billed.pk)


def test_coordinators_outsiders_and_foreign_ids_get_no_invoice(
    tenant_a, tenant_b, billed, client, login
):
    page = f"/o/{tenant_a.org.slug}/billing/invoices/{billed.pk}/"
    pdf = f"/o/{tenant_a.org.slug}/billing/invoices/{billed.pk}.pdf"
    login(tenant_a.coordinator)
    assert client.get(page).status_code == 403 and client.get(pdf).status_code == 403
    login(tenant_b.owner)  # not a member of org A
    assert client.get(page).status_code == 404 and client.get(pdf).status_code == 404
    # org B's own invoice pages do not show org A's invoice (not yours = does not exist)
    foreign = f"/o/{tenant_b.org.slug}/billing/invoices/{billed.pk}/"
    assert client.get(foreign).status_code == 404
    assert client.get(foreign[:-1] + ".pdf").status_code == 404
    login(tenant_a.owner)
    unknown = f"/o/{tenant_a.org.slug}/billing/invoices/{uuid.uuid4()}/"
    assert client.get(unknown).status_code == 404
    assert client.get(f"/o/{tenant_a.org.slug}/billing/invoices/not-a-uuid/").status_code == 404
    assert _actions(tenant_a.org, "billing.invoice_downloaded") == []
    client.logout()
    assert client.get(page).status_code == 302  # anonymous: sign in first


def test_the_invoice_api_has_the_lines_and_hides_other_organizations_invoices(
    tenant_a, tenant_b, billed, client, login
):
    login(tenant_a.auditor)
    headers = {"HTTP_X_CREDEX_ORGANIZATION": tenant_a.org.slug}
    body = client.get(f"/api/v1/billing/invoices/{billed.pk}", **headers).json()
    assert body["number"] == billed.number and body["status"] == "not_collected"
    assert body["total_cents"] == 19200 and body["subtotal_cents"] == 19200
    assert [(line["kind"], line["amount_cents"]) for line in body["lines"]] == [
        ("base", 9900),
        ("seats", 6000),
        ("exchange_purchase", 3300),
    ]
    listed = client.get("/api/v1/billing/invoices", **headers).json()
    assert [i["id"] for i in listed] == [str(billed.pk)]
    missing = client.get(f"/api/v1/billing/invoices/{uuid.uuid4()}", **headers)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    login(tenant_b.owner)
    theirs = {"HTTP_X_CREDEX_ORGANIZATION": tenant_b.org.slug}
    foreign = client.get(f"/api/v1/billing/invoices/{billed.pk}", **theirs)
    assert foreign.status_code == 404 and set(foreign.json()) == {"code", "message", "details"}
    login(tenant_a.coordinator)
    assert client.get(f"/api/v1/billing/invoices/{billed.pk}", **headers).status_code == 403


# --- the statement -------------------------------------------------------------------------------
def _balance(org, kind) -> int:
    with tenant_context(org):
        account = LedgerAccount.objects.filter(organization_id=org.pk, kind=kind).first()
    return account.balance_cents if account else 0


def test_the_statement_balances_with_the_ledger_after_purchases_a_refund_and_a_payout(
    tenant_a, seller, client, login
):
    from billing.services.payouts import payout_request

    make_trade(tenant_a, seller, price_cents=3000, fee_cents=300, npi_seed=7001)
    refunded = make_trade(tenant_a, seller, price_cents=2000, fee_cents=200, npi_seed=7002)
    _refund(tenant_a, refunded)
    with tenant_context(seller.org):
        payout_request(org=seller.org, actor=seller.membership(seller.owner))
    today = timezone.localdate().isoformat()

    login(tenant_a.auditor)  # the buyer's side
    buyer = client.get(
        f"/api/v1/billing/statement?start={today}&end={today}",
        HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug,
    ).json()["buyer"]
    assert buyer["opening_balance_cents"] == 0
    assert buyer["purchases_cents"] == 5500 and buyer["refunds_cents"] == 2200
    assert buyer["collected_cents"] == 0
    assert buyer["closing_balance_cents"] == 3300 == _balance(tenant_a.org, "exchange_due")
    assert buyer["closing_balance_cents"] == (
        buyer["opening_balance_cents"] + sum(p["amount_cents"] for p in buyer["postings"])
    )
    assert sorted(c["status"] for c in buyer["charges"]) == ["credited", "pending"]
    assert buyer["charges_by_status_cents"] == {"credited": 2200, "pending": 3300}

    login(seller.admin)  # the seller's side
    headers = {"HTTP_X_CREDEX_ORGANIZATION": seller.org.slug}
    body = client.get(f"/api/v1/billing/statement?start={today}&end={today}", **headers).json()
    side = body["seller"]
    assert side["opening_balance_cents"] == 0
    assert side["sales_cents"] == 5000 and side["refunds_cents"] == 2000
    assert side["payouts_cents"] == 3000 and side["payouts_reversed_cents"] == 0
    assert side["closing_balance_cents"] == 0 == _balance(seller.org, "exchange_proceeds")
    assert body["buyer"]["postings"] == [] and body["buyer"]["charges"] == []
    # A period after today opens with today's balances and has nothing in it.
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    later = client.get(f"/api/v1/billing/statement?start={tomorrow}&end={tomorrow}", **headers)
    assert later.json()["seller"]["postings"] == []
    login(tenant_a.owner)
    later = client.get(
        f"/api/v1/billing/statement?start={tomorrow}&end={tomorrow}",
        HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug,
    ).json()["buyer"]
    assert later["opening_balance_cents"] == later["closing_balance_cents"] == 3300

    # The page shows the same figures, and the CSV download is audited.
    login(seller.owner)
    url = f"/o/{seller.org.slug}/billing/statement/?start={today}&end={today}"
    html = client.get(url).content.decode()
    assert "Sales proceeds" in html and "$50.00" in html and "$30.00" in html
    csv_response = client.get(url + "&format=csv")
    assert csv_response.status_code == 200 and "attachment" in csv_response["Content-Disposition"]
    rows = csv_response.content.decode().splitlines()
    assert rows[0] == "section,date,account,item,reference,description,amount_cents,balance_cents"
    assert any(r.startswith("seller,") and ",Paid out to the seller," in r for r in rows)
    assert rows[-1].startswith("seller,") and rows[-1].endswith(",0")  # closing balance
    (event,) = _actions(seller.org, "billing.statement_exported")
    assert event.data["start"] == today and event.data["format"] == "csv"


def test_a_failed_payout_shows_reversed_on_the_sellers_statement(tenant_a, seller, settings):
    from billing.services.payouts import payout_request
    from billing.statements import statement_for_period
    from tests.stripe_stub import StripeStub

    make_trade(tenant_a, seller, price_cents=3000, fee_cents=300)
    with StripeStub() as stub:
        stub.on("POST", "/v1/transfers", lambda req: (400, {"error": {"message": "no"}}))
        settings.STRIPE_SECRET_KEY = "sk_test_x"
        settings.STRIPE_API_BASE = stub.url
        with tenant_context(seller.org):
            BillingAccount.objects.filter(organization_id=seller.org.pk).update(
                stripe_connect_account_id="acct_1", payouts_enabled=True
            )
            payout = payout_request(org=seller.org, actor=seller.membership(seller.owner))
            today = timezone.localdate()
            side = statement_for_period(org=seller.org, start=today, end=today).seller
    with tenant_context(seller.org):
        assert Payout.objects.get(pk=payout.pk).status == "failed"
    assert side.figure("sales") == 3000
    assert side.figure("payouts") == 3000 and side.figure("payouts_reversed") == 3000
    assert side.closing_cents == 3000 == _balance(seller.org, AccountKind.EXCHANGE_PROCEEDS)


@pytest.mark.parametrize(
    "query,field",
    [
        ("start=2026-13-01", "start"),
        ("start=yesterday", "start"),
        ("end=2026-02-30", "end"),
        ("start=2026-05-01&end=2026-04-01", "end"),
        ("start=2001-01-01&end=2026-01-01", "end"),
        ("start=0001-01-01", "start"),
        ("start=" + "9" * 400, "start"),
    ],
)
def test_bad_statement_dates_are_a_400_that_says_what_to_fix(tenant_a, client, login, query, field):
    login(tenant_a.owner)
    before = AuditEvent.objects.count()
    api = client.get(
        f"/api/v1/billing/statement?{query}", HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug
    )
    assert api.status_code == 400
    body = api.json()
    assert body["code"] == "invalid" and field in body["details"], body
    page = client.get(f"/o/{tenant_a.org.slug}/billing/statement/?{query}&format=csv")
    assert page.status_code == 400
    assert "The statement period is not valid." in page.content.decode()
    assert AuditEvent.objects.count() == before  # no export recorded


def test_a_nul_byte_in_the_statement_dates_is_refused(tenant_a, client, login):
    login(tenant_a.owner)
    response = client.get(f"/o/{tenant_a.org.slug}/billing/statement/?start=2026-01-01%00")
    assert response.status_code == 400
    api = client.get(
        "/api/v1/billing/statement?end=%00", HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug
    )
    assert api.status_code == 400 and "code" in api.json()


def test_the_statement_is_for_owners_admins_and_auditors_only(tenant_a, tenant_b, client, login):
    page = f"/o/{tenant_a.org.slug}/billing/statement/"
    for user in (tenant_a.owner, tenant_a.admin, tenant_a.auditor):
        login(user)
        response = client.get(page)
        assert response.status_code == 200
        assert "Nothing in this period" in response.content.decode()
    login(tenant_a.coordinator)
    assert client.get(page).status_code == 403
    api = client.get("/api/v1/billing/statement", HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug)
    assert api.status_code == 403
    login(tenant_b.owner)
    assert client.get(page).status_code == 404
    api = client.get("/api/v1/billing/statement", HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug)
    assert api.status_code == 404
