"""API v1: the PSV log (records per provider, one record, corrections, evidence download), the
PSV queue, and verification requests (open/assign, send, follow up, cancel). Every write goes
through a service, which audits it."""

from __future__ import annotations

from datetime import timedelta

from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import pagination, parsers, renderers, serializers, status
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import CursorPagination, OrgAPIView
from credex.errors import InvalidInput
from credex.models import Membership
from credex.services import get_or_404
from roster.api.documents import AnyMediaRenderer
from roster.models import Credential, Provider
from roster.services.providers import provider_list_record_read, provider_record_read
from verifications.models import (
    Verification,
    VerificationEvidence,
    VerificationMethod,
    VerificationRequest,
    VerificationResult,
    VerificationSource,
)
from verifications.selectors import queue as selectors
from verifications.services import queue as services
from verifications.services.records import verification_correct, verification_record
from verifications.views.queue import stream_evidence


# --- serializers --------------------------------------------------------------------------
class EvidenceOut(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = VerificationEvidence
        fields = ["id", "original_name", "content_type", "size", "sha256", "created_at", "download"]

    def get_download(self, obj) -> str:
        """The API path that streams the bytes (audited); there is no direct file URL."""
        return f"/api/v1/verification-evidence/{obj.pk}/download"


class VerificationOut(serializers.ModelSerializer):
    provider = serializers.UUIDField(source="provider_id")
    credential = serializers.UUIDField(source="credential_id", allow_null=True)
    supersedes = serializers.UUIDField(source="supersedes_id", allow_null=True)
    request = serializers.UUIDField(source="request_id", allow_null=True)
    superseded = serializers.SerializerMethodField()
    counts_until = serializers.SerializerMethodField()
    evidence = EvidenceOut(many=True, read_only=True)

    class Meta:
        model = Verification
        fields = [
            "id",
            "provider",
            "credential",
            "source",
            "source_state",
            "source_name",
            "method",
            "result",
            "verifier_kind",
            "verifier_label",
            "verified_at",
            "details",
            "reference",
            "data",
            "supersedes",
            "correction_reason",
            "request",
            "superseded",
            "counts_until",
            "evidence",
            "created_at",
        ]

    def get_superseded(self, obj) -> bool:
        return bool(getattr(obj, "is_superseded", False))

    @extend_schema_field(OpenApiTypes.DATE)
    def get_counts_until(self, obj) -> str | None:
        """The last decision date this record counts for (current, verified records only)."""
        if self.get_superseded(obj) or obj.result != VerificationResult.VERIFIED:
            return None
        days = self.context["org"].psv_validity_days
        return (timezone.localtime(obj.verified_at).date() + timedelta(days=days)).isoformat()


class VerificationPage(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = VerificationOut(many=True)


class _RecordFields(serializers.Serializer):
    source_state = serializers.CharField(required=False, allow_blank=True, max_length=2)
    source_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    verified_at = serializers.DateTimeField(required=False, help_text="Default now; not future.")
    details = serializers.CharField(required=False, allow_blank=True)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=300)
    data = serializers.JSONField(required=False, help_text="Facts seen at the source (object).")
    evidence = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text="Multipart only: PDF, PNG or JPEG files; the type is read from the bytes.",
    )

    def validate_data(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("An object.")
        return value


class VerificationIn(_RecordFields):
    source = serializers.ChoiceField(choices=VerificationSource.choices)
    method = serializers.ChoiceField(choices=VerificationMethod.choices)
    result = serializers.ChoiceField(choices=VerificationResult.choices)
    credential = serializers.UUIDField(
        required=False, allow_null=True, help_text="Omit for NPPES, OIG, SAM and NPDB checks."
    )


class CorrectionIn(_RecordFields):
    reason = serializers.CharField(max_length=2000)
    source = serializers.ChoiceField(choices=VerificationSource.choices, required=False)
    method = serializers.ChoiceField(choices=VerificationMethod.choices, required=False)
    result = serializers.ChoiceField(choices=VerificationResult.choices, required=False)


class RequestOut(serializers.ModelSerializer):
    provider = serializers.UUIDField(source="provider_id")
    credential = serializers.UUIDField(source="credential_id", allow_null=True)
    assigned_to = serializers.UUIDField(source="assigned_to_id", allow_null=True)
    packet = serializers.UUIDField(source="packet_id", allow_null=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = VerificationRequest
        fields = [
            "id",
            "provider",
            "credential",
            "source",
            "source_state",
            "status",
            "method",
            "sent_to",
            "requested_at",
            "due_date",
            "follow_up_count",
            "last_follow_up_at",
            "note",
            "assigned_to",
            "packet",
            "created_at",
            "completed_at",
            "overdue",
        ]

    def get_overdue(self, obj) -> bool:
        return bool(
            obj.status == "requested" and obj.due_date and obj.due_date < timezone.localdate()
        )


class QueueItemOut(serializers.Serializer):
    key = serializers.CharField()
    provider = serializers.UUIDField(source="provider.pk")
    provider_name = serializers.CharField(source="provider.full_name")
    credential = serializers.UUIDField(source="credential.pk", allow_null=True, default=None)
    credential_kind = serializers.CharField(source="credential.kind", allow_null=True, default=None)
    element = serializers.CharField(source="element_label")
    source = serializers.ChoiceField(choices=VerificationSource.choices)
    source_state = serializers.CharField()
    source_name = serializers.CharField(source="source_label")
    urgency_date = serializers.DateField(source="urgency", allow_null=True)
    reason = serializers.CharField()
    status = serializers.ChoiceField(choices=list(selectors.STATUSES.items()))
    request = RequestOut(allow_null=True)


class QueuePage(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = QueueItemOut(many=True)


class RequestOpenIn(serializers.Serializer):
    provider = serializers.UUIDField()
    credential = serializers.UUIDField(required=False, allow_null=True)
    source = serializers.ChoiceField(
        choices=VerificationSource.choices,
        required=False,
        help_text="Default: the credential kind's source. Required for provider-level checks.",
    )
    assigned_to = serializers.UUIDField(
        required=False, allow_null=True, help_text="A member id (owner, admin or coordinator)."
    )


class SendIn(serializers.Serializer):
    method = serializers.ChoiceField(choices=[(m.value, m.label) for m in services.WRITTEN_METHODS])
    sent_to = serializers.CharField(max_length=254)
    due_date = serializers.DateField(required=False, help_text="Default: 10 business days.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class FollowUpIn(serializers.Serializer):
    due_date = serializers.DateField(required=False, help_text="Default: 5 business days.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class CancelIn(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


# --- helpers --------------------------------------------------------------------------------
def _provider(org, provider_id) -> Provider:
    return get_or_404(Provider.objects.filter(organization=org), pk=provider_id)


def _credential(org, provider, credential_id) -> Credential | None:
    if not credential_id:
        return None
    credential = Credential.objects.filter(
        organization=org, provider=provider, pk=credential_id
    ).first()
    if credential is None:
        raise InvalidInput(
            "That credential is not one of this provider's.",
            details={"credential": "not found for this provider"},
        )
    return credential


def _out(org, verification_id) -> dict:
    verification = selectors.verification_get(org=org, verification_id=verification_id)
    return VerificationOut(verification, context={"org": org}).data


def _record_kwargs(values: dict) -> dict:
    kwargs = {
        k: values[k]
        for k in ("source_state", "source_name", "verified_at", "details", "reference", "data")
        if k in values
    }
    kwargs["evidence_files"] = values.get("evidence", [])
    return kwargs


PARSERS = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]


class VerificationCursor(CursorPagination):
    ordering = "-created_at"


# --- the PSV log ------------------------------------------------------------------------------
class ProviderVerificationListView(OrgAPIView):
    """A provider's PSV log (current and superseded records) and recording a new one."""

    required_capabilities = {"GET": cap.VIEW_ROSTER, "POST": cap.CHANGE_ROSTER}
    parser_classes = PARSERS

    @extend_schema(responses=VerificationPage, summary="A provider's PSV log, newest first")
    def get(self, request, provider_id):
        from django.db.models import Exists, OuterRef

        org = self.org
        provider = _provider(org, provider_id)
        qs = (
            Verification.objects.filter(organization=org, provider=provider)
            .annotate(is_superseded=Exists(Verification.objects.filter(supersedes=OuterRef("pk"))))
            .prefetch_related("evidence")
        )
        paginator = VerificationCursor()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = VerificationOut(page, many=True, context={"org": org}).data
        # The PSV log is provider data: its reads are audited like the provider file's.
        provider_record_read(
            org=org, actor=self.actor, provider=provider, part="verifications", via="api"
        )
        return paginator.get_paginated_response(data)

    @extend_schema(
        request={"application/json": VerificationIn, "multipart/form-data": VerificationIn},
        responses={201: VerificationOut},
        summary="Record a verification (multipart to attach evidence files)",
    )
    def post(self, request, provider_id):
        org = self.org
        provider = _provider(org, provider_id)
        body = VerificationIn(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        verification = verification_record(
            org=org,
            actor=self.actor,
            provider=provider,
            credential=_credential(org, provider, values.get("credential")),
            source=values["source"],
            method=values["method"],
            result=values["result"],
            **_record_kwargs(values),
        )
        return Response(_out(org, verification.pk), status=status.HTTP_201_CREATED)


class VerificationDetailView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}

    @extend_schema(responses=VerificationOut, summary="One PSV record")
    def get(self, request, verification_id):
        org = self.org
        verification = selectors.verification_get(org=org, verification_id=verification_id)
        data = VerificationOut(verification, context={"org": org}).data
        provider_record_read(
            org=org,
            actor=self.actor,
            provider=verification.provider,
            part="verification",
            via="api",
        )
        return Response(data)


class VerificationCorrectView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}
    parser_classes = PARSERS

    @extend_schema(
        request={"application/json": CorrectionIn, "multipart/form-data": CorrectionIn},
        responses={201: VerificationOut},
        summary="Correct a record: a new record supersedes it (409 if already corrected)",
    )
    def post(self, request, verification_id):
        org = self.org
        old = selectors.verification_get(org=org, verification_id=verification_id)
        body = CorrectionIn(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        changes = {k: values[k] for k in ("source", "method", "result") if k in values}
        kwargs = _record_kwargs(values)
        evidence = kwargs.pop("evidence_files")
        verification = verification_correct(
            org=org,
            actor=self.actor,
            verification=old,
            reason=values["reason"],
            evidence_files=evidence,
            **changes,
            **kwargs,
        )
        return Response(_out(org, verification.pk), status=status.HTTP_201_CREATED)


class EvidenceDownloadView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}
    renderer_classes = [renderers.JSONRenderer, AnyMediaRenderer]

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
        },
        summary="Download an evidence file (recorded in the audit log)",
    )
    def get(self, request, evidence_id):
        org = self.org
        evidence = selectors.evidence_get(org=org, evidence_id=evidence_id)
        opened = services.evidence_download(org=org, actor=self.actor, evidence=evidence)
        return stream_evidence(evidence, opened)


# --- the queue ----------------------------------------------------------------------------------
class QueuePagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class QueueView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}

    @extend_schema(
        parameters=[
            OpenApiParameter("source", str, enum=VerificationSource.values),
            OpenApiParameter("status", str, enum=list(selectors.STATUSES)),
            OpenApiParameter("coordinator", OpenApiTypes.UUID, description="A member id."),
            OpenApiParameter("q", str, description="Provider name or NPI."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=QueuePage,
        summary="The PSV queue, most urgent first (same filters as the page)",
    )
    def get(self, request):
        org = self.org
        errors = {}
        for name, allowed in (
            ("source", VerificationSource.values),
            ("status", selectors.STATUSES),
        ):
            value = request.query_params.get(name)
            if value and value not in allowed:
                errors[name] = f"One of {', '.join(allowed)}."
        filters = selectors.clean_filters(request.query_params)
        if request.query_params.get("coordinator") and not filters["coordinator"]:
            errors["coordinator"] = "A member id."
        if errors:
            raise InvalidInput("Some filters are not valid.", details=errors)
        today = timezone.localdate()
        rows = selectors.queue_rows(org=org, today=today, **filters)
        paginator = QueuePagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        items = selectors.queue_items(org=org, rows=page, today=today)
        data = QueueItemOut(items, many=True).data
        provider_list_record_read(
            org=org,
            actor=self.actor,
            providers=[i.provider for i in items],
            part="verification queue",
            via="api",
        )
        return paginator.get_paginated_response(data)


# --- requests -----------------------------------------------------------------------------------
class RequestListView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}

    @extend_schema(
        request=RequestOpenIn,
        responses={200: RequestOut},
        summary="Open (or find) the request for an element, optionally assigning it",
    )
    def post(self, request):
        org = self.org
        body = RequestOpenIn(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        provider = _provider(org, values["provider"])
        assignee = None
        if values.get("assigned_to"):
            assignee = Membership.objects.filter(
                organization=org,
                role__in=cap.roles_with(cap.CHANGE_ROSTER),
                pk=values["assigned_to"],
            ).first()
            if assignee is None:
                raise InvalidInput(
                    "Assign to an owner, admin or coordinator of this organization.",
                    details={"assigned_to": "not a member who can verify"},
                )
        vr = services.request_open(
            org=org,
            actor=self.actor,
            provider=provider,
            credential=_credential(org, provider, values.get("credential")),
            source=values.get("source", ""),
            assigned_to=assignee,
        )
        return Response(RequestOut(vr).data)


class RequestSendView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}

    @extend_schema(
        request=SendIn,
        responses=RequestOut,
        summary="Record that a written request went to the source (e-mail, fax or mail)",
    )
    def post(self, request, request_id):
        org = self.org
        vr = selectors.request_get(org=org, request_id=request_id)
        body = SendIn(data=request.data)
        body.is_valid(raise_exception=True)
        vr = services.request_send(org=org, actor=self.actor, request=vr, **body.validated_data)
        return Response(RequestOut(vr).data)


class RequestFollowUpView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}

    @extend_schema(request=FollowUpIn, responses=RequestOut, summary="Log a follow-up")
    def post(self, request, request_id):
        org = self.org
        vr = selectors.request_get(org=org, request_id=request_id)
        body = FollowUpIn(data=request.data)
        body.is_valid(raise_exception=True)
        vr = services.request_follow_up(
            org=org, actor=self.actor, request=vr, **body.validated_data
        )
        return Response(RequestOut(vr).data)


