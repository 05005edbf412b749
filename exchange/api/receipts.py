"""Exchange API: receipts (under /api/v1/exchange/).

- `receipt-keys` (GET, public: no authentication) publishes every receipt key's public half;
- `receipts/verify` (POST, any member) re-checks a receipt, and the record when the caller's
  organization bought it;
- `orders/<id>/receipt` (buyer or seller), `orders/<id>/record` and `orders/<id>/packet`
  (buyer only: the seller holds no copy). Every download is audited as a read.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, renderers, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from credex import capabilities as cap
from credex.api_common import OrgAPIView
from credex.errors import InvalidInput
from exchange.selectors import receipts as sel
from exchange.services import receipts as svc
from exchange.views.receipts import pdf_response
from roster.api.documents import AnyMediaRenderer


class ReceiptKeyOut(serializers.Serializer):
    key_id = serializers.CharField()
    algorithm = serializers.CharField()
    public_key = serializers.CharField(help_text="Base64 of the 32 raw Ed25519 public key bytes.")
    created_at = serializers.DateTimeField()
    retired_at = serializers.DateTimeField(
        allow_null=True, help_text="Set once another key signs; a retired key still verifies."
    )
    active = serializers.SerializerMethodField()

    def get_active(self, obj) -> bool:
        return obj.retired_at is None


class ReceiptKeysOut(serializers.Serializer):
    keys = ReceiptKeyOut(many=True)


class ReceiptDocument(serializers.Serializer):
    algorithm = serializers.CharField(required=False)
    key_id = serializers.CharField()
    payload = serializers.JSONField()
    signature = serializers.CharField()


class VerifyOut(serializers.Serializer):
    valid = serializers.BooleanField()
    signature_valid = serializers.BooleanField()
    key_id = serializers.CharField()
    record_checked = serializers.BooleanField()
    record_matches = serializers.BooleanField(allow_null=True)
    record_superseded = serializers.BooleanField(allow_null=True)
    record_note = serializers.CharField()
    problems = serializers.ListField(child=serializers.CharField())


class ReceiptKeysView(APIView):
    """Public: anyone may fetch the keys to check a receipt (no authentication, no
    organization). Errors keep the API's shape (the project's exception handler)."""

    public = True  # tests/test_permission_matrix.py PUBLIC_ROUTES reviews this
    permission_classes = [permissions.AllowAny]
    required_capabilities: dict = {}

    @extend_schema(responses=ReceiptKeysOut, summary="Receipt signing keys (public halves)")
    def get(self, request):
        return Response({"keys": ReceiptKeyOut(svc.published_keys(), many=True).data})


class ReceiptVerifyView(OrgAPIView):
    required_capabilities = {"POST": cap.VIEW_EXCHANGE}

    @extend_schema(
        request=ReceiptDocument,
        responses=VerifyOut,
        summary="Verify a receipt (and the purchased record, for its buyer)",
    )
    def post(self, request):
        document = request.data
        if not isinstance(document, dict):
            raise InvalidInput("Send the receipt as a JSON object.")
        return Response(svc.receipt_verify(document=dict(document), org=self.org))


class OrderReceiptView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_EXCHANGE}

    @extend_schema(responses=ReceiptDocument, summary="An order's signed receipt (buyer or seller)")
    def get(self, request, order_id):
        order = sel.order_for_party(org=self.org, order_id=order_id)
        document = svc.receipt_document(sel.receipt_for_order(org=self.org, order=order))
        svc.order_download_record(
            org=self.org, actor=self.actor, order=order, part="receipt", via="api"
        )
        return Response(document)


class OrderRecordView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_EXCHANGE}

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="The purchased record as JSON: details, provenance, evidence, receipt (buyer)",
    )
    def get(self, request, order_id):
        order = sel.order_for_buyer(org=self.org, order_id=order_id)
        record = sel.purchased_record(org=self.org, order=order)
        svc.order_download_record(
            org=self.org, actor=self.actor, order=order, part="json", via="api"
        )
        return Response(record)


class OrderPacketView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_EXCHANGE}
    renderer_classes = [renderers.JSONRenderer, AnyMediaRenderer]

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        summary="The purchase as a PDF packet: receipt, details, evidence (buyer)",
    )
    def get(self, request, order_id):
        order = sel.order_for_buyer(org=self.org, order_id=order_id)
        pdf = sel.order_packet_pdf(org=self.org, order=order)
        svc.order_download_record(
            org=self.org, actor=self.actor, order=order, part="packet", via="api"
        )
        return pdf_response(order, pdf)


urlpatterns = [
    path("exchange/receipt-keys", ReceiptKeysView.as_view(), name="api_exchange_receipt_keys"),
    path(
        "exchange/receipts/verify",
        ReceiptVerifyView.as_view(),
        name="api_exchange_receipts_verify",
    ),
    path(
        "exchange/orders/<uuid:order_id>/receipt",
        OrderReceiptView.as_view(),
        name="api_exchange_order_receipt",
    ),
    path(
        "exchange/orders/<uuid:order_id>/record",
        OrderRecordView.as_view(),
        name="api_exchange_order_record",
    ),
    path(
        "exchange/orders/<uuid:order_id>/packet",
        OrderPacketView.as_view(),
        name="api_exchange_order_packet",
    ),
]
