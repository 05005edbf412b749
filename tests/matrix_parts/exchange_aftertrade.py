"""Permission-matrix part: the exchange after the trade (rating an order's seller, opening a
dispute). Org A is the buyer of one finished trade from a third organization (so org B stays
an outsider to it): `order_id` names that order."""

from __future__ import annotations

BODIES: dict = {
    ("api_exchange_order_rating", "POST"): {"score": 4, "comment": "matrix"},
    ("api_exchange_disputes", "POST"): {
        "order_id": "<order_id>",
        "reason": "incomplete",
        "description": "matrix",
    },
}
READS_BY_POST: set = set()


def ids(tenant, base: dict) -> dict:
    from tests.conftest import build_tenant
    from tests.exchange_trades import make_trade

    seller = build_tenant("Matrix Seller", "matrix-seller.example", roles=())
    order = make_trade(tenant, seller, npi_seed=9901)
    BODIES[("api_exchange_disputes", "POST")]["order_id"] = str(order.pk)
    return {"order_id": order.pk}


def snapshot(org) -> dict:
    from credex.tenancy import tenant_context
    from exchange.models import Dispute, Rating

    with tenant_context(org):
        return {
            "exchange_ratings": sorted(Rating.objects.values_list("id", "score")),
            "exchange_disputes": sorted(Dispute.objects.values_list("id", "status")),
        }
