"""Documents API: upload (multipart) and list per provider, metadata, audited download, review."""

from __future__ import annotations

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import parsers, renderers, serializers, status
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import CursorPagination, OrgAPIView
from credex.errors import InvalidInput
from roster.models import Document, DocumentKind, DocumentStatus
from roster.selectors import documents as selectors
from roster.services import documents as services


class DocumentOut(serializers.ModelSerializer):
    provider = serializers.UUIDField(source="provider_id")
    credential = serializers.UUIDField(source="credential_id", allow_null=True)
    upload_link = serializers.UUIDField(source="upload_link_id", allow_null=True)
    source = serializers.SerializerMethodField()
    uploaded_by = serializers.SerializerMethodField()
    reviewed_by = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "provider",
            "credential",
            "kind",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "status",
            "source",
            "upload_link",
            "uploaded_by",
            "reviewed_by",
            "reviewed_at",
            "review_note",
            "created_at",
            "download",
        ]

    @extend_schema_field({"type": "string", "enum": ["upload_link", "member", "api_key"]})
    def get_source(self, obj: Document) -> str:
        if obj.upload_link_id:
            return "upload_link"
        return "member" if obj.uploaded_by_id else "api_key"

    @extend_schema_field(OpenApiTypes.EMAIL)
    def get_uploaded_by(self, obj: Document) -> str | None:
        return obj.uploaded_by.user.email if obj.uploaded_by_id else None

    @extend_schema_field(OpenApiTypes.EMAIL)
    def get_reviewed_by(self, obj: Document) -> str | None:
        return obj.reviewed_by.user.email if obj.reviewed_by_id else None

    def get_download(self, obj: Document) -> str:
        """The API path that streams the bytes (audited); there is no direct file URL."""
        return f"/api/v1/documents/{obj.pk}/download"


class DocumentPage(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DocumentOut(many=True)


class DocumentUploadIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    file = serializers.FileField(help_text="PDF, PNG or JPEG; the type is read from the bytes.")
    credential = serializers.UUIDField(required=False, allow_null=True)
    accept = serializers.BooleanField(
        default=False, help_text="Accept at once instead of leaving it for review."
    )


class DocumentReviewIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "reject"])
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Required to reject."
    )


class DocumentCursor(CursorPagination):
    ordering = "-created_at"


class ProviderDocumentListView(OrgAPIView):
    """A provider's documents: list (audited read) and upload."""

    required_capabilities = {"GET": cap.VIEW_ROSTER, "POST": cap.CHANGE_ROSTER}
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=DocumentStatus.values),
            OpenApiParameter("kind", str, enum=DocumentKind.values),
        ],
        responses=DocumentPage,
        summary="A provider's documents, newest first",
    )
    def get(self, request, provider_id):
        org = self.org
        provider = selectors.provider_get(org=org, provider_id=provider_id)
        qs = selectors.documents_for_provider(org=org, provider=provider)
        errors = {}
        for name, allowed in (("status", DocumentStatus.values), ("kind", DocumentKind.values)):
            value = request.query_params.get(name)
            if value and value not in allowed:
                errors[name] = f"One of {', '.join(allowed)}."
            elif value:
                qs = qs.filter(**{name: value})
        if errors:
            raise InvalidInput("Some filters are not valid.", details=errors)
        services.provider_documents_viewed(org=org, actor=self.actor, provider=provider, via="api")
        paginator = DocumentCursor()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(DocumentOut(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": DocumentUploadIn},
        responses={201: DocumentOut},
        summary="Upload a document to a provider's file",
    )
    def post(self, request, provider_id):
        org = self.org
        provider = selectors.provider_get(org=org, provider_id=provider_id)
        data = DocumentUploadIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        credential = None
        if values.get("credential"):
            credential = provider.credentials.filter(pk=values["credential"]).first()
            if credential is None:
                raise InvalidInput(
                    "That credential is not one of this provider's.",
                    details={"credential": "not found for this provider"},
                )
        upload = values["file"]
        document = services.document_upload(
            org=org,
            actor=self.actor,
            provider=provider,
            kind=values["kind"],
            file=upload,
            filename=upload.name,
            credential=credential,
            accept=values["accept"],
        )
        document = selectors.document_get(org=org, document_id=document.pk)
        return Response(DocumentOut(document).data, status=status.HTTP_201_CREATED)


class DocumentDetailView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}

    @extend_schema(responses=DocumentOut, summary="One document's metadata")
    def get(self, request, document_id):
        org = self.org
        document = selectors.document_get(org=org, document_id=document_id)
        services.document_viewed(org=org, actor=self.actor, document=document)
        return Response(DocumentOut(document).data)


class AnyMediaRenderer(renderers.BaseRenderer):
    """Lets a client ask for the file's own type (Accept: application/pdf, image/*)."""

    media_type = "*/*"
    format = "bin"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # Only error bodies reach a renderer here (the file itself is streamed as is).
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data).encode()


class DocumentDownloadView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}
    renderer_classes = [renderers.JSONRenderer, AnyMediaRenderer]

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
        },
        summary="Download a document's bytes (recorded in the audit log)",
    )
    def get(self, request, document_id):
        from roster.views.documents import stream_document

        org = self.org
        document = selectors.document_get(org=org, document_id=document_id)
        opened = services.document_download(org=org, actor=self.actor, document=document)
        return stream_document(document, opened)


class DocumentReviewView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}

    @extend_schema(
        request=DocumentReviewIn,
        responses=DocumentOut,
        summary="Accept or reject a document (a rejection needs a reason)",
    )
    def post(self, request, document_id):
        org = self.org
        document = selectors.document_get(org=org, document_id=document_id)
        data = DocumentReviewIn(data=request.data)
        data.is_valid(raise_exception=True)
        document = services.document_review(
            org=org,
            actor=self.actor,
            document=document,
            decision=data.validated_data["decision"],
            reason=data.validated_data.get("reason", ""),
        )
        document = selectors.document_get(org=org, document_id=document.pk)
        return Response(DocumentOut(document).data)
