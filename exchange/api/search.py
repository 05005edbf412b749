"""Exchange API: search (under /api/v1/exchange/): `GET exchange/search?npi=` or `?q=`.

Approved members only (403 not_a_member otherwise). Listings of other members grouped by
clinician, each with `fulfils_requirements` and `unmet` [{rule, message}].
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import OrgAPIView
from exchange.selectors.search import search_listings
from roster.services.providers import provider_list_record_read


class UnmetOut(serializers.Serializer):
    rule = serializers.CharField()
    message = serializers.CharField()


class FoundOut(serializers.Serializer):
    id = serializers.UUIDField()
    npi = serializers.CharField()
    clinician_name = serializers.CharField()
    source = serializers.CharField()
    source_label = serializers.CharField()
    source_state = serializers.CharField()
    source_name = serializers.CharField()
    method = serializers.CharField()
    method_label = serializers.CharField()
    verified_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    days_left = serializers.IntegerField()
    seller_organization_id = serializers.UUIDField()
    seller_name = serializers.CharField()
    seller_rating = serializers.FloatField(allow_null=True)
    seller_trades = serializers.IntegerField()
    price_cents = serializers.IntegerField()
    fulfils_requirements = serializers.BooleanField()
    unmet = UnmetOut(many=True)


class ClinicianOut(serializers.Serializer):
    npi = serializers.CharField()
    clinician_name = serializers.CharField()
    on_roster = serializers.BooleanField()
    roster_provider_id = serializers.UUIDField(allow_null=True)
    listings = FoundOut(many=True)


class SearchOut(serializers.Serializer):
    results = ClinicianOut(many=True)


class SearchView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_EXCHANGE}

    @extend_schema(
        parameters=[
            OpenApiParameter("npi", OpenApiTypes.STR, description="a clinician's NPI (10 digits)"),
            OpenApiParameter("q", OpenApiTypes.STR, description="at least 3 letters of a name"),
        ],
        responses=SearchOut,
        summary="Search the exchange by NPI or clinician name",
    )
    def get(self, request):
        groups = search_listings(
            org=self.org,
            npi=request.query_params.get("npi", "")[:40],
            q=request.query_params.get("q", "")[:200],
        )
        provider_list_record_read(
            org=self.org,
            actor=self.actor,
            providers=[g.roster_provider_id for g in groups],
            part="exchange_search",
            via="api",
        )
        return Response({"results": [g.as_dict() for g in groups]})


urlpatterns = [
    path("exchange/search", SearchView.as_view(), name="api_exchange_search"),
]
