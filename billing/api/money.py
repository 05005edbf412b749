"""Billing API: exchange payouts (under /api/v1/).

GET  billing/payouts   the available proceeds, the minimum and the payouts, newest first
POST billing/payouts   pay out the available proceeds now (owners and admins): 201 with the
                       payout; 409 below_payout_minimum, nothing written
"""

from __future__ import annotations

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from billing.models import Payout
from billing.services.payouts import payout_request, proceeds_available
from credex import capabilities as cap
from credex.api_common import OrgAPIView


class PayoutOut(serializers.Serializer):
    id = serializers.UUIDField()
    amount_cents = serializers.IntegerField()
    status = serializers.CharField()
    scheduled = serializers.BooleanField()
    transfer_group = serializers.CharField()
    attempts = serializers.IntegerField()
    failure_reason = serializers.CharField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class PayoutsOut(serializers.Serializer):
    available_cents = serializers.IntegerField()
    minimum_cents = serializers.IntegerField()
    payouts = PayoutOut(many=True)


class PayoutsView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_BILLING, "POST": cap.MANAGE_BILLING}

    @extend_schema(responses=PayoutsOut, summary="Payouts", tags=["billing"])
    def get(self, request):
        return Response(
            {
                "available_cents": proceeds_available(self.org),
                "minimum_cents": settings.BILLING_PAYOUT_MINIMUM_CENTS,
                "payouts": PayoutOut(Payout.objects.order_by("-created_at")[:200], many=True).data,
            }
        )

    @extend_schema(
        request=None, responses={201: PayoutOut}, summary="Request a payout", tags=["billing"]
    )
    def post(self, request):
        payout = payout_request(org=self.org, actor=self.actor)
        return Response(PayoutOut(payout).data, status=201)


urlpatterns: list = [
    path("billing/payouts", PayoutsView.as_view(), name="api_billing_payouts"),
]
