"""API v1: NPPES mismatches (with accept / dismiss), failed checks, refresh runs, lookup."""

from __future__ import annotations

from celery.result import AsyncResult
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import CursorPagination, OrgAPIView
from credex.errors import InvalidInput
from roster.services.providers import provider_list_record_read
from screening.nppes import selectors as sel
from screening.nppes import services as svc
from screening.nppes.models import CheckOutcome, RunStatus


class NppesProviderRefOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField(source="full_name")
    npi = serializers.CharField()


class NppesMismatchOut(serializers.Serializer):
    id = serializers.UUIDField()
    provider = NppesProviderRefOut()
    field = serializers.CharField()
    severity = serializers.CharField()
    status = serializers.CharField()
    our_value = serializers.JSONField()
    nppes_value = serializers.JSONField(help_text="What NPPES says (public registry data).")
    first_seen = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()
    decided_by = serializers.CharField(source="decided_by_label")
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class NppesDismissIn(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class NppesCheckOut(serializers.Serializer):
    provider = NppesProviderRefOut()
    npi = serializers.CharField()
    checked_at = serializers.DateTimeField()
    outcome = serializers.CharField()
    error_detail = serializers.JSONField()
    http_status = serializers.IntegerField(allow_null=True)
    attempts = serializers.IntegerField()
    consecutive_failures = serializers.IntegerField()
    next_retry_at = serializers.DateTimeField(allow_null=True)
    last_success_at = serializers.DateTimeField(allow_null=True)
    record_fetched_at = serializers.DateTimeField(allow_null=True)


class NppesRunOut(serializers.Serializer):
    id = serializers.UUIDField()
    provider = serializers.UUIDField(source="provider_id", allow_null=True)
    trigger = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    counts = serializers.JSONField()
    progress = serializers.JSONField(
        required=False, help_text="While queued or running: {state, done, total}."
    )


class NppesRefreshIn(serializers.Serializer):
    provider = serializers.UUIDField(
        required=False, allow_null=True, help_text="Refresh only this provider."
    )


class NppesLookupOut(serializers.Serializer):
    npi = serializers.CharField()
    outcome = serializers.CharField(help_text="found, not_found or error")
    fetched_at = serializers.DateTimeField(allow_null=True)
    http_status = serializers.IntegerField(allow_null=True)
    attempts = serializers.IntegerField()
    error = serializers.JSONField()
    prefill = serializers.JSONField(help_text="Roster-shaped values for a new provider.")


class NppesMismatchCursor(CursorPagination):
    ordering = "-first_seen"


class NppesCheckCursor(CursorPagination):
    ordering = "-checked_at"


FILTER_PARAMS = [
    OpenApiParameter(
        "status", str, description="open (default), accepted, dismissed, resolved or all"
    ),  # fmt: skip
    OpenApiParameter("field", str),
    OpenApiParameter("severity", str, description="high, medium or low"),
    OpenApiParameter("provider", str, description="provider id"),
    OpenApiParameter("q", str, description="provider name or NPI"),
]


class MismatchListView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}

    @extend_schema(
        parameters=FILTER_PARAMS,
        responses=NppesMismatchOut(many=True),
        summary="Differences between the roster and NPPES",
    )
    def get(self, request):
        filters, errors = sel.MismatchFilters.from_query(request.query_params)
        if errors:
            raise InvalidInput("Some filters are not valid.", details=errors)
        qs = sel.mismatch_list(org=self.org, filters=filters)
        paginator = NppesMismatchCursor()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = NppesMismatchOut(page, many=True).data
        provider_list_record_read(
            org=self.org,
            actor=self.actor,
            providers=[m.provider_id for m in page],
            part="nppes mismatches",
            via="api",
        )
        return paginator.get_paginated_response(data)


