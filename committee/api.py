"""API v1: committee reviews (list, mark a file ready, record the decision and the notice)."""

from __future__ import annotations

import uuid

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from committee import selectors as csel
from committee import services as csvc
from committee.models import CommitteeDecision, CommitteeReview
from credex import capabilities as cap
from credex.api_common import CursorPagination, OrgAPIView
from credex.errors import InvalidInput
from roster.selectors.providers import provider_get
from roster.services.providers import provider_list_record_read


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


# --- serializers --------------------------------------------------------------------------------
class ReviewOut(serializers.ModelSerializer):
    provider = serializers.UUIDField(source="provider_id")
    provider_name = serializers.CharField(source="provider.full_name")
    notify_due = serializers.SerializerMethodField()
    notify_overdue = serializers.SerializerMethodField()

    class Meta:
        model = CommitteeReview
        fields = [
            "id",
            "provider",
            "provider_name",
            "cycle",
            "ready_at",
            "meeting_date",
            "decision",
            "decision_date",
            "conditions",
            "minutes",
            "notified_at",
            "notify_due",
            "notify_overdue",
        ]

    def get_notify_due(self, obj) -> str | None:
        due = csel.notify_due_date(obj)
        return due.isoformat() if due else None

    def get_notify_overdue(self, obj) -> bool:
        due = csel.notify_due_date(obj)
        today = self.context.get("today")
        return bool(due and not obj.notified_at and today and due < today)


class ReadyIn(serializers.Serializer):
    meeting_date = serializers.DateField(required=False, allow_null=True)


class DecisionIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices=CommitteeDecision.choices)
    decision_date = serializers.DateField()
    minutes = serializers.CharField(required=False, allow_blank=True)
    conditions = serializers.CharField(
        required=False, allow_blank=True, help_text="Required for approved_with_conditions."
    )


class NotifiedIn(serializers.Serializer):
    notified_on = serializers.DateField(required=False, help_text="Default today.")


def _ctx():
    return {"today": timezone.localdate()}


# --- committee ----------------------------------------------------------------------------------
class ReviewCursor(CursorPagination):
    ordering = ("-ready_at", "-id")


class CommitteeReviewListView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=list(csel.REVIEW_STATES)),
            OpenApiParameter("provider", str, description="A provider id."),
        ],
        responses=ReviewOut(many=True),
        summary="Committee reviews, newest first (cursor pages)",
    )
    def get(self, request):
        state = request.query_params.get("state", "")
        provider = request.query_params.get("provider", "")
        errors = {}
        if state and state not in csel.REVIEW_STATES:
            errors["state"] = f"One of: {', '.join(csel.REVIEW_STATES)}."
        if provider and _uuid(provider) is None:
            errors["provider"] = "A provider id."
        if errors:
            raise InvalidInput("Some filters are not valid.", details=errors)
        qs = csel.committee_review_list(org=self.org, state=state, provider_id=provider)
        paginator = ReviewCursor()
        page = paginator.paginate_queryset(qs.order_by(), request, view=self)
        data = ReviewOut(page, many=True, context=_ctx()).data
        provider_list_record_read(
            org=self.org,
            actor=self.actor,
            providers=[r.provider_id for r in page],
            part="committee reviews",
            via="api",
        )
        return paginator.get_paginated_response(data)


class ProviderCommitteeReadyView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}

    @extend_schema(
        request=ReadyIn,
        responses={201: ReviewOut},
        summary="Mark a provider file ready for committee (409 with `details.reasons` when not)",
    )
    def post(self, request, provider_id):
        org = self.org
        provider = provider_get(org=org, provider_id=provider_id)
        body = ReadyIn(data=request.data)
        body.is_valid(raise_exception=True)
        review = csvc.provider_mark_ready_for_committee(
            org=org, actor=self.actor, provider=provider, **body.validated_data
        )
        return Response(ReviewOut(review, context=_ctx()).data, status=status.HTTP_201_CREATED)


class CommitteeDecisionView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}

    @extend_schema(
        request=DecisionIn,
        responses=ReviewOut,
        summary="Record the committee's decision (approval sets the provider's dates)",
    )
    def post(self, request, review_id):
        org = self.org
        review = csel.committee_review_get(org=org, review_id=review_id)
        body = DecisionIn(data=request.data)
        body.is_valid(raise_exception=True)
        csvc.committee_record_decision(
            org=org, actor=self.actor, review=review, **body.validated_data
        )
        return Response(ReviewOut(review, context=_ctx()).data)


class CommitteeNotifiedView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}

    @extend_schema(
        request=NotifiedIn,
        responses=ReviewOut,
        summary="Record that the provider was told the decision (due within 30 days)",
    )
    def post(self, request, review_id):
        org = self.org
        review = csel.committee_review_get(org=org, review_id=review_id)
        body = NotifiedIn(data=request.data)
        body.is_valid(raise_exception=True)
        csvc.committee_mark_notified(
            org=org, actor=self.actor, review=review, **body.validated_data
        )
        return Response(ReviewOut(review, context=_ctx()).data)
