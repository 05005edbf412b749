"""API v1: re-verification packets — start one for a provider, list, read with steps, cancel,
and the bulk start for everyone due (with its progress)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import CursorPagination, OrgAPIView
from credex.errors import InvalidInput, NotFound
from roster.selectors.providers import provider_get
from roster.services.providers import provider_list_record_read, provider_record_read
from verifications.models import PacketStatus, PacketStep, ReverificationPacket
from verifications.selectors import packets as sel
from verifications.services import packets as svc


class PacketStepOut(serializers.ModelSerializer):
    request = serializers.UUIDField(source="request_id", allow_null=True)
    verification = serializers.UUIDField(source="verification_id", allow_null=True)
    detail = serializers.DictField()
    needs_attention = serializers.SerializerMethodField()
    attention_reason = serializers.SerializerMethodField()
    record_url = serializers.SerializerMethodField()

    class Meta:
        model = PacketStep
        fields = [
            "id",
            "kind",
            "label",
            "status",
            "needs_attention",
            "attention_reason",
            "record_url",
            "request",
            "verification",
            "detail",
            "updated_at",
        ]

    def get_needs_attention(self, obj) -> bool:
        """True when the step's record is a discrepancy or "unable to verify" (status
        `needs_attention`) or the step failed: the packet cannot complete."""
        return obj.status in ("needs_attention", "failed")

    def get_attention_reason(self, obj) -> str:
        if obj.status == "needs_attention":
            return obj.detail.get("attention", "")
        if obj.status == "failed":
            return obj.detail.get("reason", "")
        return ""

    def get_record_url(self, obj) -> str | None:
        return getattr(obj, "record_url", None)


class PacketOut(serializers.ModelSerializer):
    provider = serializers.UUIDField(source="provider_id")
    upload_link = serializers.UUIDField(source="upload_link_id", allow_null=True)
    started_by = serializers.SerializerMethodField()
    steps_total = serializers.SerializerMethodField()
    steps_done = serializers.SerializerMethodField()
    steps_needing_attention = serializers.SerializerMethodField()

    class Meta:
        model = ReverificationPacket
        fields = [
            "id",
            "provider",
            "status",
            "started_by",
            "started_at",
            "completed_at",
            "upload_link",
            "bulk_key",
            "steps_total",
            "steps_done",
            "steps_needing_attention",
        ]

    def get_started_by(self, obj) -> str | None:
        return obj.started_by.user.email if obj.started_by_id else None

    def _steps(self, obj) -> list:
        steps = self.context.get("steps")
        if steps is None:
            steps = list(obj.steps.all())
        return steps

    def get_steps_total(self, obj) -> int:
        total = getattr(obj, "steps_total", None)
        return total if total is not None else len(self._steps(obj))

    def get_steps_done(self, obj) -> int:
        done = getattr(obj, "steps_done", None)
        if done is not None:
            return done
        return sum(1 for s in self._steps(obj) if s.status in ("done", "skipped"))

    def get_steps_needing_attention(self, obj) -> int:
        failed = getattr(obj, "steps_failed", None)
        if failed is not None:
            return failed
        return sum(1 for s in self._steps(obj) if s.status in ("needs_attention", "failed"))


class PacketDetailOut(PacketOut):
    steps = serializers.SerializerMethodField()

    class Meta(PacketOut.Meta):
        fields = [*PacketOut.Meta.fields, "steps"]

    @extend_schema_field(PacketStepOut(many=True))
    def get_steps(self, obj) -> list[dict]:
        return PacketStepOut(self._steps(obj), many=True).data


class PacketCancelIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class PacketStartIn(serializers.Serializer):
    """No fields: the packet's steps follow from the provider's file."""


class BulkIn(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1,
        max_value=730,
        default=svc.BULK_DUE_DAYS,
        help_text="Re-credentialing due within this many days (overdue included).",
    )


class BulkOut(serializers.Serializer):
    job = serializers.CharField()
    due = serializers.IntegerField()
    status_url = serializers.CharField()


class BulkStatusOut(serializers.Serializer):
    job = serializers.CharField()
    status = serializers.ChoiceField(choices=["queued", "running", "done", "failed"])
    processed = serializers.IntegerField()
    total = serializers.IntegerField()
    started = serializers.IntegerField()
    skipped = serializers.IntegerField()
    error = serializers.CharField(allow_blank=True)


class PacketCursor(CursorPagination):
    ordering = ("-started_at", "-id")


def _detail(org, packet) -> dict:
    steps = sel.packet_steps(org=org, packet=packet)
    return PacketDetailOut(packet, context={"steps": steps}).data


class PacketListView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}
    serializer_class = PacketOut

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=PacketStatus.values),
            OpenApiParameter("due", str, enum=list(sel.DUE_FILTERS)),
            OpenApiParameter("provider", str, description="A provider id."),
        ],
        responses=PacketOut(many=True),
        summary="Re-verification packets, newest first (cursor pages)",
    )
    def get(self, request):
        org = self.org
        status_ = request.query_params.get("status", "")
        due = request.query_params.get("due", "")
        errors = {}
        if status_ and status_ not in PacketStatus.values:
            errors["status"] = f"One of: {', '.join(PacketStatus.values)}."
        if due and due not in sel.DUE_FILTERS:
            errors["due"] = f"One of: {', '.join(sel.DUE_FILTERS)}."
        if errors:
            raise InvalidInput("Some filters are not valid.", details=errors)
        qs = sel.packet_list(org=org, status=status_, due=due)
        provider = request.query_params.get("provider", "")
        if provider:
            qs = qs.filter(provider=provider_get(org=org, provider_id=provider))
        paginator = PacketCursor()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = PacketOut(page, many=True).data
        provider_list_record_read(
            org=org,
            actor=self.actor,
            providers=[p.provider_id for p in page],
            part="packets",
            via="api",
        )
        return paginator.get_paginated_response(data)


class ProviderPacketStartView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}
    serializer_class = PacketStartIn

    @extend_schema(
        request=PacketStartIn,
        responses={201: PacketDetailOut},
        summary="Start a re-verification packet for a provider (409 when one is in progress)",
    )
    def post(self, request, provider_id):
        org = self.org
        provider = provider_get(org=org, provider_id=provider_id)
        packet = svc.packet_start(org=org, actor=self.actor, provider=provider)
        packet = sel.packet_get(org=org, packet_id=packet.pk)
        return Response(_detail(org, packet), status=status.HTTP_201_CREATED)


class PacketDetailView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}
    serializer_class = PacketDetailOut

    @extend_schema(responses=PacketDetailOut, summary="One packet with its steps")
    def get(self, request, packet_id):
        org = self.org
        packet = sel.packet_get(org=org, packet_id=packet_id)
        data = _detail(org, packet)
        provider_record_read(
            org=org, actor=self.actor, provider=packet.provider, part="packet", via="api"
        )
        return Response(data)


class PacketCancelView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}
    serializer_class = PacketCancelIn

    @extend_schema(
        request=PacketCancelIn,
        responses=PacketDetailOut,
        summary="Cancel a packet in progress (pending steps are skipped; 409 otherwise)",
    )
    def post(self, request, packet_id):
        org = self.org
        packet = sel.packet_get(org=org, packet_id=packet_id)
        body = PacketCancelIn(data=request.data)
        body.is_valid(raise_exception=True)
        svc.packet_cancel(
            org=org,
            actor=self.actor,
            packet=packet,
            reason=body.validated_data.get("reason", ""),
        )
        return Response(_detail(org, sel.packet_get(org=org, packet_id=packet.pk)))


class PacketBulkView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}
    serializer_class = BulkIn

    @extend_schema(
        request=BulkIn,
        responses={202: BulkOut},
        summary="Start a packet for everyone due (one background job; poll its status)",
    )
    def post(self, request):
        org = self.org
        body = BulkIn(data=request.data)
        body.is_valid(raise_exception=True)
        job = svc.packets_bulk_request(org=org, actor=self.actor, days=body.validated_data["days"])
        return Response(
            {**job, "status_url": f"/api/v1/packets/bulk/{job['job']}"},
            status=status.HTTP_202_ACCEPTED,
        )


class PacketBulkStatusView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}
    serializer_class = BulkStatusOut

    @extend_schema(responses=BulkStatusOut, summary="Progress of a bulk start")
    def get(self, request, bulk_id):
        org = self.org
        progress = sel.bulk_progress(org=org, bulk_key=bulk_id)
        if progress.status == "unknown":
            raise NotFound("Not found.")
        return Response(
            {
                "job": bulk_id,
                "status": progress.status,
                "processed": progress.processed,
                "total": progress.total,
                "started": progress.started,
                "skipped": progress.skipped,
                "error": progress.error,
            }
        )


urlpatterns = [
    path("packets", PacketListView.as_view(), name="api_packets"),
    path("packets/bulk", PacketBulkView.as_view(), name="api_packets_bulk"),
    path(
        "packets/bulk/<slug:bulk_id>",
        PacketBulkStatusView.as_view(),
        name="api_packets_bulk_status",
    ),
    path("packets/<uuid:packet_id>", PacketDetailView.as_view(), name="api_packet"),
    path("packets/<uuid:packet_id>/cancel", PacketCancelView.as_view(), name="api_packet_cancel"),
    path(
        "providers/<uuid:provider_id>/packets",
        ProviderPacketStartView.as_view(),
        name="api_provider_packets",
    ),
]