class MismatchAcceptView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}

    @extend_schema(
        request=None,
        responses=NppesMismatchOut,
        summary="Take NPPES's value into the roster (audited with source NPPES)",
    )
    def post(self, request, mismatch_id):
        org = self.org
        mismatch = sel.mismatch_get(org=org, mismatch_id=mismatch_id)
        mismatch = svc.nppes_mismatch_accept(org=org, actor=self.actor, mismatch=mismatch)
        return Response(NppesMismatchOut(mismatch).data)


class MismatchDismissView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}

    @extend_schema(
        request=NppesDismissIn,
        responses=NppesMismatchOut,
        summary="Dismiss a difference until NPPES changes that field again",
    )
    def post(self, request, mismatch_id):
        org = self.org
        data = NppesDismissIn(data=request.data)
        data.is_valid(raise_exception=True)
        mismatch = sel.mismatch_get(org=org, mismatch_id=mismatch_id)
        mismatch = svc.nppes_mismatch_dismiss(
            org=org, actor=self.actor, mismatch=mismatch, note=data.validated_data["note"]
        )
        return Response(NppesMismatchOut(mismatch).data)


class CheckListView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "outcome",
                str,
                description="failed (default: not_found or error), all, or one "
                "outcome: match, mismatch, deactivated, not_found, error",
            )  # fmt: skip
        ],
        responses=NppesCheckOut(many=True),
        summary="Each provider's last NPPES check (by default the failed ones)",
    )
    def get(self, request):
        outcome = request.query_params.get("outcome", "failed")
        if outcome not in {"failed", "all", *CheckOutcome.values}:
            raise InvalidInput("Unknown outcome.", details={"outcome": "invalid"})
        qs = sel.check_list(org=self.org, failed_only=outcome == "failed")
        if outcome in CheckOutcome.values:
            qs = qs.filter(outcome=outcome)
        paginator = NppesCheckCursor()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = NppesCheckOut(page, many=True).data
        provider_list_record_read(
            org=self.org,
            actor=self.actor,
            providers=[c.provider_id for c in page],
            part="nppes checks",
            via="api",
        )
        return paginator.get_paginated_response(data)


def _run_out(run) -> dict:
    body = NppesRunOut(run).data
    if run.status == RunStatus.QUEUED:
        result = AsyncResult(str(run.pk))
        info = result.info if isinstance(result.info, dict) else {}
        body["progress"] = {
            "state": result.state,
            "done": info.get("done"),
            "total": info.get("total"),
        }
    return body


class RefreshView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}

    @extend_schema(
        request=NppesRefreshIn,
        responses={202: NppesRunOut},
        summary="Queue an NPPES refresh of the organization, or of one provider",
    )
    def post(self, request):
        org = self.org
        data = NppesRefreshIn(data=request.data)
        data.is_valid(raise_exception=True)
        provider_id = data.validated_data.get("provider")
        provider = sel.provider_get(org=org, provider_id=provider_id) if provider_id else None
        run = svc.nppes_refresh_request(org=org, actor=self.actor, provider=provider)
        return Response(_run_out(run), status=status.HTTP_202_ACCEPTED)


class RunDetailView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}

    @extend_schema(responses=NppesRunOut, summary="One refresh run, with live progress")
    def get(self, request, run_id):
        return Response(_run_out(sel.run_get(org=self.org, run_id=run_id)))


class LookupView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}

    @extend_schema(
        parameters=[OpenApiParameter("npi", str, required=True)],
        responses=NppesLookupOut,
        summary="Look up one NPI in NPPES (to pre-fill a new provider); audited",
    )
    def get(self, request):
        result = svc.nppes_lookup(
            org=self.org,
            actor=self.actor,
            npi=request.query_params.get("npi", ""),
        )
        return Response(
            NppesLookupOut(
                {
                    "npi": result.npi,
                    "outcome": result.outcome,
                    "fetched_at": result.fetched_at,
                    "http_status": result.http_status,
                    "attempts": result.attempts,
                    "error": result.error,
                    "prefill": result.prefill,
                }
            ).data
        )
