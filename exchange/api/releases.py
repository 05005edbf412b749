"""Exchange API: clinician releases (under /api/v1/exchange/).

- `GET exchange/releases` (?status=current|expiring|expired|revoked, ?provider_id=): the
  organization's releases, soonest expiry first (cursor pagination).
- `POST exchange/releases`: either a signed document, as multipart/form-data
  (`method=document`, `provider_id`, `scope_all`, `scope_sources` repeated, `signed_on`,
  `expires_on`, `file`), or a JSON request for the clinician's e-signature
  (`{"method": "esign", "provider_id", "scope_all", "scope_sources", "expires_on", "email"}`):
  201 with the release, or 202 with the e-signature request (the link goes by e-mail).
- `GET exchange/releases/<id>`, `POST exchange/releases/<id>/revoke` (`{"reason"}`).
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import CursorPagination, OrgAPIView
from credex.errors import InvalidInput
from exchange.models import ClinicianRelease, ReleaseRequest
from exchange.selectors import releases as selectors
from exchange.services import releases as services
from roster.selectors.providers import provider_get
from roster.services.providers import provider_list_record_read
from verifications.models import VerificationSource


class ReleaseOut(serializers.ModelSerializer):
    provider_id = serializers.UUIDField()
    provider_name = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    has_document = serializers.SerializerMethodField()

    class Meta:
        model = ClinicianRelease
        fields = [
            "id",
            "provider_id",
            "provider_name",
            "status",
            "scope_all",
            "scope_sources",
            "signed_on",
            "expires_on",
            "method",
            "has_document",
            "document_name",
            "document_sha256",
            "signer_name",
            "signed_at",
            "signer_ip",
            "text_shown",
            "text_sha256",
            "created_at",
            "revoked_at",
            "revoked_reason",
        ]

    def get_provider_name(self, obj) -> str:
        return obj.provider.full_name

    def get_status(self, obj) -> str:
        return selectors.release_status(obj)

    def get_has_document(self, obj) -> bool:
        return bool(obj.document)


class ReleaseRequestOut(serializers.ModelSerializer):
    provider_id = serializers.UUIDField()
    link_expires_at = serializers.DateTimeField(source="expires_at")

    class Meta:
        model = ReleaseRequest
        fields = [
            "id",
            "provider_id",
            "scope_all",
            "scope_sources",
            "release_expires_on",
            "email",
            "link_expires_at",
            "created_at",
        ]


class ReleaseIn(serializers.Serializer):
    method = serializers.ChoiceField(choices=["document", "esign"])
    provider_id = serializers.UUIDField()
    scope_all = serializers.BooleanField(default=True)
    scope_sources = serializers.ListField(
        child=serializers.ChoiceField(choices=VerificationSource.choices),
        required=False,
        default=list,
        max_length=len(VerificationSource.values),
    )
    expires_on = serializers.DateField()
    signed_on = serializers.DateField(required=False, help_text="method=document only")
    file = serializers.FileField(
        required=False, help_text="method=document only: PDF, PNG or JPEG (read from the bytes)"
    )
    email = serializers.EmailField(required=False, allow_blank=True, help_text="method=esign")


class RevokeIn(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class ReleaseCursor(CursorPagination):
    ordering = ("expires_on", "id")


class ReleaseListView(OrgAPIView):
    """The organization's clinician releases; record one or ask for an e-signature."""

    required_capabilities = {"GET": cap.VIEW_EXCHANGE, "POST": cap.TRADE_EXCHANGE}
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(selectors.STATUSES)),
            OpenApiParameter("provider_id", OpenApiTypes.UUID),
        ],
        responses=ReleaseOut(many=True),
        summary="Clinician releases, soonest expiry first",
    )
    def get(self, request):
        org = self.org
        state = request.query_params.get("status") or ""
        if state and state not in selectors.STATUSES:
            raise InvalidInput(
                "Unknown status.", details={"status": f"One of {', '.join(selectors.STATUSES)}."}
            )
        provider_id = request.query_params.get("provider_id") or None
        if provider_id:
            provider_id = provider_get(org=org, provider_id=_uuid(provider_id)).pk
        qs = selectors.release_list(org=org, status=state, provider_id=provider_id)
        paginator = ReleaseCursor()
        page = paginator.paginate_queryset(qs, request, view=self)
        provider_list_record_read(
            org=org,
            actor=self.actor,
            providers=[r.provider_id for r in page],
            part="exchange_releases",
            via="api",
        )
        return paginator.get_paginated_response(ReleaseOut(page, many=True).data)

    @extend_schema(
        request={"application/json": ReleaseIn, "multipart/form-data": ReleaseIn},
        responses={201: ReleaseOut, 202: ReleaseRequestOut},
        summary="Record a signed release document, or ask the clinician to e-sign",
    )
    def post(self, request):
        org = self.org
        body = ReleaseIn(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        provider = provider_get(org=org, provider_id=values["provider_id"])
        scope = {"scope_all": values["scope_all"], "scope_sources": values["scope_sources"]}
        if values["method"] == "esign":
            release_request = services.release_request_esign(
                org=org,
                actor=self.actor,
                provider=provider,
                expires_on=values["expires_on"],
                email=values.get("email") or None,
                **scope,
            )
            return Response(
                ReleaseRequestOut(release_request).data, status=status.HTTP_202_ACCEPTED
            )
        missing = {
            name: "Required for a document release (send multipart/form-data)."
            for name in ("signed_on", "file")
            if values.get(name) is None
        }
        if missing:
            raise InvalidInput("A document release needs the file and its date.", details=missing)
        upload = values["file"]
        release = services.release_record_document(
            org=org,
            actor=self.actor,
            provider=provider,
            signed_on=values["signed_on"],
            expires_on=values["expires_on"],
            file=upload,
            filename=upload.name,
            **scope,
        )
        release = selectors.release_get(org=org, release_id=release.pk)
        return Response(ReleaseOut(release).data, status=status.HTTP_201_CREATED)


def _uuid(value: str):
    import uuid

    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput("Not a provider id.", details={"provider_id": "Not a UUID."})


class ReleaseDetailView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_EXCHANGE}

    @extend_schema(responses=ReleaseOut, summary="One clinician release")
    def get(self, request, release_id):
        release = selectors.release_get(org=self.org, release_id=release_id)
        provider_list_record_read(
            org=self.org,
            actor=self.actor,
            providers=[release.provider_id],
            part="exchange_release",
            via="api",
        )
        return Response(ReleaseOut(release).data)


class ReleaseRevokeView(OrgAPIView):
    required_capabilities = {"POST": cap.TRADE_EXCHANGE}

    @extend_schema(request=RevokeIn, responses=ReleaseOut, summary="Revoke a clinician release")
    def post(self, request, release_id):
        org = self.org
        release = selectors.release_get(org=org, release_id=release_id)
        body = RevokeIn(data=request.data)
        body.is_valid(raise_exception=True)
        services.release_revoke(
            org=org, actor=self.actor, release=release, reason=body.validated_data["reason"]
        )
        return Response(ReleaseOut(selectors.release_get(org=org, release_id=release.pk)).data)


urlpatterns = [
    path("exchange/releases", ReleaseListView.as_view(), name="api_exchange_releases"),
    path(
        "exchange/releases/<uuid:release_id>",
        ReleaseDetailView.as_view(),
        name="api_exchange_release",
    ),
    path(
        "exchange/releases/<uuid:release_id>/revoke",
        ReleaseRevokeView.as_view(),
        name="api_exchange_release_revoke",
    ),
]
