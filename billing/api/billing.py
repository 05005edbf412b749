"""Billing API (under /api/v1/):

GET   billing            the organization's plan, status, seats and what it pays per interval
PATCH billing            billing settings (charge_mode, payout_schedule, billing_email) and the
                         billing period (interval: month | year); owners and admins
GET   billing/invoices   the invoices, newest first, with their lines
POST  billing/checkout   a Stripe Checkout URL to add a card and subscribe ({success_url,
                         cancel_url} optional); 400 payments_not_configured when offline
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from billing.models import Invoice
from billing.selectors import billing_summary
from billing.services import accounts as account_services
from billing.services import subscriptions
from credex import capabilities as cap
from credex.actors import audit_actor
from credex.api_common import OrgAPIView
from credex.errors import InvalidInput


class PlanOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    version = serializers.IntegerField()
    interval = serializers.CharField()
    base_cents = serializers.IntegerField()
    seat_cents = serializers.IntegerField()


class BillingOut(serializers.Serializer):
    status = serializers.CharField()
    plan = PlanOut()
    seats = serializers.IntegerField()
    seats_billed = serializers.IntegerField()
    amount_per_interval_cents = serializers.IntegerField()
    base_cents = serializers.IntegerField()
    seats_cents = serializers.IntegerField()
    pending_charges_cents = serializers.IntegerField()
    trial_ends_at = serializers.DateTimeField()
    trial_days_left = serializers.IntegerField(allow_null=True)
    payment_method_on_file = serializers.BooleanField()
    past_due_since = serializers.DateTimeField(allow_null=True)
    grace_ends_at = serializers.DateTimeField(allow_null=True)
    read_only_since = serializers.DateTimeField(allow_null=True)
    charge_mode = serializers.CharField()
    payout_schedule = serializers.CharField()
    payments_configured = serializers.BooleanField()


class BillingPatch(serializers.Serializer):
    interval = serializers.CharField(required=False)
    charge_mode = serializers.CharField(required=False)
    payout_schedule = serializers.CharField(required=False)
    billing_email = serializers.CharField(required=False, allow_blank=True)


class LineOut(serializers.Serializer):
    kind = serializers.CharField()
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_cents = serializers.IntegerField()
    amount_cents = serializers.IntegerField()


class InvoiceOut(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField()
    status = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    currency = serializers.CharField()
    total_cents = serializers.IntegerField()
    amount_paid_cents = serializers.IntegerField()
    amount_due_cents = serializers.IntegerField()
    hosted_invoice_url = serializers.CharField()
    issued_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    lines = LineOut(many=True)


class CheckoutIn(serializers.Serializer):
    success_url = serializers.URLField(required=False, max_length=500)
    cancel_url = serializers.URLField(required=False, max_length=500)


class CheckoutOut(serializers.Serializer):
    url = serializers.CharField()


class BillingView(OrgAPIView):
    """What the organization pays and why."""

    required_capabilities = {"GET": cap.VIEW_BILLING, "PATCH": cap.MANAGE_BILLING}

    @extend_schema(responses=BillingOut, summary="Billing summary", tags=["billing"])
    def get(self, request):
        return Response(billing_summary(self.org).as_dict())

    @extend_schema(
        request=BillingPatch, responses=BillingOut, summary="Change billing", tags=["billing"]
    )
    def patch(self, request):
        data = BillingPatch(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if not values:
            raise InvalidInput("Nothing to change.", details={"body": ["Name a field."]})
        actor = audit_actor(self.actor)
        account = account_services.account_for(self.org)
        if "interval" in values:
            subscriptions.plan_choose(org=self.org, actor=actor, interval=values["interval"])
        if values.keys() - {"interval"}:
            account_services.account_settings_update(
                org=self.org,
                actor=actor,
                charge_mode=values.get("charge_mode", account.charge_mode),
                payout_schedule=values.get("payout_schedule", account.payout_schedule),
                billing_email=values.get("billing_email", account.billing_email),
            )
        return Response(billing_summary(self.org).as_dict())


class InvoicesView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_BILLING}

    @extend_schema(responses=InvoiceOut(many=True), summary="Invoices", tags=["billing"])
    def get(self, request):
        invoices = Invoice.objects.prefetch_related("lines").order_by("-issued_at")[:200]
        return Response(
            [
                {**InvoiceOut(inv).data, "lines": LineOut(inv.lines.all(), many=True).data}
                for inv in invoices
            ]
        )


class CheckoutView(OrgAPIView):
    required_capabilities = {"POST": cap.MANAGE_BILLING}

    @extend_schema(
        request=CheckoutIn, responses=CheckoutOut, summary="Start Checkout", tags=["billing"]
    )
    def post(self, request):
        data = CheckoutIn(data=request.data)
        data.is_valid(raise_exception=True)
        back = request.build_absolute_uri(f"/o/{self.org.slug}/billing/")
        url = subscriptions.checkout_start(
            org=self.org,
            actor=audit_actor(self.actor),
            success_url=data.validated_data.get("success_url") or back + "?checkout=done",
            cancel_url=data.validated_data.get("cancel_url") or back + "?checkout=canceled",
        )
        return Response({"url": url})


urlpatterns: list = [
    path("billing", BillingView.as_view(), name="api_billing"),
    path("billing/invoices", InvoicesView.as_view(), name="api_billing_invoices"),
    path("billing/checkout", CheckoutView.as_view(), name="api_billing_checkout"),
]