class RequestCancelView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}

    @extend_schema(request=CancelIn, responses=RequestOut, summary="Cancel a request (reason)")
    def post(self, request, request_id):
        org = self.org
        vr = selectors.request_get(org=org, request_id=request_id)
        body = CancelIn(data=request.data)
        body.is_valid(raise_exception=True)
        vr = services.request_cancel(
            org=org, actor=self.actor, request=vr, reason=body.validated_data["reason"]
        )
        return Response(RequestOut(vr).data)


urlpatterns: list = [
    path(
        "providers/<uuid:provider_id>/verifications",
        ProviderVerificationListView.as_view(),
        name="api_provider_verifications",
    ),
    path("verifications/queue", QueueView.as_view(), name="api_verification_queue"),
    path(
        "verifications/<uuid:verification_id>",
        VerificationDetailView.as_view(),
        name="api_verification",
    ),
    path(
        "verifications/<uuid:verification_id>/correct",
        VerificationCorrectView.as_view(),
        name="api_verification_correct",
    ),
    path(
        "verification-evidence/<uuid:evidence_id>/download",
        EvidenceDownloadView.as_view(),
        name="api_verification_evidence_download",
    ),
    path("verification-requests", RequestListView.as_view(), name="api_verification_requests"),
    path(
        "verification-requests/<uuid:request_id>/send",
        RequestSendView.as_view(),
        name="api_verification_request_send",
    ),
    path(
        "verification-requests/<uuid:request_id>/follow-up",
        RequestFollowUpView.as_view(),
        name="api_verification_request_follow_up",
    ),
    path(
        "verification-requests/<uuid:request_id>/cancel",
        RequestCancelView.as_view(),
        name="api_verification_request_cancel",
    ),
]
