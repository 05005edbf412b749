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
from tests.conftest import PASSWORD, build_tenant, make_user
from tests.exchange_trades import make_member, make_payout, make_trade

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
