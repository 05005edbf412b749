"""Exchange pages: an order's signed receipt (both parties), its PDF packet and its record
JSON (the buyer only: the seller holds no copy). Downloads are audited as reads."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from credex import capabilities as cap
from credex.errors import InvalidInput
from credex.views import capability_required
from exchange.selectors import receipts as sel
from exchange.services import receipts as svc


def _json_download(data: dict, filename: str) -> HttpResponse:
    body = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
    response = HttpResponse(body.encode(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def pdf_response(order, pdf: bytes) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="exchange-order-{order.pk}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@capability_required(cap.VIEW_EXCHANGE)
def exchange_order_receipt(request, org_slug, order_id):
    """The receipt: a page for people, `?download=1` for the signed JSON document."""
    org = request.org
    order = sel.order_for_party(org=org, order_id=order_id)
    receipt = sel.receipt_for_order(org=org, order=order)
    document = svc.receipt_document(receipt)
    if request.GET.get("download") == "1":
        svc.order_download_record(org=org, actor=request.membership, order=order, part="receipt")
        return _json_download(document, f"exchange-receipt-{order.pk}.json")
    try:
        check = svc.receipt_verify(document=document, org=org)
    except InvalidInput:  # a stored row that is no receipt (never issued by the signer)
        check = {"valid": False, "problems": ["This receipt cannot be read."]}
    svc.order_download_record(
        org=org, actor=request.membership, order=order, part="receipt", viewed=True
    )
    context = {
        "tab": "orders",
        "order": order,
        "receipt": receipt,
        "payload": receipt.payload if isinstance(receipt.payload, dict) else {},
        "check": check,
        "is_buyer": order.organization_id == org.pk,
    }
    return render(request, "exchange/receipts/receipt.html", context)


@require_GET
@capability_required(cap.VIEW_EXCHANGE)
def exchange_order_packet(request, org_slug, order_id):
    """The purchase as a PDF packet (buyer only)."""
    org = request.org
    order = sel.order_for_buyer(org=org, order_id=order_id)
    pdf = sel.order_packet_pdf(org=org, order=order)
    svc.order_download_record(org=org, actor=request.membership, order=order, part="packet")
    return pdf_response(order, pdf)


@require_GET
@capability_required(cap.VIEW_EXCHANGE)
def exchange_order_json(request, org_slug, order_id):
    """The purchased record as JSON (buyer only)."""
    org = request.org
    order = sel.order_for_buyer(org=org, order_id=order_id)
    record = sel.purchased_record(org=org, order=order)
    svc.order_download_record(org=org, actor=request.membership, order=order, part="json")
    return _json_download(record, f"exchange-record-{order.pk}.json")


urlpatterns = [
    path(
        "orders/<uuid:order_id>/receipt/",
        exchange_order_receipt,
        name="exchange_order_receipt",
    ),
    path("orders/<uuid:order_id>/packet/", exchange_order_packet, name="exchange_order_packet"),
    path("orders/<uuid:order_id>/record/", exchange_order_json, name="exchange_order_json"),
]
