"""Permission-matrix part: exchange purchases and orders.

Org A (the matrix's tenant) is an approved member that bought one listing from a seller
organization built here (ids `order_id`), and a second listing of that seller is for sale
(the POST body's `listing_id`). The matrix sends no Idempotency-Key header, so an allowed
caller gets 400 `idempotency_key_required` and nothing is bought; the purchase itself is
covered in tests/test_exchange_purchases.py.
"""

from __future__ import annotations

import uuid

BODIES: dict = {}
READS_BY_POST: set = set()


def ids(tenant, base: dict) -> dict:
    from credex.tenancy import tenant_context
    from exchange.services.purchases import purchase_make
    from tests.conftest import build_tenant
    from tests.exchange_fixtures import build_trade

    seller = build_tenant("Matrix Seller", f"seller-{uuid.uuid4().hex[:6]}.example", roles=())
    bought = build_trade(seller, tenant, seed=7171)
    spare = build_trade(seller, tenant, seed=7272)
    with tenant_context(tenant.org):
        order, _ = purchase_make(
            org=tenant.org,
            actor=tenant.membership(tenant.owner),
            listing_id=bought.listing.pk,
            idempotency_key="matrix-order",
        )
    BODIES[("api_exchange_purchases", "POST")]["listing_id"] = str(spare.listing.pk)
    return {"order_id": order.pk}


BODIES[("api_exchange_purchases", "POST")] = {"listing_id": str(uuid.uuid4())}


def snapshot(org) -> dict:
    from credex.tenancy import tenant_context
    from exchange.models import Order

    with tenant_context(org):
        return {"exchange_orders": sorted(Order.objects.values_list("id", "status"))}
