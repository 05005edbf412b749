"""Exchange API: membership (under /api/v1/exchange/).

GET  exchange/membership  the organization's membership: status, standing, accreditations and
                          the operator's decision reason (404-free: `status` null if it never
                          applied).
POST exchange/membership  apply, or re-apply after "info requested" or "rejected". JSON, or
                          multipart/form-data with the same flat fields plus an `evidence` file
                          (PDF, PNG or JPEG; optional). 201 with the membership.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import OrgAPIView
from exchange.selectors.directory import directory_entry
from exchange.selectors.membership import accreditation_current, accreditations_of, membership_get
from exchange.services import membership as services


class AccreditationOut(serializers.Serializer):
    id = serializers.UUIDField()
    body = serializers.CharField()
    body_state = serializers.CharField()
    status = serializers.CharField()
    expires_on = serializers.DateField()
    evidence_name = serializers.CharField()
    evidence_sha256 = serializers.CharField()
    recorded_at = serializers.DateTimeField()


class MembershipOut(serializers.Serializer):
    status = serializers.CharField(allow_null=True)
    good_standing = serializers.BooleanField()
    display_name = serializers.CharField(allow_null=True)
    contact_name = serializers.CharField(allow_null=True)
    contact_email = serializers.CharField(allow_null=True)
    applied_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField(allow_null=True)
    suspension_reason = serializers.CharField(allow_null=True)
    current_accreditation = AccreditationOut(allow_null=True)
    accreditations = AccreditationOut(many=True)


class MembershipIn(serializers.Serializer):
    """Shape only (strings, a boolean, a file); the service validates the values."""

    display_name = serializers.CharField(allow_blank=True, trim_whitespace=False, default="")
    profile = serializers.CharField(allow_blank=True, trim_whitespace=False, default="")
    contact_name = serializers.CharField(allow_blank=True, trim_whitespace=False, default="")
    contact_email = serializers.CharField(allow_blank=True, trim_whitespace=False, default="")
    contact_phone = serializers.CharField(allow_blank=True, trim_whitespace=False, default="")
    credentialing_requirements = serializers.CharField(
        allow_blank=True, trim_whitespace=False, default=""
    )
    accrediting_body = serializers.CharField(allow_blank=True, default="")
    accrediting_state = serializers.CharField(allow_blank=True, default="")
    accreditation_status = serializers.CharField(allow_blank=True, default="")
    accreditation_expires_on = serializers.CharField(allow_blank=True, default="")
    releases_attested = serializers.BooleanField(default=False)
    evidence = serializers.FileField(required=False, allow_empty_file=True)


def membership_out(org) -> dict:
    membership = membership_get(org=org)
    if membership is None:
        empty = dict.fromkeys(MembershipOut().fields)
        return {**empty, "good_standing": False, "accreditations": []}
    entry = directory_entry(org)
    return MembershipOut(
        {
            "status": membership.status,
            "good_standing": bool(entry and entry.good_standing),
            "display_name": membership.display_name,
            "contact_name": membership.contact_name,
            "contact_email": membership.contact_email,
            "applied_at": membership.applied_at,
            "decided_at": membership.decided_at,
            "decision_reason": membership.decision_reason,
            "suspension_reason": membership.suspension_reason,
            "current_accreditation": accreditation_current(membership),
            "accreditations": accreditations_of(membership),
        }
    ).data


class MembershipView(OrgAPIView):
    """The organization's exchange membership; POST applies."""

    required_capabilities = {"GET": cap.VIEW_EXCHANGE, "POST": cap.MANAGE_EXCHANGE}
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(responses=MembershipOut, summary="Exchange membership")
    def get(self, request):
        return Response(membership_out(self.org))

    @extend_schema(request=MembershipIn, responses={201: MembershipOut}, summary="Apply")
    def post(self, request):
        data = MembershipIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.membership_apply(org=self.org, actor=self.actor, **data.validated_data)
        return Response(membership_out(self.org), status=201)


urlpatterns: list = [
    path("exchange/membership", MembershipView.as_view(), name="api_exchange_membership"),
]
