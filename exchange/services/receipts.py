"""Receipts (placeholder in the purchases branch).

TODO(receipts helper): the real module (Ed25519 signature over the canonical JSON of the
order, key ids, receipt_verify) lives on the x-receipts branch; the lead takes that file at
merge. This stand-in only keeps `purchase_make` whole: same signature, an unsigned row.
"""

from __future__ import annotations

from exchange.models import Receipt


def receipt_issue(*, order, verification, evidence) -> Receipt:
    """Create the order's Receipt row (unsigned here: see the TODO above)."""
    return Receipt.objects.create(
        organization_id=order.organization_id,
        order=order,
        seller_organization_id=order.seller_organization_id,
        key_id="",
        payload={"order_id": str(order.pk)},
        signature="",
    )
