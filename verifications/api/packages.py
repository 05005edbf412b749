"""Credential packages API: request a build, list and read packages, download (audited),
shares (list, create, revoke). (Payer contacts are the enrollment app's API.)"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import renderers, serializers, status
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import CursorPagination, OrgAPIView
from credex.errors import InvalidInput, NotFound
from roster.api.documents import AnyMediaRenderer
from roster.selectors.providers import provider_get
from roster.services.providers import provider_list_record_read, provider_record_read
from verifications.models import CredentialPackage, PackageShare, PackageStatus
from verifications.selectors import packages as selectors
from verifications.services import packages as services
from verifications.services import shares as share_services


class PackageSectionOut(serializers.Serializer):
    title = serializers.CharField()
    page = serializers.IntegerField()
    level = serializers.IntegerField(help_text="1: a top-level bookmark; 2: a document.")


class PackageMissingOut(serializers.Serializer):
    category = serializers.ChoiceField(choices=["requirement", "verification", "document"])
    message = serializers.CharField()


class PackageOut(serializers.ModelSerializer):
    provider = serializers.UUIDField(source="provider_id")
    requested_by = serializers.SerializerMethodField()
    sections = PackageSectionOut(many=True)
    missing = PackageMissingOut(many=True)
    download = serializers.SerializerMethodField()

    class Meta:
        model = CredentialPackage
        fields = [
            "id",
            "provider",
            "status",
            "requested_by",
            "created_at",
            "finished_at",
            "page_count",
            "size",
            "sha256",
            "sections",
            "missing",
            "error",
            "download",
        ]

    @extend_schema_field(OpenApiTypes.EMAIL)
    def get_requested_by(self, obj) -> str | None:
        return obj.requested_by.user.email if obj.requested_by_id else None

    @extend_schema_field(OpenApiTypes.STR)
    def get_download(self, obj) -> str | None:
        """The API path that streams the PDF (audited), once the package is ready."""
        return f"/api/v1/packages/{obj.pk}/download" if obj.status == PackageStatus.READY else None


class PackagePage(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PackageOut(many=True)


class ShareOut(serializers.ModelSerializer):
    package = serializers.UUIDField(source="package_id")
    contact = serializers.UUIDField(source="contact_id", allow_null=True)
    state = serializers.SerializerMethodField()

    class Meta:
        model = PackageShare
        fields = [
            "id",
            "package",
            "contact",
            "email",
            "message",
            "state",
            "created_at",
            "expires_at",
            "revoked_at",
            "view_count",
            "download_count",
            "last_viewed_at",
        ]

    @extend_schema_field({"type": "string", "enum": ["active", "expired", "revoked"]})
    def get_state(self, obj) -> str:
        return selectors.share_state(obj)


class ShareIn(serializers.Serializer):
    contact = serializers.UUIDField(
        required=False, allow_null=True, help_text="A payer contact; its e-mail is used."
    )
    email = serializers.EmailField(
        required=False, allow_blank=True, help_text="When no contact is given."
    )
    days = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="How long the link works (default and maximum: PACKAGE_SHARE_MAX_AGE_DAYS).",
    )
    message = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class PackageCursor(CursorPagination):
    ordering = "-created_at"


class ProviderPackagesView(OrgAPIView):
    """Request a credential package build for a provider."""

    required_capabilities = {"POST": cap.CHANGE_ROSTER}
    serializer_class = PackageOut

    @extend_schema(
        request=None,
        responses={202: PackageOut},
        summary="Request a credential package (built by a worker; poll the package)",
    )
    def post(self, request, provider_id):
        org = self.org
        provider = provider_get(org=org, provider_id=provider_id)
        package = services.package_request(org=org, actor=self.actor, provider=provider)
        package = selectors.package_get(org=org, package_id=package.pk)
        return Response(PackageOut(package).data, status=status.HTTP_202_ACCEPTED)


class PackageListView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}
    serializer_class = PackageOut

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=PackageStatus.values),
            OpenApiParameter("provider", OpenApiTypes.UUID),
        ],
        responses=PackagePage,
        operation_id="v1_packages_list",
        summary="Credential packages, newest first",
    )
    def get(self, request):
        org = self.org
        value = request.query_params.get("status", "")
        if value and value not in PackageStatus.values:
            raise InvalidInput(
                "Some filters are not valid.",
                details={"status": f"One of {', '.join(PackageStatus.values)}."},
            )
        provider_id = request.query_params.get("provider") or None
        if provider_id:
            provider_id = provider_get(org=org, provider_id=provider_id).pk
        qs = selectors.package_list(org=org, status=value, provider_id=provider_id)
        paginator = PackageCursor()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = PackageOut(page, many=True).data
        provider_list_record_read(
            org=org,
            actor=self.actor,
            providers=[p.provider_id for p in page],
            part="packages",
            via="api",
        )
        return paginator.get_paginated_response(data)


class PackageDetailView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}
    serializer_class = PackageOut

    @extend_schema(responses=PackageOut, summary="One credential package (status, contents)")
    def get(self, request, package_id):
        org = self.org
        package = selectors.package_get(org=org, package_id=package_id)
        data = PackageOut(package).data
        provider_record_read(
            org=org, actor=self.actor, provider=package.provider, part="package", via="api"
        )
        return Response(data)


class PackageDownloadView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}
    renderer_classes = [renderers.JSONRenderer, AnyMediaRenderer]

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        summary="Download a ready package's PDF (recorded in the audit log)",
    )
    def get(self, request, package_id):
        from verifications.views.packages import stream_package

        org = self.org
        package = selectors.package_get(org=org, package_id=package_id)
        opened = services.package_download(org=org, actor=self.actor, package=package, via="api")
        return stream_package(package, opened)


class PackageSharesView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER, "POST": cap.CHANGE_ROSTER}
    serializer_class = ShareOut

    @extend_schema(responses=ShareOut(many=True), summary="A package's payer shares")
    def get(self, request, package_id):
        org = self.org
        package = selectors.package_get(org=org, package_id=package_id)
        shares = selectors.shares_for_package(org=org, package=package)
        return Response(ShareOut(shares, many=True).data)

    @extend_schema(
        request=ShareIn,
        responses={201: ShareOut},
        summary="Share a ready package: a signed, expiring link e-mailed to the payer contact",
    )
    def post(self, request, package_id):
        org = self.org
        package = selectors.package_get(org=org, package_id=package_id)
        data = ShareIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        contact = None
        if values.get("contact"):
            try:
                contact = selectors.contact_get(org=org, contact_id=values["contact"])
            except NotFound:
                raise InvalidInput(
                    "That payer contact does not exist.", details={"contact": "not found"}
                ) from None
        share = share_services.share_create(
            org=org,
            actor=self.actor,
            package=package,
            contact=contact,
            email="" if contact else values.get("email", ""),
            days=values.get("days"),
            message=values.get("message", ""),
        )
        return Response(ShareOut(share).data, status=status.HTTP_201_CREATED)


class ShareRevokeView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}
    serializer_class = ShareOut

    @extend_schema(request=None, responses=ShareOut, summary="Stop a share link working")
    def post(self, request, share_id):
        org = self.org
        share = selectors.share_get(org=org, share_id=share_id)
        share = share_services.share_revoke(org=org, actor=self.actor, share=share)
        return Response(ShareOut(share).data)


urlpatterns = [
    path(
        "providers/<uuid:provider_id>/packages",
        ProviderPackagesView.as_view(),
        name="api_provider_packages",
    ),
    path("packages", PackageListView.as_view(), name="api_packages"),
    path("packages/<uuid:package_id>", PackageDetailView.as_view(), name="api_package"),
    path(
        "packages/<uuid:package_id>/download",
        PackageDownloadView.as_view(),
        name="api_package_download",
    ),
    path(
        "packages/<uuid:package_id>/shares", PackageSharesView.as_view(), name="api_package_shares"
    ),
    path("shares/<uuid:share_id>/revoke", ShareRevokeView.as_view(), name="api_share_revoke"),
]
