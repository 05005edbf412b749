"""Exchange API: the organization's own listings (under /api/v1/exchange/).

GET/POST `exchange/listings` ({verification_id, price_cents|null}), POST `exchange/listings/bulk`
(202, the batch), GET `exchange/listings/batches/<id>` (its progress), POST
`exchange/listings/<id>/pause`, `/resume` and `/withdraw`. A record that cannot be listed is
refused 409 with the rule's code (npdb, not_verified, superseded, excluded, too_old,
not_a_member, not_in_good_standing, no_npi, no_release, already_listed, purchased); a price
outside the band is 400 price_out_of_band.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import OrgAPIView
from exchange.models import Listing, ListingBatch, ListingStatus
from exchange.selectors import listings as sel
from exchange.services import listings as svc
from roster.services.providers import provider_list_record_read


class ListingOut(serializers.ModelSerializer):
    verification_id = serializers.UUIDField()
    provider_id = serializers.UUIDField()
    price_now_cents = serializers.SerializerMethodField()

    class Meta:
        model = Listing
        fields = [
            "id",
            "verification_id",
            "provider_id",
            "npi",
            "clinician_name",
            "source",
            "source_state",
            "source_name",
            "method",
            "verified_at",
            "expires_at",
            "price_cents",
            "price_now_cents",
            "status",
            "status_reason",
            "sale_count",
            "seller_name",
            "created_at",
        ]

    def get_price_now_cents(self, listing) -> int:
        return getattr(listing, "price_now", None) or sel.listing_price_cents(listing)


class ListingIn(serializers.Serializer):
    verification_id = serializers.UUIDField()
    price_cents = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=svc.MAX_PRICE_CENTS
    )


class BatchOut(serializers.ModelSerializer):
    class Meta:
        model = ListingBatch
        fields = [
            "id",
            "status",
            "total",
            "processed",
            "listed",
            "skipped",
            "error",
            "created_at",
            "finished_at",
        ]


class ListingsView(OrgAPIView):
    """The organization's own listings (newest first, at most 500), or list one record."""

    required_capabilities = {"GET": cap.VIEW_EXCHANGE, "POST": cap.TRADE_EXCHANGE}

    @extend_schema(
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=ListingStatus.values)],
        responses=ListingOut(many=True),
        summary="Your exchange listings",
    )
    def get(self, request):
        qs = sel.own_listings(org=self.org, status=request.query_params.get("status", ""))
        listings = sel.with_prices(qs[:500])
        provider_list_record_read(
            org=self.org,
            actor=self.actor,
            providers=[x.provider_id for x in listings],
            part="exchange_listings",
            via="api",
        )
        return Response(ListingOut(listings, many=True).data)

    @extend_schema(request=ListingIn, responses={201: ListingOut}, summary="List a record")
    def post(self, request):
        data = ListingIn(data=request.data)
        data.is_valid(raise_exception=True)
        listing = svc.listing_create(
            org=self.org,
            actor=self.actor,
            verification_id=data.validated_data["verification_id"],
            price_cents=data.validated_data.get("price_cents"),
        )
        return Response(ListingOut(listing).data, status=status.HTTP_201_CREATED)


class ListingsBulkView(OrgAPIView):
    """List every eligible current record in the background; poll the batch for progress."""

    required_capabilities = {"POST": cap.TRADE_EXCHANGE}

    @extend_schema(request=None, responses={202: BatchOut}, summary="List every eligible record")
    def post(self, request):
        batch = svc.listing_batch_start(org=self.org, actor=self.actor)
        return Response(BatchOut(batch).data, status=status.HTTP_202_ACCEPTED)


class ListingBatchView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_EXCHANGE}

    @extend_schema(responses=BatchOut, summary="A bulk listing run's progress")
    def get(self, request, batch_id):
        return Response(BatchOut(sel.batch_get(org=self.org, batch_id=batch_id)).data)


class _ListingAction(OrgAPIView):
    required_capabilities = {"POST": cap.TRADE_EXCHANGE}
    service = None

    def post(self, request, listing_id):
        listing = svc.listing_get(org=self.org, listing_id=listing_id)
        listing = type(self).service(org=self.org, actor=self.actor, listing=listing)
        return Response(ListingOut(listing).data)


class ListingPauseView(_ListingAction):
    service = staticmethod(svc.listing_pause)

    @extend_schema(request=None, responses=ListingOut, summary="Pause a listing")
    def post(self, request, listing_id):
        return super().post(request, listing_id)


class ListingResumeView(_ListingAction):
    service = staticmethod(svc.listing_resume)

    @extend_schema(request=None, responses=ListingOut, summary="Resume a paused listing")
    def post(self, request, listing_id):
        return super().post(request, listing_id)


class ListingWithdrawView(_ListingAction):
    service = staticmethod(svc.listing_withdraw)

    @extend_schema(request=None, responses=ListingOut, summary="Withdraw a listing for good")
    def post(self, request, listing_id):
        return super().post(request, listing_id)


urlpatterns = [
    path("exchange/listings", ListingsView.as_view(), name="api_exchange_listings"),
    path("exchange/listings/bulk", ListingsBulkView.as_view(), name="api_exchange_listings_bulk"),
    path(
        "exchange/listings/batches/<uuid:batch_id>",
        ListingBatchView.as_view(),
        name="api_exchange_listing_batch",
    ),
    path(
        "exchange/listings/<uuid:listing_id>/pause",
        ListingPauseView.as_view(),
        name="api_exchange_listing_pause",
    ),
    path(
        "exchange/listings/<uuid:listing_id>/resume",
        ListingResumeView.as_view(),
        name="api_exchange_listing_resume",
    ),
    path(
        "exchange/listings/<uuid:listing_id>/withdraw",
        ListingWithdrawView.as_view(),
        name="api_exchange_listing_withdraw",
    ),
]
