"""Reads of a purchase for its two parties: the order (buyer or seller), its receipt, and the
purchased record (buyer only: the seller never holds the copy).

An order and its receipt are the buyer's rows; the seller reads them through the RLS policy
that admits `seller_organization` (the ORM scope is lifted for that one read, the explicit
filter names both parties, and the database refuses anyone else)."""

from __future__ import annotations

import uuid

from django.db.models import Q

from credex.errors import NotFound
from credex.tenancy import unscoped


def _pk(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound("Not found.")


def order_for_party(*, org, order_id):
    """The order when `org` bought or sold it; NotFound otherwise."""
    from exchange.models import Order

    with unscoped():
        order = (
            Order.objects.filter(pk=_pk(order_id))
            .filter(Q(organization_id=org.pk) | Q(seller_organization_id=org.pk))
            .first()
        )
    if order is None:
        raise NotFound("Not found.")
    return order


def order_for_buyer(*, org, order_id):
    """The order when `org` bought it (the seller gets NotFound: it has no copied record)."""
    from exchange.models import Order

    order = (
        Order.objects.filter(organization=org, pk=_pk(order_id))
        .select_related("verification", "provider")
        .first()
    )
    if order is None:
        raise NotFound("Not found.")
    return order


def receipt_for_order(*, org, order):
    """The order's receipt (readable by buyer and seller); NotFound when none was issued."""
    from exchange.models import Receipt

    with unscoped():
        receipt = (
            Receipt.objects.filter(order_id=order.pk)
            .filter(Q(organization_id=org.pk) | Q(seller_organization_id=org.pk))
            .first()
        )
    if receipt is None:
        raise NotFound("This order has no receipt.")
    return receipt


def order_evidence(*, org, order) -> list:
    """The buyer's copied evidence rows of the purchased record."""
    from verifications.models import VerificationEvidence

    return list(
        VerificationEvidence.objects.filter(organization=org, verification_id=order.verification_id)
    )


def record_superseded(*, org, verification) -> bool:
    from verifications.models import Verification

    return Verification.objects.filter(organization=org, supersedes=verification).exists()


def purchased_record(*, org, order) -> dict:
    """The purchased record as JSON for a buyer on another system: details, provenance, the
    evidence's metadata with its (audited) download paths, and the signed receipt."""
    from exchange.services.receipts import receipt_document

    verification = order.verification
    evidence = order_evidence(org=org, order=order)
    try:
        receipt = receipt_document(receipt_for_order(org=org, order=order))
    except NotFound:
        receipt = None
    return {
        "order": {
            "id": str(order.pk),
            "listing_id": str(order.listing_id),
            "status": order.status,
            "seller_organization": {
                "id": str(order.seller_organization_id),
                "name": order.seller_name,
            },
            "bought_at": order.created_at.isoformat(),
            "bought_by": order.bought_by_label,
            "price_cents": order.price_cents,
            "fee_cents": order.fee_cents,
            "total_cents": order.total_cents,
        },
        "clinician": {
            "provider_id": str(order.provider_id),
            "npi": order.npi,
            "name": order.clinician_name,
        },
        "record": {
            "id": str(verification.pk),
            "source": verification.source,
            "source_label": verification.get_source_display(),
            "source_state": verification.source_state,
            "source_name": verification.source_name,
            "method": verification.method,
            "result": verification.result,
            "verified_at": verification.verified_at.isoformat(),
            "details": verification.details,
            "reference": verification.reference,
            "data": {k: v for k, v in (verification.data or {}).items() if k != "exchange"},
            "superseded": record_superseded(org=org, verification=verification),
        },
        "provenance": (verification.data or {}).get("exchange") or {},
        "evidence": [
            {
                "id": str(item.pk),
                "original_name": item.original_name,
                "content_type": item.content_type,
                "size": item.size,
                "sha256": item.sha256,
                "download": f"/api/v1/verification-evidence/{item.pk}/download",
            }
            for item in evidence
        ],
        "receipt": receipt,
    }


def order_packet_pdf(*, org, order) -> bytes:
    """The purchase's PDF packet (receipt, record, evidence), built from the buyer's rows."""
    from exchange.receipt_packet import build_order_packet
    from exchange.services.receipts import receipt_document

    try:
        document = receipt_document(receipt_for_order(org=org, order=order))
    except NotFound:
        document = None
    return build_order_packet(
        order=order,
        receipt_document=document,
        record=purchased_record(org=org, order=order),
        evidence=order_evidence(org=org, order=order),
    )
