"""After the trade (issue 12, item 8): the statement and its CSV, ratings, disputes and the
operator's resolution (refund with a reversing entry, or rejection with a reason).

Trades are built by tests/exchange_trades.make_trade (what a purchase writes). Buyer: org A
(Acme, with owner/admin/coordinator/auditor); seller: a third organization (Riverbend), so
org B stays the outsider of both.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from billing.models import JournalEntry, LedgerAccount, Posting
from credex.errors import Conflict, Forbidden, InvalidInput
from credex.tenancy import platform_path, tenant_context, unscoped
from exchange.models import Dispute, MemberDirectory, Order, Rating
from exchange.services import aftertrade as svc
from tests.conftest import build_tenant, make_user
from tests.exchange_trades import make_payout, make_trade

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(db):
    return build_tenant("Riverbend Medical Group", "river.example", roles=("admin", "auditor"))


@pytest.fixture
def operator(db):
    return make_user("operator@credex.example", is_exchange_operator=True)


@pytest.fixture
def trade(tenant_a, seller):
    return make_trade(tenant_a, seller, price_cents=3000, fee_cents=300)


def _events(org_id, action):
    """The events of one chain (org_id None: the platform chain)."""
    from django.db import connection

    if org_id is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.audit_platform', 'on', true)")
        return list(AuditEvent.objects.filter(organization__isnull=True, action=action))
    with tenant_context(org_id):
        return list(AuditEvent.objects.filter(organization_id=org_id, action=action))


def _balance(org_id, kind):
    with tenant_context(org_id):
        account = LedgerAccount.objects.filter(kind=kind).first()
        return account.balance_cents if account else 0


def _platform_balance(kind):
    from django.db import transaction

    with transaction.atomic(), platform_path():
        return LedgerAccount.objects.get(organization__isnull=True, kind=kind).balance_cents


def _open(tenant, order, **extra):
    with tenant_context(tenant.org):
        return svc.dispute_open(
            org=tenant.org,
            actor=tenant.membership(tenant.owner),
            order=order,
            reason=extra.get("reason", "incomplete"),
            description=extra.get("description", "The evidence file is missing its second page."),
        )


# --- the statement ---------------------------------------------------------------------------


def test_the_statement_lists_every_posting_newest_first_with_running_balances(tenant_a, seller):
    from exchange.selectors.statement import statement_for

    first = make_trade(tenant_a, seller, price_cents=3000, fee_cents=300, npi_seed=7101)
    second = make_trade(tenant_a, seller, price_cents=4000, fee_cents=400, npi_seed=7102)

    with tenant_context(seller.org):
        sales = statement_for(org=seller.org)
    assert [r.order_id for r in sales.rows] == [second.pk, first.pk]
    assert [r.amount_cents for r in sales.rows] == [4000, 3000]
    assert [r.balance_cents for r in sales.rows] == [7000, 3000]
    assert {r.counterparty for r in sales.rows} == {"Acme Health"}
    assert sales.proceeds_cents == 7000 and sales.purchases_due_cents == 0

    with tenant_context(tenant_a.org):
        purchases = statement_for(org=tenant_a.org)
    assert [r.balance_cents for r in purchases.rows] == [7700, 3300]
    assert {r.counterparty for r in purchases.rows} == {"Riverbend Medical Group"}
    assert purchases.purchases_due_cents == 7700 and purchases.proceeds_cents == 0


# --- ratings ---------------------------------------------------------------------------------


def test_the_buyer_rates_the_seller_once_and_the_directory_average_moves(tenant_a, seller):
    first = make_trade(tenant_a, seller, npi_seed=7201)
    second = make_trade(tenant_a, seller, npi_seed=7202)
    owner = tenant_a.membership(tenant_a.owner)
    with tenant_context(tenant_a.org):
        svc.rating_record(org=tenant_a.org, actor=owner, order=first, score=5, comment="Fast.")
        svc.rating_record(org=tenant_a.org, actor=owner, order=second, score=2)
        with pytest.raises(Conflict) as again:
            svc.rating_record(org=tenant_a.org, actor=owner, order=first, score=1)
    assert again.value.code == "already_rated"
    entry = MemberDirectory.objects.get(member_id=seller.org.pk)
    assert (entry.rating_sum, entry.rating_count, entry.rating) == (7, 2, 3.5)
    assert len(_events(tenant_a.org.pk, "exchange.rating.recorded")) == 2
    assert len(_events(seller.org.pk, "exchange.rating.recorded")) == 2


def test_the_seller_cannot_rate_its_own_sale(tenant_a, seller, trade):
    with tenant_context(seller.org), pytest.raises(Forbidden):
        svc.rating_record(
            org=seller.org, actor=seller.membership(seller.owner), order=trade, score=5
        )
    with unscoped():
        assert not Rating.objects.filter(order_id=trade.pk).exists()
    assert MemberDirectory.objects.get(member_id=seller.org.pk).rating_count == 0


@pytest.mark.parametrize(
    "score,comment",
    [(0, ""), (6, ""), ("5", ""), (True, ""), (4, "x" * (svc.COMMENT_MAX + 1)), (4, 12)],
)
def test_a_bad_score_or_comment_is_refused_and_nothing_is_written(trade, tenant_a, score, comment):
    with tenant_context(tenant_a.org), pytest.raises(InvalidInput):
        svc.rating_record(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            order=trade,
            score=score,
            comment=comment,
        )
    with tenant_context(tenant_a.org):
        assert not Rating.objects.exists()


def test_an_auditor_cannot_rate(trade, tenant_a):
    with tenant_context(tenant_a.org), pytest.raises(Forbidden):
        svc.rating_record(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.auditor), order=trade, score=5
        )


# --- disputes --------------------------------------------------------------------------------


def test_a_dispute_is_opened_within_the_window_and_the_seller_and_operator_are_mailed(
    tenant_a, seller, trade, operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dispute = _open(tenant_a, trade)
    assert dispute.status == "open" and dispute.seller_organization_id == seller.org.pk
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["exchange@river.example", "operator@credex.example"]
    assert "disputed" in mail.outbox[0].body
    assert len(_events(tenant_a.org.pk, "exchange.dispute.opened")) == 1
    assert len(_events(seller.org.pk, "exchange.dispute.opened")) == 1


def test_only_one_dispute_per_order_is_open_at_a_time(tenant_a, trade):
    _open(tenant_a, trade)
    with pytest.raises(Conflict) as second:
        _open(tenant_a, trade, reason="other")
    assert second.value.code == "dispute_already_open"
    with tenant_context(tenant_a.org):
        assert Dispute.objects.count() == 1


def test_a_dispute_after_the_window_is_refused(tenant_a, trade):
    with time_machine.travel(timezone.now() + timedelta(days=29, hours=23)):
        assert _open(tenant_a, trade).status == "open"
    with tenant_context(tenant_a.org):
        Dispute.objects.all().update(status="rejected")
    with time_machine.travel(timezone.now() + timedelta(days=30, hours=1)):
        with pytest.raises(Conflict) as late:
            _open(tenant_a, trade)
    assert late.value.code == "dispute_window_closed"


def test_the_seller_cannot_open_a_dispute(seller, trade):
    with pytest.raises(Forbidden):
        _open(seller, trade)
    with unscoped():
        assert not Dispute.objects.filter(order_id=trade.pk).exists()


@pytest.mark.parametrize(
    "reason,description",
    [("bogus", "x"), ("stale", ""), ("stale", "   "), ("stale", "x" * (svc.DESCRIPTION_MAX + 1))],
)
def test_a_dispute_without_a_known_reason_or_description_is_refused(
    tenant_a, trade, reason, description
):
    with pytest.raises(InvalidInput):
        _open(tenant_a, trade, reason=reason, description=description)
    with tenant_context(tenant_a.org):
        assert not Dispute.objects.exists()


def test_an_outsider_cannot_dispute_or_rate_an_order_it_is_not_party_to(tenant_b, trade):
    from credex.errors import NotFound

    with pytest.raises(NotFound):
        _open(tenant_b, trade)
    with tenant_context(tenant_b.org), pytest.raises(NotFound):
        svc.rating_record(
            org=tenant_b.org, actor=tenant_b.membership(tenant_b.owner), order=trade, score=5
        )


# --- the operator's resolution ----------------------------------------------------------------


def test_a_refund_reverses_the_entry_refunds_the_order_and_supersedes_the_copy(
    tenant_a, seller, trade, operator, django_capture_on_commit_callbacks
):
    from verifications.models import Verification
    from verifications.selectors.readiness import psv_gaps
    from verifications.selectors.records import valid_verifications

    dispute = _open(tenant_a, trade)
    with tenant_context(tenant_a.org):
        assert valid_verifications(org=tenant_a.org).filter(pk=trade.verification_id).exists()
        credential = trade.verification.credential
        gaps = psv_gaps(
            org=tenant_a.org,
            provider=trade.provider,
            kinds=["state_license"],
            as_of=timezone.localdate(),
        )
        assert credential not in [g.credential for g in gaps]  # the purchase counts
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        resolved = svc.dispute_refund(
            operator=operator, dispute_id=dispute.pk, note="Second page missing, confirmed."
        )

    assert resolved.status == "refunded" and resolved.reversal_entry_id
    from django.db import transaction

    with transaction.atomic(), platform_path():
        original = JournalEntry.objects.get(pk=trade.journal_entry_id)
        reversal = JournalEntry.objects.get(pk=resolved.reversal_entry_id)
        legs = lambda e: sorted(  # noqa: E731
            (str(p.organization_id), p.account.kind, p.amount_cents)
            for p in Posting.objects.filter(entry=e).select_related("account")
        )
        assert reversal.reverses_id == original.pk and reversal.kind == "exchange_refund"
        assert legs(reversal) == sorted((o, k, -a) for o, k, a in legs(original))
    assert _balance(tenant_a.org.pk, "exchange_due") == 0
    assert _balance(seller.org.pk, "exchange_proceeds") == 0
    assert _platform_balance("platform_fees") == 0

    with tenant_context(tenant_a.org):
        order = Order.objects.get(pk=trade.pk)
        assert order.status == "refunded" and order.refunded_at is not None
        correction = Verification.objects.get(supersedes_id=trade.verification_id)
        assert correction.result == "unable"
        assert correction.data["exchange_refunded"] is True
        assert correction.data["order_id"] == str(trade.pk)
        assert (
            correction.correction_reason
            == "Refunded on the exchange: Second page missing, confirmed."
        )
        # Neither the superseded copy nor the correction counts toward the window any more.
        counting = valid_verifications(org=tenant_a.org)
        assert not counting.filter(pk__in=[trade.verification_id, correction.pk]).exists()
        gaps = psv_gaps(
            org=tenant_a.org,
            provider=trade.provider,
            kinds=["state_license"],
            as_of=timezone.localdate(),
        )
        assert credential in [g.credential for g in gaps]

    assert sorted(m.to[0] for m in mail.outbox) == ["exchange@a.example", "exchange@river.example"]
    assert all("refund" in m.body for m in mail.outbox)
    for chain in (tenant_a.org.pk, seller.org.pk, None):
        assert len(_events(chain, "exchange.dispute.refunded")) == 1
    assert len(_events(tenant_a.org.pk, "verifications.verification.corrected")) == 1


def test_a_refund_after_the_seller_was_paid_out_is_a_conflict_and_changes_nothing(
    tenant_a, seller, trade, operator
):
    dispute = _open(tenant_a, trade)
    make_payout(seller, 3000)
    with pytest.raises(Conflict) as refused:
        svc.dispute_refund(operator=operator, dispute_id=dispute.pk, note="Refund please")
    assert refused.value.code == "refund_refused_by_ledger"
    with tenant_context(tenant_a.org):
        assert Dispute.objects.get(pk=dispute.pk).status == "open"
        assert Order.objects.get(pk=trade.pk).status == "completed"
    assert _balance(tenant_a.org.pk, "exchange_due") == 3300


def test_a_rejection_needs_a_reason_and_tells_both_parties(
    tenant_a, seller, trade, operator, django_capture_on_commit_callbacks
):
    dispute = _open(tenant_a, trade)
    with pytest.raises(InvalidInput):
        svc.dispute_reject(operator=operator, dispute_id=dispute.pk, reason="  ")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        rejected = svc.dispute_reject(
            operator=operator, dispute_id=dispute.pk, reason="The record matches the source."
        )
    assert rejected.status == "rejected" and rejected.resolution_note
    assert sorted(m.to[0] for m in mail.outbox) == ["exchange@a.example", "exchange@river.example"]
    for chain in (tenant_a.org.pk, seller.org.pk, None):
        assert len(_events(chain, "exchange.dispute.rejected")) == 1
    with pytest.raises(Conflict):
        svc.dispute_refund(operator=operator, dispute_id=dispute.pk, note="changed my mind")
    assert _balance(tenant_a.org.pk, "exchange_due") == 3300


def test_only_the_operator_resolves_disputes(tenant_a, trade):
    dispute = _open(tenant_a, trade)
    with pytest.raises(Forbidden):
        svc.dispute_refund(operator=tenant_a.owner, dispute_id=dispute.pk, note="x")
    with pytest.raises(Forbidden):
        svc.dispute_reject(operator=tenant_a.owner, dispute_id=dispute.pk, reason="x")


# --- pages -----------------------------------------------------------------------------------


def _url(name, tenant, **kwargs):
    return reverse(name, kwargs={"org_slug": tenant.org.slug, **kwargs})


def test_the_statement_page_shows_totals_and_rows_for_the_seller_admin(seller, trade, login):
    response = login(seller.admin).get(_url("exchange_statement", seller))
    assert response.status_code == 200
    page = response.content.decode()
    assert "$30.00" in page  # proceeds balance and the sale's amount
    assert "Acme Health" in page  # the buyer, from the member directory
    assert "Exchange proceeds" in page


def test_the_statement_is_read_by_owner_admin_and_auditor_but_not_the_coordinator(
    tenant_a, trade, login, client, tenant_b
):
    url = _url("exchange_statement", tenant_a)
    for user, status in [
        (tenant_a.owner, 200),
        (tenant_a.admin, 200),
        (tenant_a.auditor, 200),
        (tenant_a.coordinator, 403),
        (tenant_b.owner, 404),
    ]:
        assert login(user).get(url).status_code == status, user
    client.logout()
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_the_statement_csv_has_every_posting_and_neutralizes_formulas(tenant_a, seller, login):
    make_trade(tenant_a, seller, npi_seed=7301, seller_name='=HYPERLINK("http://evil")')
    make_trade(tenant_a, seller, npi_seed=7302, price_cents=4000, fee_cents=400)
    response = login(tenant_a.auditor).get(_url("exchange_statement", tenant_a) + "?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["date", "account", "entry"]
    body = rows[1:]
    assert [int(r[-1]) for r in body] == [7700, 3300]  # running balance, newest first
    counterparties = {r[6] for r in body}
    assert '\'=HYPERLINK("http://evil")' in counterparties
    assert not any(cell.startswith(("=", "+", "@")) for r in body for cell in r)
    assert len(_events(tenant_a.org.pk, "exchange.statement.exported")) == 1


def test_the_buyer_rates_from_the_order_actions_and_a_second_rating_is_refused(
    tenant_a, seller, trade, login
):
    client = login(tenant_a.coordinator)
    url = _url("exchange_order_rate", tenant_a, order_id=trade.pk)
    response = client.post(url, {"score": "4", "comment": "Clear evidence."})
    assert response.status_code == 302
    assert response["Location"] == _url("exchange_order", tenant_a, order_id=trade.pk)
    again = client.post(url, {"score": "1"})
    assert again.status_code == 409
    assert "already been rated" in again.content.decode()
    entry = MemberDirectory.objects.get(member_id=seller.org.pk)
    assert (entry.rating_sum, entry.rating_count) == (4, 1)


@pytest.mark.parametrize("body", [{}, {"score": "9"}, {"score": "4", "comment": "x" * 5000}])
def test_a_bad_rating_form_is_a_400_and_nothing_is_written(tenant_a, trade, login, body):
    response = login(tenant_a.owner).post(
        _url("exchange_order_rate", tenant_a, order_id=trade.pk), body
    )
    assert response.status_code == 400
    with tenant_context(tenant_a.org):
        assert not Rating.objects.exists()


def test_order_actions_refuse_the_auditor_the_outsider_the_seller_and_anonymous(
    tenant_a, tenant_b, seller, trade, login, client
):
    rate = _url("exchange_order_rate", tenant_a, order_id=trade.pk)
    dispute = _url("exchange_order_dispute", tenant_a, order_id=trade.pk)
    body = {"score": "5", "reason": "stale", "description": "Old."}
    assert login(tenant_a.auditor).post(rate, body).status_code == 403
    assert login(tenant_a.auditor).post(dispute, body).status_code == 403
    assert (
        login(tenant_b.owner)
        .post(_url("exchange_order_rate", tenant_b, order_id=trade.pk), body)
        .status_code
        == 404
    )
    seller_rate = _url("exchange_order_rate", seller, order_id=trade.pk)
    seller_dispute = _url("exchange_order_dispute", seller, order_id=trade.pk)
    assert login(seller.owner).post(seller_rate, body).status_code == 403
    assert login(seller.owner).post(seller_dispute, body).status_code == 403
    client.logout()
    assert client.post(rate, body).status_code == 302
    assert login(tenant_a.owner).get(rate).status_code == 405
    with unscoped():
        assert not Rating.objects.filter(order_id=trade.pk).exists()
        assert not Dispute.objects.filter(order_id=trade.pk).exists()


def test_the_buyer_opens_a_dispute_from_the_order_and_both_sides_list_it(
    tenant_a, seller, trade, login
):
    client = login(tenant_a.owner)
    response = client.post(
        _url("exchange_order_dispute", tenant_a, order_id=trade.pk),
        {"reason": "wrong_clinician", "description": "Different middle name and DOB."},
    )
    assert response.status_code == 302
    again = client.post(
        _url("exchange_order_dispute", tenant_a, order_id=trade.pk),
        {"reason": "other", "description": "Again."},
    )
    assert again.status_code == 409
    buyer_page = client.get(_url("exchange_disputes", tenant_a)).content.decode()
    assert "Your purchase" in buyer_page and "Riverbend Medical Group" in buyer_page
    seller_page = login(seller.auditor).get(_url("exchange_disputes", seller)).content.decode()
    assert "Your sale" in seller_page and "Acme Health" in seller_page
    resolved = client.get(_url("exchange_disputes", tenant_a) + "?status=resolved").content
    assert b"Your purchase" not in resolved


def test_the_disputes_page_is_empty_for_an_outsider_and_asks_anonymous_to_sign_in(
    tenant_b, trade, login, client
):
    _open_page = login(tenant_b.owner).get(_url("exchange_disputes", tenant_b))
    assert _open_page.status_code == 200 and b"Your purchase" not in _open_page.content
    client.logout()
    assert client.get(_url("exchange_disputes", tenant_b)).status_code == 302


def test_the_order_actions_include_renders_for_the_buyer(tenant_a, trade, rf):
    from django.template.loader import render_to_string

    from exchange.selectors.aftertrade import order_actions

    with tenant_context(tenant_a.org):
        context = order_actions(org=tenant_a.org, order=trade)
    html = render_to_string(
        "exchange/aftertrade/_order_actions.html", {**context, "org": tenant_a.org}
    )
    assert 'name="score"' in html and 'name="reason"' in html
    assert _url("exchange_order_rate", tenant_a, order_id=trade.pk) in html


# --- the operator's console ------------------------------------------------------------------


def test_the_operator_refunds_from_the_console(tenant_a, seller, trade, operator, client):
    dispute = _open(tenant_a, trade)
    client.force_login(operator, backend="allauth.account.auth_backends.AuthenticationBackend")
    url = reverse("operator_disputes")
    page = client.get(url)
    assert page.status_code == 200 and b"Acme Health" in page.content
    missing_note = client.post(url, {"dispute_id": dispute.pk, "action": "refund", "note": ""})
    assert missing_note.status_code == 400
    done = client.post(url, {"dispute_id": dispute.pk, "action": "refund", "note": "Confirmed."})
    assert done.status_code == 302
    with tenant_context(tenant_a.org):
        assert Dispute.objects.get(pk=dispute.pk).status == "refunded"
    assert client.get(url + "?status=resolved").content.count(b"Refunded") >= 1


def test_the_operator_rejects_from_the_console_with_a_reason(tenant_a, trade, operator, client):
    dispute = _open(tenant_a, trade)
    client.force_login(operator, backend="allauth.account.auth_backends.AuthenticationBackend")
    url = reverse("operator_disputes")
    done = client.post(url, {"dispute_id": dispute.pk, "action": "reject", "note": "Matches."})
    assert done.status_code == 302
    with tenant_context(tenant_a.org):
        assert Dispute.objects.get(pk=dispute.pk).resolution_note == "Matches."
    unknown = client.post(
        url, {"dispute_id": str(dispute.order_id), "action": "reject", "note": "x"}
    )
    assert unknown.status_code == 404


def test_the_operator_console_is_404_for_members_and_asks_anonymous_to_sign_in(
    tenant_a, trade, login, client
):
    dispute = _open(tenant_a, trade)
    url = reverse("operator_disputes")
    member = login(tenant_a.owner)
    assert member.get(url).status_code == 404
    assert (
        member.post(url, {"dispute_id": dispute.pk, "action": "refund", "note": "x"}).status_code
        == 404
    )
    client.logout()
    assert client.get(url).status_code == 302
    with tenant_context(tenant_a.org):
        assert Dispute.objects.get(pk=dispute.pk).status == "open"


# --- the API ---------------------------------------------------------------------------------


def api(client, method, path, body=None, **extra):
    import json

    data = json.dumps(body) if body is not None else ""
    return client.generic(method, f"/api/v1/{path}", data, content_type="application/json", **extra)


def _key(tenant, role):
    from credex.services import api_key_create

    with tenant_context(tenant.org):
        return {
            "HTTP_AUTHORIZATION": "Api-Key "
            + api_key_create(
                org=tenant.org, actor=tenant.membership(tenant.owner), name=role, role=role
            )[1]
        }


def test_the_api_statement_gives_balances_and_postings(seller, trade, client):
    body = api(client, "GET", "exchange/statement", **_key(seller, "auditor")).json()
    assert body["proceeds_balance_cents"] == 3000 and body["purchases_due_cents"] == 0
    (row,) = body["postings"]
    assert row["order_id"] == str(trade.pk) and row["counterparty"] == "Acme Health"
    assert row["amount_cents"] == 3000 and row["balance_cents"] == 3000
    bad = api(client, "GET", "exchange/statement?limit=0", **_key(seller, "auditor"))
    assert bad.status_code == 400 and set(bad.json()) == {"code", "message", "details"}


def test_the_api_rates_once_and_refuses_the_seller_and_the_auditor(tenant_a, seller, trade, client):
    path = f"exchange/orders/{trade.pk}/rating"
    assert api(client, "POST", path, {"score": 5}).status_code == 401
    assert api(client, "POST", path, {"score": 5}, **_key(tenant_a, "auditor")).status_code == 403
    assert api(client, "POST", path, {"score": 5}, **_key(seller, "admin")).status_code == 403
    created = api(
        client, "POST", path, {"score": 5, "comment": "Good"}, **_key(tenant_a, "coordinator")
    )
    assert created.status_code == 201 and created.json()["score"] == 5
    again = api(client, "POST", path, {"score": 3}, **_key(tenant_a, "admin"))
    assert again.status_code == 409 and again.json()["code"] == "already_rated"


def test_the_api_opens_and_lists_disputes(tenant_a, seller, trade, client, tenant_b):
    body = {"order_id": str(trade.pk), "reason": "stale", "description": "Older than listed."}
    created = api(client, "POST", "exchange/disputes", body, **_key(tenant_a, "coordinator"))
    assert created.status_code == 201 and created.json()["side"] == "buyer"
    again = api(client, "POST", "exchange/disputes", body, **_key(tenant_a, "coordinator"))
    assert again.status_code == 409
    sold = api(client, "GET", "exchange/disputes", **_key(seller, "auditor")).json()
    assert [d["side"] for d in sold] == ["seller"]
    outsider = api(client, "POST", "exchange/disputes", body, **_key(tenant_b, "admin"))
    assert outsider.status_code == 404
    assert api(client, "GET", "exchange/disputes", **_key(tenant_b, "admin")).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"order_id": "not-a-uuid", "reason": "stale", "description": "x"},
        {"reason": "stale", "description": "x"},
        {"order_id": None, "reason": "bogus", "description": "x"},
        {"order_id": "00000000-0000-4000-8000-000000000000", "reason": "stale", "description": "x"},
        {"reason": "stale", "description": "x" * 5000},
        ["not", "an", "object"],
    ],
)
def test_hostile_dispute_bodies_are_4xx_with_the_error_shape_and_write_nothing(
    tenant_a, trade, client, body
):
    if isinstance(body, dict) and "description" in body and len(body["description"]) > 100:
        body["order_id"] = str(trade.pk)
    response = api(client, "POST", "exchange/disputes", body, **_key(tenant_a, "admin"))
    assert 400 <= response.status_code < 500
    assert set(response.json()) == {"code", "message", "details"}
    with tenant_context(tenant_a.org):
        assert not Dispute.objects.exists()


def test_a_nul_byte_in_a_rating_comment_is_refused(tenant_a, trade, client):
    response = api(
        client,
        "POST",
        f"exchange/orders/{trade.pk}/rating",
        {"score": 4, "comment": "ok\u0000"},
        **_key(tenant_a, "admin"),
    )
    assert response.status_code == 400
    with tenant_context(tenant_a.org):
        assert not Rating.objects.exists()


def test_after_a_refund_the_statement_shows_the_reversal_against_the_same_order(
    tenant_a, seller, trade, operator
):
    from exchange.selectors.statement import statement_for

    dispute = _open(tenant_a, trade)
    svc.dispute_refund(operator=operator, dispute_id=dispute.pk, note="Confirmed.")
    with tenant_context(seller.org):
        sales = statement_for(org=seller.org)
    assert [(r.entry_kind, r.amount_cents, r.balance_cents) for r in sales.rows] == [
        ("exchange_refund", -3000, 0),
        ("exchange_purchase", 3000, 3000),
    ]
    assert {r.order_id for r in sales.rows} == {trade.pk}
    assert sales.proceeds_cents == 0


@pytest.mark.parametrize(
    "value,shown",
    [(12345, "$123.45"), (0, "$0.00"), (-500, "-$5.00"), (123456789, "$1,234,567.89"), (None, "")],
)
def test_the_cents_filter_shows_dollars_and_cents(value, shown):
    from exchange.templatetags.exchange_money import cents

    assert cents(value) == shown


def test_a_refund_supersedes_the_newest_record_when_the_buyer_corrected_its_copy(
    tenant_a, trade, operator
):
    from verifications.models import Verification
    from verifications.services.records import verification_correct

    with tenant_context(tenant_a.org):
        corrected = verification_correct(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            verification=trade.verification,
            reason="Typo in the details",
            details="License active.",
        )
    dispute = _open(tenant_a, trade)
    svc.dispute_refund(operator=operator, dispute_id=dispute.pk, note="Confirmed.")
    with tenant_context(tenant_a.org):
        head = Verification.objects.get(supersedes=corrected)
        assert head.result == "unable" and head.data["exchange_refunded"] is True
        assert head.details == "License active."
