"""Billing API: one invoice and the statement (under /api/v1/).

GET billing/invoices/<id>             one invoice with its lines (404: not the organization's)
GET billing/statement?start=&end=     the statement of a period (YYYY-MM-DD, both included;
                                      default this month to today): buyer and seller figures
                                      from the ledger, the period's charges; 400 on bad dates
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from billing.api.billing import InvoiceOut, LineOut
from billing.selectors import invoice_for
from billing.statements import parse_period, statement_for_period
from credex import capabilities as cap
from credex.api_common import OrgAPIView
from credex.errors import NotFound


class InvoiceDetailOut(InvoiceOut):
    subtotal_cents = serializers.IntegerField()
    stripe_invoice_id = serializers.CharField(allow_null=True)
    failed_at = serializers.DateTimeField(allow_null=True)


class PostingOut(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    entry_kind = serializers.CharField()
    reference = serializers.CharField()
    memo = serializers.CharField()
    amount_cents = serializers.IntegerField(help_text="Effect on the balance (+ adds).")
    balance_cents = serializers.IntegerField(help_text="The balance after this posting.")


class StatementChargeOut(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    kind = serializers.CharField()
    description = serializers.CharField()
    amount_cents = serializers.IntegerField()
    status = serializers.CharField()
    invoice_id = serializers.UUIDField(allow_null=True)
    invoice_number = serializers.CharField(allow_null=True)


class BuyerOut(serializers.Serializer):
    opening_balance_cents = serializers.IntegerField(help_text="Owed at the start.")
    purchases_cents = serializers.IntegerField(help_text="Price plus facilitation fee.")
    refunds_cents = serializers.IntegerField()
    collected_cents = serializers.IntegerField()
    collections_reversed_cents = serializers.IntegerField()
    closing_balance_cents = serializers.IntegerField(help_text="Owed at the end.")
    postings = PostingOut(many=True)
    charges = StatementChargeOut(many=True)
    charges_by_status_cents = serializers.DictField(child=serializers.IntegerField())
    membership_fees_cents = serializers.IntegerField()


class SellerOut(serializers.Serializer):
    opening_balance_cents = serializers.IntegerField(help_text="Available at the start.")
    sales_cents = serializers.IntegerField()
    refunds_cents = serializers.IntegerField()
    payouts_cents = serializers.IntegerField()
    payouts_reversed_cents = serializers.IntegerField(help_text="Failed payouts, reversed.")
    closing_balance_cents = serializers.IntegerField(help_text="Available at the end.")
    postings = PostingOut(many=True)


class StatementOut(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    buyer = BuyerOut()
    seller = SellerOut()


class InvoiceView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_BILLING}

    @extend_schema(responses=InvoiceDetailOut, summary="One invoice", tags=["billing"])
    def get(self, request, invoice_id):
        invoice = invoice_for(invoice_id)
        if invoice is None:
            raise NotFound("No such invoice.")
        return Response(
            {
                **InvoiceDetailOut(invoice).data,
                "lines": LineOut(invoice.lines.all(), many=True).data,
            }
        )


class StatementView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_BILLING}

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, description="First day (YYYY-MM-DD)."),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Last day (YYYY-MM-DD)."),
        ],
        responses=StatementOut,
        summary="Billing statement",
        tags=["billing"],
    )
    def get(self, request):
        start, end = parse_period(
            request.query_params.get("start"), request.query_params.get("end")
        )
        return Response(statement_for_period(org=self.org, start=start, end=end).as_dict())


urlpatterns: list = [
    path("billing/invoices/<uuid:invoice_id>", InvoiceView.as_view(), name="api_billing_invoice"),
    path("billing/statement", StatementView.as_view(), name="api_billing_statement"),
]
