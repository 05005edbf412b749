"""Exchange API after the trade (under /api/v1/exchange/): the statement, a rating of an
order's seller, and disputes (list; open one)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import OrgAPIView
from credex.errors import InvalidInput
from exchange.models import Dispute, DisputeReason, Rating
from exchange.selectors.aftertrade import disputes_for, order_for_party
from exchange.selectors.statement import statement_for
from exchange.services import aftertrade as svc

STATEMENT_MAX_ROWS = 5000


class StatementRowOut(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    account = serializers.CharField()
    entry_kind = serializers.CharField()
    memo = serializers.CharField()
    amount_cents = serializers.IntegerField()
    balance_cents = serializers.IntegerField()
    order_id = serializers.UUIDField(allow_null=True)
    clinician = serializers.CharField()
    verification = serializers.CharField()
    counterparty = serializers.CharField()


StatementOut = inline_serializer(
    "ExchangeStatement",
    {
        "proceeds_balance_cents": serializers.IntegerField(),
        "purchases_due_cents": serializers.IntegerField(),
        "postings": StatementRowOut(many=True),
    },
)


class StatementView(OrgAPIView):
    """The organization's exchange statement: balances and every posting, newest first.
    Owners, admins and auditors (`audit.view`)."""

    required_capabilities = {"GET": cap.VIEW_AUDIT}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description=f"newest rows only (1-{STATEMENT_MAX_ROWS})"
            )
        ],
        responses=StatementOut,
        summary="Exchange statement",
    )
    def get(self, request):
        raw = request.query_params.get("limit", "")
        limit = STATEMENT_MAX_ROWS
        if raw:
            try:
                limit = int(raw)
            except ValueError:
                limit = 0
            if not 1 <= limit <= STATEMENT_MAX_ROWS:
                message = f"limit is a number from 1 to {STATEMENT_MAX_ROWS}."
                raise InvalidInput(message, details={"limit": message})
        return Response(statement_for(org=self.org, limit=limit).as_dict())


class RatingIn(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=svc.COMMENT_MAX
    )


class RatingOut(serializers.ModelSerializer):
    order = serializers.UUIDField(source="order_id")
    seller_organization = serializers.UUIDField(source="seller_organization_id")

    class Meta:
        model = Rating
        fields = ["id", "order", "seller_organization", "score", "comment", "created_at"]


class OrderRatingView(OrgAPIView):
    """The buyer rates the order's seller, once (1-5, an optional comment)."""

    required_capabilities = {"POST": cap.TRADE_EXCHANGE}

    @extend_schema(request=RatingIn, responses={201: RatingOut}, summary="Rate an order's seller")
    def post(self, request, order_id):
        order, _ = order_for_party(org=self.org, order_id=order_id)
        data = RatingIn(data=request.data)
        data.is_valid(raise_exception=True)
        rating = svc.rating_record(
            org=self.org, actor=self.actor, order=order, **data.validated_data
        )
        return Response(RatingOut(rating).data, status=201)


class DisputeIn(serializers.Serializer):
    order_id = serializers.UUIDField()
    reason = serializers.ChoiceField(choices=DisputeReason.choices)
    description = serializers.CharField(max_length=svc.DESCRIPTION_MAX)


class DisputeOut(serializers.ModelSerializer):
    order = serializers.UUIDField(source="order_id")
    buyer_organization = serializers.UUIDField(source="organization_id")
    seller_organization = serializers.UUIDField(source="seller_organization_id")
    side = serializers.SerializerMethodField()

    class Meta:
        model = Dispute
        fields = [
            "id",
            "order",
            "side",
            "buyer_organization",
            "seller_organization",
            "reason",
            "description",
            "status",
            "opened_at",
            "resolved_at",
            "resolution_note",
        ]

    def get_side(self, dispute) -> str:
        org_id = self.context["org_id"]
        return "buyer" if dispute.organization_id == org_id else "seller"


class DisputesView(OrgAPIView):
    """The organization's disputes as buyer and as seller (GET); the buyer opens one (POST)."""

    required_capabilities = {"GET": cap.VIEW_EXCHANGE, "POST": cap.TRADE_EXCHANGE}

    @extend_schema(
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=["open", "resolved"])],
        responses=DisputeOut(many=True),
        summary="Exchange disputes",
    )
    def get(self, request):
        status = request.query_params.get("status") or None
        if status not in (None, "open", "resolved"):
            raise InvalidInput(
                "status is open or resolved.", details={"status": "open or resolved"}
            )
        disputes = disputes_for(org=self.org, status=status)
        return Response(DisputeOut(disputes, many=True, context={"org_id": self.org.pk}).data)

    @extend_schema(request=DisputeIn, responses={201: DisputeOut}, summary="Open a dispute")
    def post(self, request):
        data = DisputeIn(data=request.data)
        data.is_valid(raise_exception=True)
        order, _ = order_for_party(org=self.org, order_id=data.validated_data["order_id"])
        dispute = svc.dispute_open(
            org=self.org,
            actor=self.actor,
            order=order,
            reason=data.validated_data["reason"],
            description=data.validated_data["description"],
        )
        return Response(DisputeOut(dispute, context={"org_id": self.org.pk}).data, status=201)


urlpatterns: list = [
    path("exchange/statement", StatementView.as_view(), name="api_exchange_statement"),
    path(
        "exchange/orders/<uuid:order_id>/rating",
        OrderRatingView.as_view(),
        name="api_exchange_order_rating",
    ),
    path("exchange/disputes", DisputesView.as_view(), name="api_exchange_disputes"),
]
