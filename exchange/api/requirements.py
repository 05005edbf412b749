"""Exchange API: the requirements profile (under /api/v1/exchange/): GET and PUT
`exchange/requirements` ({rules: [{source, max_age_days, methods, source_states}],
min_seller_rating}). PUT replaces the whole profile (owners and admins)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import OrgAPIView
from credex.errors import InvalidInput
from exchange.selectors.requirements import requirements_profile
from exchange.services.requirements import requirements_save


class RuleSchema(serializers.Serializer):
    source = serializers.CharField()
    max_age_days = serializers.IntegerField(required=False)
    methods = serializers.ListField(child=serializers.CharField(), required=False)
    source_states = serializers.ListField(child=serializers.CharField(), required=False)


class RequirementsSchema(serializers.Serializer):
    rules = RuleSchema(many=True)
    min_seller_rating = serializers.DecimalField(
        max_digits=2, decimal_places=1, allow_null=True, required=False
    )


def _out(profile) -> dict:
    if profile is None:
        return {"rules": [], "min_seller_rating": None, "updated_at": None}
    return {
        "rules": [
            {
                "source": r.source,
                "max_age_days": r.max_age_days,
                "methods": r.methods,
                "source_states": r.source_states,
            }
            for r in profile.rules.all()
        ],
        "min_seller_rating": (
            str(profile.min_seller_rating) if profile.min_seller_rating is not None else None
        ),
        "updated_at": profile.updated_at.isoformat(),
    }


class RequirementsView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_EXCHANGE, "PUT": cap.MANAGE_EXCHANGE}

    @extend_schema(responses=RequirementsSchema, summary="Your exchange requirements")
    def get(self, request):
        return Response(_out(requirements_profile(org=self.org)))

    @extend_schema(
        request=RequirementsSchema,
        responses=RequirementsSchema,
        summary="Replace your exchange requirements",
    )
    def put(self, request):
        body = request.data
        if not isinstance(body, dict) or "rules" not in body:
            raise InvalidInput(
                "Send {rules: [...], min_seller_rating}.", details={"rules": "required"}
            )
        requirements_save(
            org=self.org,
            actor=self.actor,
            rules=body.get("rules", []),
            min_seller_rating=body.get("min_seller_rating"),
        )
        return Response(_out(requirements_profile(org=self.org)))


urlpatterns = [
    path("exchange/requirements", RequirementsView.as_view(), name="api_exchange_requirements"),
]
