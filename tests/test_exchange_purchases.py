"""Purchases on the exchange (issue 12 item 6)."""

from __future__ import annotations

import uuid

import pytest

from credex.tenancy import tenant_context
from exchange.models import Order
from exchange.services.purchases import purchase_make
from tests.conftest import build_tenant
from tests.exchange_fixtures import build_trade


@pytest.fixture
def seller(db):
    return build_tenant("Riverbend Health", "riverbend.example", roles=("admin",))


@pytest.fixture
def buyer(db):
    return build_tenant("Lakeside Clinic", "lakeside.example")


def buy(trade, *, key=None, reason="", actor=None):
    buyer = trade.buyer
    actor = actor or buyer.membership(buyer.coordinator)
    with tenant_context(buyer.org):
        return purchase_make(
            org=buyer.org,
            actor=actor,
            listing_id=trade.listing.pk,
            idempotency_key=key or str(uuid.uuid4()),
            override_reason=reason,
        )


def test_smoke(seller, buyer):
    trade = build_trade(seller, buyer)
    order, created = buy(trade)
    assert created
    with tenant_context(buyer.org):
        assert Order.objects.count() == 1
