"""Two price votes at once leave a market rate that counts both (real commits, real threads)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connections

from credex.tenancy import tenant_context
from exchange.models import MarketRate, PriceVote
from exchange.selectors import pricing as sel
from exchange.services.pricing import price_vote_cast
from tests.conftest import build_tenant
from tests.test_exchange_pricing import approve, owner_of, rate


@pytest.mark.usefixtures("committed_db")
def test_two_votes_at_once_leave_the_rate_of_every_vote():
    """Six members vote `oig` at the same moment: the rate left behind counts all six votes
    (without the per-(quarter, type) lock a recomputation could miss a vote committed
    meanwhile)."""
    quarter = sel.quarter_of()
    tenants = []
    for n in range(6):
        tag = uuid.uuid4().hex[:8]
        t = build_tenant(f"Concurrent {n} {tag}", f"c{n}-{tag}.example", roles=())
        approve(t.org)
        tenants.append(t)
    members = [owner_of(t) for t in tenants]
    prices = [1000, 1100, 1200, 1300, 1400, 1500]
    barrier = threading.Barrier(len(tenants))
    errors = []

    def cast(t, member, cents):
        try:
            barrier.wait(timeout=10)
            with tenant_context(t.org):
                price_vote_cast(org=t.org, actor=member, source="oig", price_cents=cents)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=cast, args=args)
        for args in zip(tenants, members, prices, strict=True)
    ]
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=30)
        assert errors == []
        final = rate("oig", quarter)
        assert (final.vote_count, final.basis, final.rate_cents) == (6, "median", 1250)
    finally:
        for t in tenants:
            with tenant_context(t.org):
                PriceVote.objects.filter(organization=t.org).delete()
        MarketRate.objects.filter(quarter=quarter, source="oig").delete()
