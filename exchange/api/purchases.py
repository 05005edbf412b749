"""Exchange API: purchases and orders (under /api/v1/exchange/).

- POST purchases {listing_id, override_reason?} with an `Idempotency-Key` header: 201 with
  the order the first time, 200 with the same order on a replay of the same key and body,
  409 `idempotency_key_reused` for the same key with another body;
- GET orders (?role=bought|sold, cursor pagination) and orders/<id>: buyer or seller only.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import CursorPagination, OrgAPIView
from credex.errors import InvalidInput
from exchange.models import Order
from exchange.selectors import orders as sel
from exchange.services.purchases import MAX_OVERRIDE_LENGTH, purchase_make
from roster.services.providers import provider_list_record_read


class OrderOut(serializers.ModelSerializer):
    buyer_organization = serializers.UUIDField(source="organization_id")
    seller_organization = serializers.UUIDField(source="seller_organization_id")
    provider = serializers.SerializerMethodField()
    verification = serializers.SerializerMethodField()
    role = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "role",
            "status",
            "listing_id",
            "buyer_organization",
            "seller_organization",
            "seller_name",
            "npi",
            "clinician_name",
            "source",
            "source_state",
            "original_method",
            "original_verified_at",
            "provider",
            "verification",
            "price_cents",
            "fee_cents",
            "total_cents",
            "overridden_rules",
            "override_reason",
            "journal_entry_id",
            "created_at",
            "refunded_at",
        ]

    def _as_buyer(self, order) -> bool:
        return order.organization_id == self.context["org"].pk

    def get_role(self, order) -> str:
        return "buyer" if self._as_buyer(order) else "seller"

    # The buyer's own rows: the seller sees neither the buyer's provider nor its copy.
    def get_provider(self, order) -> str | None:
        return str(order.provider_id) if self._as_buyer(order) else None

    def get_verification(self, order) -> str | None:
        return str(order.verification_id) if self._as_buyer(order) else None

    def to_representation(self, order):
        data = super().to_representation(order)
        if not self._as_buyer(order):
            data["override_reason"] = ""
            data["overridden_rules"] = []
        return data


class PurchaseIn(serializers.Serializer):
    listing_id = serializers.UUIDField()
    override_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_OVERRIDE_LENGTH, trim_whitespace=True
    )


class OrdersCursor(CursorPagination):
    ordering = ("-created_at", "-id")


class PurchasesView(OrgAPIView):
    """Buy a listing (one atomic purchase; the Idempotency-Key header is required)."""

    required_capabilities = {"POST": cap.TRADE_EXCHANGE}

    @extend_schema(
        request=PurchaseIn,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                location=OpenApiParameter.HEADER,
                required=True,
                description="A client-chosen key (a UUID): the same key returns the same order.",
            )
        ],
        responses={201: OrderOut, 200: OrderOut},
        summary="Buy a listing",
    )
    def post(self, request):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            raise InvalidInput(
                "Send an Idempotency-Key header (a UUID) so a retried purchase is made once.",
                code="idempotency_key_required",
                details={"Idempotency-Key": "Required."},
            )
        body = PurchaseIn(data=request.data)
        body.is_valid(raise_exception=True)
        order, created = purchase_make(
            org=self.org,
            actor=self.actor,
            listing_id=body.validated_data["listing_id"],
            idempotency_key=key,
            override_reason=body.validated_data.get("override_reason", ""),
        )
        data = OrderOut(order, context={"org": self.org}).data
        return Response(data, status=201 if created else 200)


class OrdersView(OrgAPIView):
    """Orders the organization bought (default) or sold, newest first."""

    required_capabilities = {"GET": cap.VIEW_EXCHANGE}

    @extend_schema(
        parameters=[OpenApiParameter("role", OpenApiTypes.STR, enum=list(sel.ROLES))],
        responses=OrderOut(many=True),
        summary="Exchange orders",
    )
    def get(self, request):
        role = request.query_params.get("role", "bought")
        if role not in sel.ROLES:
            raise InvalidInput("role is bought or sold.", details={"role": "Use bought or sold."})
        paginator = OrdersCursor()
        page = paginator.paginate_queryset(sel.orders_for(org=self.org, role=role), request, self)
        provider_list_record_read(
            org=self.org,
            actor=self.actor,
            providers=[o.provider_id for o in page if o.organization_id == self.org.pk],
            part="exchange_orders",
            via="api",
        )
        return paginator.get_paginated_response(
            OrderOut(page, many=True, context={"org": self.org}).data
        )


class OrderView(OrgAPIView):
    """One order, for its buyer or its seller (anyone else: 404)."""

    required_capabilities = {"GET": cap.VIEW_EXCHANGE}

    @extend_schema(responses=OrderOut, summary="One exchange order")
    def get(self, request, order_id):
        order = sel.order_get(org=self.org, order_id=order_id)
        if order.organization_id == self.org.pk:
            provider_list_record_read(
                org=self.org,
                actor=self.actor,
                providers=[order.provider_id],
                part="exchange_order",
                via="api",
            )
        return Response(OrderOut(order, context={"org": self.org}).data)


urlpatterns = [
    path("exchange/purchases", PurchasesView.as_view(), name="api_exchange_purchases"),
    path("exchange/orders", OrdersView.as_view(), name="api_exchange_orders"),
    path("exchange/orders/<uuid:order_id>", OrderView.as_view(), name="api_exchange_order"),
]
