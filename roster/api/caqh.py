"""API v1: a provider's CAQH ProView field set, as JSON or (?format=csv) CSV; audited
(roster.caqh.exported). SSN and date of birth are never exported (see roster.caqh)."""

from __future__ import annotations

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import renderers, serializers
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import OrgAPIView
from roster.caqh import caqh_csv, caqh_export_record, caqh_profile
from roster.selectors.providers import provider_get


class CsvRenderer(renderers.BaseRenderer):
    """Chosen by ?format=csv (or Accept: text/csv); the view returns the CSV itself, so only
    error bodies reach this renderer, and they stay JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data).encode()


class CaqhOut(serializers.Serializer):
    provider = serializers.UUIDField()
    generated_for = serializers.CharField()
    sections = serializers.DictField(
        child=serializers.ListField(child=serializers.DictField(child=serializers.CharField())),
        help_text="Section -> items (personal, identifiers, specialties, practice_location, "
        "licenses, dea, cds, board_certifications, education, training, work_history, "
        "hospital_affiliations, malpractice, attestation).",
    )
    omitted = serializers.DictField(
        child=serializers.CharField(), help_text="Fields CAQH holds that are not exported, why."
    )


class ProviderCaqhView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]
    serializer_class = CaqhOut

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"])],
        responses={(200, "application/json"): CaqhOut, (200, "text/csv"): OpenApiTypes.STR},
        summary="A provider's CAQH ProView field set (JSON, or CSV with ?format=csv)",
    )
    def get(self, request, provider_id):
        org = self.org
        provider = provider_get(org=org, provider_id=provider_id)
        profile = caqh_profile(org=org, provider=provider)
        fmt = "csv" if request.accepted_renderer.format == "csv" else "json"
        caqh_export_record(org=org, actor=self.actor, provider=provider, fmt=fmt, via="api")
        if fmt == "csv":
            response = HttpResponse(caqh_csv(profile), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="caqh-{provider.pk}.csv"'
            return response
        return Response(profile)
