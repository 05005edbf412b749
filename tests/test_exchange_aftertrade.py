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
    from django.db import transaction

    with transaction.atomic(), platform_path():
        pass
    with unscoped():
        qs = AuditEvent.objects.filter(action=action)
        qs = qs.filter(organization_id=org_id) if org_id else qs.filter(organization__isnull=True)
        return list(qs)


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


def test_the_statement_lists_every_posting_newest_first_with_running_balances(
    tenant_a, seller
):
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
