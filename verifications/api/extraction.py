"""Extraction suggestions API: list (filters), one suggestion beside its credential, and the
decisions (approve, correct, reject). Nothing is written to a credential without one."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import CursorPagination, OrgAPIView
from credex.errors import InvalidInput
from roster.services.providers import provider_list_record_read, provider_record_read
from verifications.extraction.base import CREDENTIAL_KIND_FOR
from verifications.models import ExtractionSuggestion, SuggestionStatus
from verifications.selectors import extraction as selectors
from verifications.services import extraction as services

ENGINES = ["text", "ocr", "none"]


class FieldValueOut(serializers.Serializer):
    value = serializers.CharField(help_text="Dates as YYYY-MM-DD, states as two letters.")
    confidence = serializers.FloatField(help_text="0 to 1.")
    snippet = serializers.CharField(help_text="The text the value was read from.")


class ProblemOut(serializers.Serializer):
    field = serializers.CharField()
    code = serializers.CharField(help_text="e.g. dea_check_digit, not_a_state, expired")
    message = serializers.CharField()


class ComparisonOut(serializers.Serializer):
    field = serializers.CharField(source="name")
    current = serializers.CharField(help_text="On the credential now ('' when empty).")
    extracted = serializers.CharField(source="value")
    confidence = serializers.FloatField(allow_null=True)
    differs = serializers.BooleanField()
    applicable = serializers.BooleanField(help_text="False: checked only, never written.")


class SuggestionOut(serializers.ModelSerializer):
    document = serializers.UUIDField(source="document_id")
    document_kind = serializers.CharField(source="document.kind")
    provider = serializers.UUIDField(source="document.provider_id")
    credential = serializers.UUIDField(source="credential_id", allow_null=True)
    fields = serializers.DictField(child=FieldValueOut())
    problems = ProblemOut(many=True)
    comparison = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()
    applied = serializers.JSONField(
        help_text='{"credential", "created", "changes": {field: {"from", "to"}}, "reason"}'
    )

    class Meta:
        model = ExtractionSuggestion
        fields = [
            "id",
            "document",
            "document_kind",
            "provider",
            "credential",
            "extractor",
            "engine",
            "status",
            "fields",
            "problems",
            "comparison",
            "message",
            "applied",
            "decided_by",
            "decided_at",
            "created_at",
        ]

    @extend_schema_field(ComparisonOut(many=True))
    def get_comparison(self, obj: ExtractionSuggestion) -> list:
        return ComparisonOut(services.field_rows(obj), many=True).data

    @extend_schema_field(OpenApiTypes.EMAIL)
    def get_decided_by(self, obj: ExtractionSuggestion) -> str | None:
        return obj.decided_by.user.email if obj.decided_by_id else None


class SuggestionPage(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = SuggestionOut(many=True)


class ApproveIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class CorrectIn(serializers.Serializer):
    expiry_date = serializers.CharField(required=False, allow_blank=True, max_length=40)
    issue_date = serializers.CharField(required=False, allow_blank=True, max_length=40)
    number = serializers.CharField(required=False, allow_blank=True, max_length=60)
    issuer = serializers.CharField(required=False, allow_blank=True, max_length=200)
    state = serializers.CharField(required=False, allow_blank=True, max_length=20)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class RejectIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class SuggestionCursor(CursorPagination):
    ordering = "-created_at"


class ExtractionListView(OrgAPIView):
    """Suggestions read from uploaded documents, newest first."""

    required_capabilities = {"GET": cap.VIEW_ROSTER}
    serializer_class = SuggestionOut

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=SuggestionStatus.values),
            OpenApiParameter("document_kind", str, enum=list(CREDENTIAL_KIND_FOR)),
            OpenApiParameter("engine", str, enum=ENGINES),
            OpenApiParameter("provider", OpenApiTypes.UUID),
        ],
        responses=SuggestionPage,
        operation_id="v1_extractions_list",
        summary="Extraction suggestions, newest first",
    )
    def get(self, request):
        org = self.org
        qs = selectors.suggestion_list(org=org, status="all")
        errors = {}
        filters = (
            ("status", "status", SuggestionStatus.values),
            ("document_kind", "document__kind", list(CREDENTIAL_KIND_FOR)),
            ("engine", "engine", ENGINES),
        )
        for name, lookup, allowed in filters:
            value = request.query_params.get(name)
            if value and value not in allowed:
                errors[name] = f"One of {', '.join(allowed)}."
            elif value:
                qs = qs.filter(**{lookup: value})
        provider = request.query_params.get("provider")
        if provider:
            field = serializers.UUIDField()
            try:
                qs = qs.filter(document__provider_id=field.to_internal_value(provider))
            except serializers.ValidationError:
                errors["provider"] = "A provider id (UUID)."
        if errors:
            raise InvalidInput("Some filters are not valid.", details=errors)
        paginator = SuggestionCursor()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = SuggestionOut(page, many=True).data
        provider_list_record_read(
            org=org,
            actor=self.actor,
            providers=[s.document.provider_id for s in page],
            part="extractions",
            via="api",
        )
        return paginator.get_paginated_response(data)


class ExtractionDetailView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}
    serializer_class = SuggestionOut

    @extend_schema(responses=SuggestionOut, summary="One suggestion, beside its credential")
    def get(self, request, suggestion_id):
        org = self.org
        suggestion = selectors.suggestion_get(org=org, suggestion_id=suggestion_id)
        data = SuggestionOut(suggestion).data
        provider_record_read(
            org=org,
            actor=self.actor,
            provider=suggestion.document.provider,
            part="extraction",
            via="api",
        )
        return Response(data)


class _DecisionView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}
    serializer_class = SuggestionOut
    decision = ""
    input_class: type[serializers.Serializer] = RejectIn

    def post(self, request, suggestion_id):
        org = self.org
        suggestion = selectors.suggestion_get(org=org, suggestion_id=suggestion_id)
        data = self.input_class(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        reason = values.pop("reason", "")
        suggestion = services.extraction_decide(
            org=org,
            actor=self.actor,
            suggestion=suggestion,
            decision=self.decision,
            values=values if self.decision == "correct" else None,
            reason=reason,
        )
        suggestion = selectors.suggestion_get(org=org, suggestion_id=suggestion.pk)
        return Response(SuggestionOut(suggestion).data)


class ExtractionApproveView(_DecisionView):
    decision = "approve"
    input_class = ApproveIn

    @extend_schema(
        request=ApproveIn,
        responses=SuggestionOut,
        summary="Approve: apply the extracted values that differ to the credential",
    )
    def post(self, request, suggestion_id):
        return super().post(request, suggestion_id)


class ExtractionCorrectView(_DecisionView):
    decision = "correct"
    input_class = CorrectIn

    @extend_schema(
        request=CorrectIn,
        responses=SuggestionOut,
        summary="Correct: apply your values (blank or missing fields stay as they are)",
    )
    def post(self, request, suggestion_id):
        return super().post(request, suggestion_id)


class ExtractionRejectView(_DecisionView):
    decision = "reject"
    input_class = RejectIn

    @extend_schema(
        request=RejectIn, responses=SuggestionOut, summary="Reject: write nothing to the credential"
    )
    def post(self, request, suggestion_id):
        return super().post(request, suggestion_id)


urlpatterns: list = [
    path("extractions", ExtractionListView.as_view(), name="api_extractions"),
    path(
        "extractions/<uuid:suggestion_id>",
        ExtractionDetailView.as_view(),
        name="api_extraction",
    ),
    path(
        "extractions/<uuid:suggestion_id>/approve",
        ExtractionApproveView.as_view(),
        name="api_extraction_approve",
    ),
    path(
        "extractions/<uuid:suggestion_id>/correct",
        ExtractionCorrectView.as_view(),
        name="api_extraction_correct",
    ),
    path(
        "extractions/<uuid:suggestion_id>/reject",
        ExtractionRejectView.as_view(),
        name="api_extraction_reject",
    ),
]
