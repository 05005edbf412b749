"""Exchange API: prices (under /api/v1/exchange/). The organization's own votes this quarter
(GET) and casting or changing one (POST {source, price_cents}); this quarter's market rates
with the band and the fee per type, and with ?history=1 every past quarter's rates."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import OrgAPIView
from credex.errors import Conflict
from exchange.models import ExchangeSettings, MarketRate
from exchange.selectors import pricing as sel
from exchange.selectors.directory import member_is_approved
from exchange.services.pricing import price_vote_cast


def _require_member(org) -> None:
    if not member_is_approved(org):
        raise Conflict("Only approved exchange members see prices and vote.", code="not_a_member")


class PriceVoteOut(serializers.Serializer):
    quarter = serializers.CharField()
    source = serializers.CharField()
    price_cents = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class PriceVoteIn(serializers.Serializer):
    source = serializers.ChoiceField(choices=list(sel.PRICED_SOURCES))
    price_cents = serializers.IntegerField(min_value=1, max_value=sel.MAX_PRICE_CENTS)
    quarter = serializers.RegexField(r"^\d{4}Q[1-4]$", required=False)


class MarketRateOut(serializers.Serializer):
    quarter = serializers.CharField()
    source = serializers.CharField()
    rate_cents = serializers.IntegerField()
    basis = serializers.CharField()
    vote_count = serializers.IntegerField()
    band_low_cents = serializers.IntegerField(required=False)
    band_high_cents = serializers.IntegerField(required=False)
    fee_cents = serializers.IntegerField(required=False)


class MarketRatesOut(serializers.Serializer):
    quarter = serializers.CharField()
    fee_basis_points = serializers.IntegerField()
    fee_minimum_cents = serializers.IntegerField()
    price_band_percent = serializers.IntegerField()
    vote_quorum = serializers.IntegerField()
    rates = MarketRateOut(many=True)
    history = MarketRateOut(many=True, required=False)


class PriceVotesView(OrgAPIView):
    """The organization's price votes this quarter; POST casts or changes one."""

    required_capabilities = {"GET": cap.VIEW_EXCHANGE, "POST": cap.MANAGE_EXCHANGE}

    @extend_schema(responses=PriceVoteOut(many=True), summary="Your price votes this quarter")
    def get(self, request):
        _require_member(self.org)
        votes = sel.my_votes(org=self.org).values()
        return Response(PriceVoteOut(sorted(votes, key=lambda v: v.source), many=True).data)

    @extend_schema(request=PriceVoteIn, responses=PriceVoteOut, summary="Vote a price")
    def post(self, request):
        data = PriceVoteIn(data=request.data)
        data.is_valid(raise_exception=True)
        vote = price_vote_cast(org=self.org, actor=self.actor, **data.validated_data)
        return Response(PriceVoteOut(vote).data, status=status.HTTP_201_CREATED)


class MarketRatesView(OrgAPIView):
    """This quarter's market rate per type with the band a seller may list within and the fee
    on a sale at the rate; ?history=1 adds every past quarter's rates."""

    required_capabilities = {"GET": cap.VIEW_EXCHANGE}

    @extend_schema(
        parameters=[OpenApiParameter("history", OpenApiTypes.BOOL, description="past quarters")],
        responses=MarketRatesOut,
        summary="Market rates",
    )
    def get(self, request):
        _require_member(self.org)
        settings = ExchangeSettings.current()
        quarter = sel.quarter_of()
        rates = [
            {
                "quarter": quarter,
                "source": t.source,
                "rate_cents": t.rate_cents,
                "basis": t.basis,
                "vote_count": t.vote_count,
                "band_low_cents": t.band[0],
                "band_high_cents": t.band[1],
                "fee_cents": t.fee_cents,
            }
            for t in sel.pricing_overview(org=self.org, quarter=quarter)
        ]
        body = {
            "quarter": quarter,
            "fee_basis_points": settings.fee_basis_points,
            "fee_minimum_cents": settings.fee_minimum_cents,
            "price_band_percent": settings.price_band_percent,
            "vote_quorum": settings.vote_quorum,
            "rates": rates,
        }
        if request.query_params.get("history") in ("1", "true", "yes"):
            past = MarketRate.objects.exclude(quarter=quarter).order_by("-quarter", "source")
            body["history"] = MarketRateOut(past, many=True).data
        return Response(MarketRatesOut(body).data)


urlpatterns = [
    path("exchange/price-votes", PriceVotesView.as_view(), name="api_exchange_price_votes"),
    path("exchange/market-rates", MarketRatesView.as_view(), name="api_exchange_market_rates"),
]
