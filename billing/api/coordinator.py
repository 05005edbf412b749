"""The independent coordinator's per-client invoice and rate card (under /api/v1/):

GET  billing/client-invoice?start=&end=   per client organization: providers managed, the
                                          caller's work in the period, priced; default last month
GET  billing/rates                        the caller's rate card (default and per client)
PUT  billing/rates                        set the default rates, or one client's ({client: slug})

These act for a person (the signed-in coordinator, across the organizations they serve), so
they answer a browser session only. An API key acts for one organization with a role and
names no person: it has no clients, no rate card and no work of its own to bill, and is
refused (403 person_required). A session that belongs to several organizations names any one
of them in X-CredEx-Organization, as for every call; the invoice spans all of the caller's
clients whichever it names. The rules are in billing/services/coordinator.py.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from billing.models import RATE_MAX_CENTS
from billing.services import coordinator as svc
from credex import capabilities as cap
from credex.api_common import OrgAPIView
from credex.errors import Forbidden
from credex.models import ApiKey

TAGS = ["billing"]


class PersonAPIView(OrgAPIView):
    """An endpoint of the signed-in person (not of an API key): see the module docstring."""

    # Read by tests/test_permission_matrix.py: an API key with the capability is refused too.
    person_only = True

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, then the capability
        # Every method, OPTIONS included: a key has nothing here, not even a description.
        if isinstance(self.actor, ApiKey):
            raise Forbidden(
                "An API key acts for one organization, not for a person: sign in as the "
                "coordinator to use the client invoice.",
                code="person_required",
            )

    def person(self):
        """The signed-in independent coordinator (403 not_independent for anyone else)."""
        svc.require_independent(self.request.user)
        return self.request.user


# --- the invoice ----------------------------------------------------------------------------------
class ClientOrgOut(serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.CharField()
    name = serializers.CharField()


class ClientInvoiceProviderOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField(source="full_name")


class ClientInvoiceLineOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[k.code for k in svc.WORK_KINDS])
    label = serializers.CharField()
    quantity = serializers.IntegerField()
    months = serializers.CharField(
        source="months_text", help_text="Months of the period the line covers (providers)."
    )
    rate_cents = serializers.IntegerField()
    amount_cents = serializers.IntegerField()


class ClientOut(serializers.Serializer):
    organization = ClientOrgOut(source="org")
    blocked = serializers.BooleanField(
        help_text="The client requires two-factor authentication and the caller has none: "
        "not read, not billed."
    )
    client_rates = serializers.BooleanField(
        source="overridden", help_text="Priced with this client's own rates."
    )
    providers = ClientInvoiceProviderOut(many=True)
    lines = ClientInvoiceLineOut(many=True)
    total_cents = serializers.IntegerField()


class ClientInvoiceOut(serializers.Serializer):
    start = serializers.DateField(source="period.start")
    end = serializers.DateField(source="period.end")
    currency = serializers.CharField()
    clients = ClientOut(many=True)
    total_cents = serializers.IntegerField()


class ClientInvoiceView(PersonAPIView):
    required_capabilities = {"GET": cap.INVOICE_CLIENTS}

    @extend_schema(
        parameters=[
            OpenApiParameter("start", str, description="First day, YYYY-MM-DD (included)."),
            OpenApiParameter("end", str, description="Last day, YYYY-MM-DD (included)."),
        ],
        responses=ClientInvoiceOut,
        summary="The independent coordinator's per-client invoice",
        tags=TAGS,
    )
    def get(self, request):
        user = self.person()
        params = request.query_params
        period = svc.period_parse(params.get("start"), params.get("end"))
        invoice = svc.client_invoice(user=user, period=period)
        svc.client_invoice_record_read(invoice=invoice, via="api")
        return Response(ClientInvoiceOut(invoice).data)


# --- the rate card --------------------------------------------------------------------------------
def _rate_field(help_text: str):
    return serializers.IntegerField(min_value=0, max_value=RATE_MAX_CENTS, help_text=help_text)


class RatesIn(serializers.Serializer):
    client = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=60,
        help_text="A client organization's slug; absent or null: the default rates.",
    )
    provider_month_cents = _rate_field("Per provider managed, per month.")
    verification_cents = _rate_field("Per verification recorded.")
    package_cents = _rate_field("Per credential package built.")
    enrollment_cents = _rate_field("Per enrollment submitted or resubmitted.")
    recredentialing_cents = _rate_field("Per re-credentialing completed.")


class RatesOut(serializers.Serializer):
    provider_month_cents = serializers.IntegerField()
    verification_cents = serializers.IntegerField()
    package_cents = serializers.IntegerField()
    enrollment_cents = serializers.IntegerField()
    recredentialing_cents = serializers.IntegerField()


class ClientRatesOut(RatesOut):
    client = ClientOrgOut()


class RateCardOut(serializers.Serializer):
    default = RatesOut()
    clients = ClientRatesOut(many=True, help_text="Clients with rates of their own.")
    max_cents = serializers.IntegerField()


def _card(user) -> dict:
    card = svc.rate_card(user)
    clients = {m.organization_id: m.organization for m in svc.client_memberships(user)}
    return {
        "default": card.default,
        "clients": [
            {**row.rates(), "client": clients[org_id]}
            for org_id, row in card.overrides.items()
            if org_id in clients
        ],
        "max_cents": RATE_MAX_CENTS,
    }


class RatesView(PersonAPIView):
    required_capabilities = {"GET": cap.INVOICE_CLIENTS, "PUT": cap.INVOICE_CLIENTS}

    @extend_schema(responses=RateCardOut, summary="The coordinator's rate card", tags=TAGS)
    def get(self, request):
        return Response(RateCardOut(_card(self.person())).data)

    @extend_schema(
        request=RatesIn,
        responses=RateCardOut,
        summary="Set the default rates or one client's",
        tags=TAGS,
    )
    def put(self, request):
        user = self.person()
        data = RatesIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        client = values.pop("client", None)
        svc.rates_update(owner=user, rates=values, client=client or None)
        return Response(RateCardOut(_card(user)).data)


urlpatterns: list = [
    path("billing/client-invoice", ClientInvoiceView.as_view(), name="api_billing_client_invoice"),
    path("billing/rates", RatesView.as_view(), name="api_billing_rates"),
]
