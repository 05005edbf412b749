"""Screening API: runs (start, follow), hits (list, confirm, clear), dataset versions.

Reading needs roster.view; starting a run and reviewing hits need roster.change.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import CursorPagination, OrgAPIView
from credex.errors import InvalidInput, NotFound
from roster.models import Provider
from roster.services.providers import provider_list_record_read
from screening import selectors, services
from screening.models import (
    DatasetVersion,
    HitKind,
    HitStatus,
    RunTrigger,
    ScreeningHit,
    ScreeningRun,
    Source,
)


class DatasetVersionOut(serializers.ModelSerializer):
    class Meta:
        model = DatasetVersion
        fields = [
            "id",
            "source",
            "kind",
            "as_of",
            "row_count",
            "file_rows",
            "applied",
            "sha256",
            "filename",
            "is_active",
            "loaded_at",
        ]


class RunOut(serializers.ModelSerializer):
    provider = serializers.UUIDField(source="provider_id", allow_null=True)
    leie_version = serializers.UUIDField(source="leie_version_id", allow_null=True)
    sam_version = serializers.UUIDField(source="sam_version_id", allow_null=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ScreeningRun
        fields = [
            "id",
            "trigger",
            "status",
            "provider",
            "leie_version",
            "sam_version",
            "providers_total",
            "providers_processed",
            "counts",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "duration_ms",
            "progress",
        ]

    def get_progress(self, run) -> dict:
        p = selectors.run_progress(run)
        return {"phase": p.phase, "processed": p.processed, "total": p.total, "percent": p.percent}


class RunIn(serializers.Serializer):
    provider = serializers.UUIDField(required=False, allow_null=True)


class HitOut(serializers.ModelSerializer):
    provider = serializers.UUIDField(source="provider_id")
    run = serializers.UUIDField(source="run_id")
    dataset_version = serializers.UUIDField(source="dataset_version_id")
    reviewed_by = serializers.EmailField(source="reviewed_by.user.email", allow_null=True)
    related_hit = serializers.UUIDField(source="related_hit_id", allow_null=True)
    record_snapshot = serializers.SerializerMethodField()

    def get_record_snapshot(self, hit) -> dict:
        return selectors.shown_record(hit)  # a matched date of birth is the provider's: hidden

    class Meta:
        model = ScreeningHit
        fields = [
            "id",
            "provider",
            "run",
            "source",
            "dataset_version",
            "source_record_key",
            "record_hash",
            "kind",
            "score",
            "matched_fields",
            "explanation",
            "provider_snapshot",
            "record_snapshot",
            "status",
            "related_hit",
            "detected_at",
            "last_seen_at",
            "reviewed_by",
            "reviewed_at",
            "review_reason",
            "evidence_note",
            "ended_on",
        ]


class ConfirmIn(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class ClearIn(serializers.Serializer):
    reason = serializers.CharField(max_length=200)
    evidence = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class RunCursor(CursorPagination):
    ordering = ("-created_at", "-id")


class HitCursor(CursorPagination):
    ordering = ("-detected_at", "-id")


class RunListView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER, "POST": cap.CHANGE_ROSTER}

    @extend_schema(responses=RunOut(many=True), summary="Screening runs, newest first")
    def get(self, request):
        paginator = RunCursor()
        page = paginator.paginate_queryset(selectors.run_list(self.org), request, view=self)
        return paginator.get_paginated_response(RunOut(page, many=True).data)

    @extend_schema(
        request=RunIn,
        responses={202: RunOut},
        summary="Start screening the organization (or one provider: {provider: id})",
    )
    def post(self, request):
        data = RunIn(data=request.data)
        data.is_valid(raise_exception=True)
        org = self.org
        provider = None
        if data.validated_data.get("provider"):
            provider = Provider.objects.filter(
                organization=org, pk=data.validated_data["provider"]
            ).first()
            if provider is None:
                raise InvalidInput(
                    "No such provider on this roster.", details={"provider": "not_found"}
                )
        run = services.screening_run_request(
            org=org, actor=self.actor, provider=provider, trigger=RunTrigger.ON_DEMAND
        )
        return Response(RunOut(run).data, status=status.HTTP_202_ACCEPTED)


class RunDetailView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}

    @extend_schema(responses=RunOut, summary="One run, with live progress while it runs")
    def get(self, request, screening_run_id):
        return Response(RunOut(selectors.run_get(self.org, screening_run_id)).data)


class HitListView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}

    @extend_schema(
        responses=HitOut(many=True),
        summary="Screening hits, newest first",
        parameters=[
            OpenApiParameter("status", enum=HitStatus.values),
            OpenApiParameter("source", enum=Source.values),
            OpenApiParameter("kind", enum=HitKind.values),
            OpenApiParameter("provider", str, description="provider id"),
        ],
    )
    def get(self, request):
        filters = {}
        choices = {"status": HitStatus.values, "source": Source.values, "kind": HitKind.values}
        for name, allowed in choices.items():
            value = request.query_params.get(name)
            if value:
                if value not in allowed:
                    raise InvalidInput(
                        f"Unknown {name} {value!r}.", details={name: f"one of {allowed}"}
                    )
                filters[name] = value
        if request.query_params.get("provider"):
            filters["provider"] = _uuid(request.query_params["provider"], "provider")
        qs = selectors.hit_list(self.org, filters=filters).order_by("-detected_at", "-id")
        paginator = HitCursor()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = HitOut(page, many=True).data
        provider_list_record_read(
            org=self.org,
            actor=self.actor,
            providers=[h.provider_id for h in page],
            part="screening hits",
            via="api",
        )
        return paginator.get_paginated_response(data)


def _uuid(value: str, name: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidInput(f"{name} is not an id.", details={name: "invalid"})


class HitConfirmView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}

    @extend_schema(
        request=ConfirmIn,
        responses=HitOut,
        summary="Confirm an exclusion (flags the provider as excluded)",
    )
    def post(self, request, hit_id):
        data = ConfirmIn(data=request.data)
        data.is_valid(raise_exception=True)
        org = self.org
        hit = selectors.hit_get(org, hit_id)
        hit = services.hit_confirm(
            org=org, actor=self.actor, hit=hit, note=data.validated_data.get("note", "")
        )
        return Response(HitOut(selectors.hit_get(org, hit.pk)).data)


class HitClearView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}

    @extend_schema(request=ClearIn, responses=HitOut, summary="Clear a hit as a false positive")
    def post(self, request, hit_id):
        data = ClearIn(data=request.data)
        data.is_valid(raise_exception=True)
        org = self.org
        hit = selectors.hit_get(org, hit_id)
        hit = services.hit_clear(
            org=org,
            actor=self.actor,
            hit=hit,
            reason=data.validated_data["reason"],
            evidence=data.validated_data.get("evidence", ""),
        )
        return Response(HitOut(selectors.hit_get(org, hit.pk)).data)


class DatasetListView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}

    @extend_schema(
        responses=DatasetVersionOut(many=True),
        summary="Exclusion list versions (global), newest first",
    )
    def get(self, request):
        versions = selectors.dataset_version_list()[:200]
        return Response(DatasetVersionOut(versions, many=True).data)


class SamMatchOut(serializers.Serializer):
    classification = serializers.CharField(source="record.classification")
    name = serializers.SerializerMethodField()
    npi = serializers.CharField(source="record.npi")
    uei = serializers.CharField(source="record.uei")
    cage = serializers.CharField(source="record.cage")
    exclusion_type = serializers.CharField(source="record.exclusion_type")
    excluding_agency = serializers.CharField(source="record.agency_code")
    activate_date = serializers.DateField(source="record.activate_date", allow_null=True)
    termination_date = serializers.DateField(source="record.termination_date", allow_null=True)
    termination_indefinite = serializers.BooleanField(source="record.termination_indefinite")
    record_status = serializers.CharField(source="record.record_status")
    matched_by = serializers.ListField(child=serializers.CharField())
    in_force = serializers.BooleanField()

    def get_name(self, match) -> str:
        r = match.record
        return r.entity_name or " ".join(p for p in (r.first, r.middle, r.last, r.suffix) if p)


class SamCheckOut(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=["clean", "hit", "incomplete"],
        help_text="clean: nothing in force matches; hit: an exclusion in force matches the NPI "
        "or the name; incomplete: more records for the name than were read.",
    )
    checked_at = serializers.DateTimeField()
    verification = serializers.UUIDField(source="verification.pk")
    verification_result = serializers.CharField(source="verification.result")
    details = serializers.CharField(source="verification.details")
    searches = serializers.SerializerMethodField()
    matches = SamMatchOut(many=True)

    def get_searches(self, check) -> list[dict]:
        return [s.summary() for s in check.searches]


class ProviderSamCheckView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}

    @extend_schema(
        request=None,
        responses=SamCheckOut,
        summary="Check one provider on SAM.gov now (Exclusions API v4); recorded as a PSV "
        "verification. 409 when the API is not configured, 502 when SAM.gov fails, 503 when "
        "its rate limit is reached.",
    )
    def post(self, request, provider_id):
        org = self.org
        provider = Provider.objects.filter(organization=org, pk=provider_id).first()
        if provider is None:
            raise NotFound("Not found.")
        check = services.sam_check_provider(org=org, actor=self.actor, provider=provider)
        return Response(SamCheckOut(check).data)
