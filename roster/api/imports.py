"""API v1: CSV bulk imports (POST a file, read the job's status, counts and errors)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import CursorPagination, OrgAPIView
from credex.errors import InvalidInput
from roster.importer import group_errors
from roster.models import ImportJob, ImportStatus
from roster.services.imports import import_job_create, import_job_get, import_job_list


class ImportErrorOut(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True, help_text="Spreadsheet row number (the header is row 1)."
    )
    column = serializers.CharField(allow_blank=True)
    value = serializers.CharField(allow_blank=True, help_text="SSN and DOB values are hidden.")
    reason = serializers.CharField()


class ImportJobOut(serializers.ModelSerializer):
    # A plain string (values listed) rather than an enum: several APIs have a "status" enum
    # and drf-spectacular would have to invent a colliding name for this one.
    status = serializers.CharField(
        help_text="queued, validating, importing, done, rejected (nothing written) or failed."
    )
    error_count = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "status",
            "original_name",
            "total_rows",
            "processed_rows",
            "created_count",
            "updated_count",
            "documents_requested",
            "upload_links_sent",
            "error_count",
            "created_at",
            "finished_at",
        ]

    def get_error_count(self, job) -> int:
        return len(job.errors)


class ImportErrorGroupOut(serializers.Serializer):
    rule = serializers.CharField(
        help_text="column:<name> for a field problem, file for the file as a whole, "
        "document_required for required documents that are missing."
    )
    title = serializers.CharField()
    count = serializers.IntegerField(help_text="Problems in the group (documents, for documents).")
    rows = serializers.IntegerField(help_text="Items in the group (providers, for documents).")
    items = serializers.ListField(
        child=serializers.DictField(),
        help_text="The first items (row, column, value, reason; for documents: row, provider, "
        "npi, documents, reason — one per provider). Every problem is in `errors`.",
    )


class ImportJobDetailOut(ImportJobOut):
    errors = ImportErrorOut(many=True, help_text="Every problem, one per row and column.")
    error_groups = serializers.SerializerMethodField(
        help_text="The problems grouped by rule: field problems first, in row order, then the "
        "required documents once per provider."
    )

    class Meta(ImportJobOut.Meta):
        fields = [*ImportJobOut.Meta.fields, "error_groups", "errors"]

    @extend_schema_field(ImportErrorGroupOut(many=True))
    def get_error_groups(self, job) -> list[dict]:
        return [g.as_dict() for g in group_errors(job.errors)]


class ImportJobIn(serializers.Serializer):
    file = serializers.FileField(help_text="The CSV (UTF-8), header as in the import template.")
    documents = serializers.FileField(
        required=False, help_text="Optional ZIP holding the files named in document_file."
    )


class ImportCursor(CursorPagination):
    ordering = "-created_at"


class ImportListView(OrgAPIView):
    """Start an import; list past imports."""

    required_capabilities = {"GET": cap.VIEW_ROSTER, "POST": cap.CHANGE_ROSTER}
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(responses=ImportJobOut(many=True), summary="Import jobs, newest first")
    def get(self, request):
        jobs = import_job_list(org=self.org)
        paginator = ImportCursor()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(ImportJobOut(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": ImportJobIn},
        responses={
            201: OpenApiResponse(
                ImportJobDetailOut,
                description="Ran at once: status is done (written) or rejected (nothing "
                "written; every error listed).",
            ),
            202: OpenApiResponse(
                ImportJobDetailOut,
                description="Queued (a large file): poll GET /imports/{id} for progress.",
            ),
        },
        summary="Import providers and credentials from a CSV (and a documents ZIP)",
    )
    def post(self, request):
        data = ImportJobIn(data=request.data)
        if not data.is_valid():
            raise InvalidInput(
                "Send the CSV as multipart/form-data in the field “file”.",
                details={k: " ".join(str(m) for m in v) for k, v in data.errors.items()},
            )
        job = import_job_create(
            org=self.org,
            actor=self.actor,
            csv_file=data.validated_data["file"],
            documents_zip=data.validated_data.get("documents"),
        )
        code = status.HTTP_202_ACCEPTED if job.status == ImportStatus.QUEUED else 201
        return Response(ImportJobDetailOut(job).data, status=code)


class ImportDetailView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER}

    @extend_schema(
        responses=ImportJobDetailOut, summary="One import: status, progress, counts, errors"
    )
    def get(self, request, job_id):
        job = import_job_get(org=self.org, job_id=job_id)
        return Response(ImportJobDetailOut(job).data)
