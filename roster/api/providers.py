"""API v1: providers and their credentials.

Output never carries the date of birth or the SSN: only `has_dob` and `ssn_last4`.
Revealing one is its own audited POST. Every read of a provider (GET of one provider, of its
credentials, or of one credential) records `roster.provider.viewed`.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import CursorPagination, OrgAPIView
from credex.errors import InvalidInput
from roster.models import (
    Credential,
    CredentialKind,
    CredentialStatus,
    Provider,
    ProviderStatus,
)
from roster.selectors import providers as sel
from roster.services import providers as svc

# --- serializers --------------------------------------------------------------------------------


_OUT_NAMES = {"dob": "has_dob", "ssn": "ssn_last4"}


class ProviderOut(serializers.ModelSerializer):
    primary_taxonomy = serializers.CharField(source="primary_taxonomy_id", allow_null=True)
    coordinator = serializers.UUIDField(source="coordinator_id", allow_null=True)
    has_dob = serializers.SerializerMethodField()
    full_name = serializers.CharField()

    class Meta:
        model = Provider
        # The service's field list (protected values only as has_dob / ssn_last4), full_name
        # after the name parts.
        fields = [
            "id",
            *svc.PROVIDER_FIELDS[:5],
            "full_name",
            *(_OUT_NAMES.get(name, name) for name in svc.PROVIDER_FIELDS[5:]),
            "excluded",
            "excluded_at",
            "created_at",
            "updated_at",
        ]

    def get_has_dob(self, obj) -> bool:
        return bool(obj.dob_encrypted)


class ProviderListOut(ProviderOut):
    next_expiry = serializers.DateField(allow_null=True, read_only=True)

    class Meta(ProviderOut.Meta):
        fields = [*ProviderOut.Meta.fields, "next_expiry"]


class ProviderIn(serializers.Serializer):
    """Fields of a provider; on PATCH every field is optional. `dob`/`ssn` are write-only."""

    npi = serializers.CharField(required=False, allow_blank=True, max_length=14)
    first_name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Required unless legal_name is given (an organization).",
    )
    middle_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    last_name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Required unless legal_name is given (an organization).",
    )
    suffix = serializers.CharField(required=False, allow_blank=True, max_length=20)
    former_names = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False
    )
    legal_name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=300,
        help_text="Organizations: the legal business name (screened against LEIE and SAM).",
    )
    dba_name = serializers.CharField(required=False, allow_blank=True, max_length=300)
    provider_type = serializers.CharField(max_length=20)
    primary_taxonomy = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    taxonomy_codes = serializers.ListField(
        child=serializers.CharField(max_length=10), required=False
    )
    practice_states = serializers.ListField(
        child=serializers.CharField(max_length=2), required=False
    )
    dob = serializers.DateField(required=False, allow_null=True, write_only=True)
    ssn = serializers.CharField(required=False, allow_blank=True, max_length=11, write_only=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30)
    address_line1 = serializers.CharField(required=False, allow_blank=True, max_length=200)
    address_line2 = serializers.CharField(required=False, allow_blank=True, max_length=200)
    city = serializers.CharField(required=False, allow_blank=True, max_length=100)
    state = serializers.CharField(required=False, allow_blank=True, max_length=2)
    postal_code = serializers.CharField(required=False, allow_blank=True, max_length=10)
    hire_date = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=ProviderStatus.choices, required=False)
    coordinator = serializers.UUIDField(
        required=False, allow_null=True, help_text="A member id (owner, admin or coordinator)."
    )
    initial_credentialing_date = serializers.DateField(required=False, allow_null=True)
    committee_decision_date = serializers.DateField(required=False, allow_null=True)
    recredentialing_due_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Blank: committee decision date + the organization's cycle.",
    )
    caqh_id = serializers.CharField(required=False, allow_blank=True, max_length=20)
    caqh_last_attested = serializers.DateField(required=False, allow_null=True)


class CredentialOut(serializers.ModelSerializer):
    provider = serializers.UUIDField(source="provider_id")

    class Meta:
        model = Credential
        fields = [
            "id",
            "provider",
            "kind",
            "number",
            "issuer",
            "state",
            "issue_date",
            "expiry_date",
            "start_date",
            "end_date",
            "status",
            "details",
            "created_at",
            "updated_at",
        ]


class CredentialIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CredentialKind.choices)
    number = serializers.CharField(required=False, allow_blank=True, max_length=60)
    issuer = serializers.CharField(required=False, allow_blank=True, max_length=200)
    state = serializers.CharField(required=False, allow_blank=True, max_length=2)
    issue_date = serializers.DateField(required=False, allow_null=True)
    expiry_date = serializers.DateField(required=False, allow_null=True)
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=CredentialStatus.choices, required=False)
    details = serializers.DictField(
        required=False,
        help_text="Kind-specific: malpractice carrier, policy_number, per_claim_cents, "
        "aggregate_cents (integer cents); board_cert board, specialty; education institution, "
        "degree; training institution, program; work_history employer, position; "
        "privileges facility; life_support certification.",
    )


class RevealIn(serializers.Serializer):
    field = serializers.ChoiceField(choices=["dob", "ssn"])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


RevealOut = inline_serializer(
    "RevealOut",
    fields={
        "field": serializers.CharField(),
        "value": serializers.CharField(help_text="SSN digits, or the date of birth YYYY-MM-DD."),
    },
)


# --- helpers ------------------------------------------------------------------------------------
def _provider_data(org, validated: dict) -> dict:
    """Serializer output -> service keywords (coordinator id -> Membership)."""
    data = dict(validated)
    if "coordinator" in data:
        member_id = data.pop("coordinator")
        member = None
        if member_id is not None:
            member = sel.coordinator_get(org=org, membership_id=member_id)
            if member is None:
                raise InvalidInput(
                    "Some fields need attention.",
                    details={"coordinator": "No such member in this organization."},
                )
        data["coordinator"] = member
    if data.get("primary_taxonomy") == "":
        data["primary_taxonomy"] = None
    return data


class ProviderCursor(CursorPagination):
    ordering = ("-created_at", "-id")


class CredentialCursor(CursorPagination):
    ordering = ("-created_at", "-id")


LIST_FILTERS = [
    OpenApiParameter("q", str, description="Name or NPI (prefix)."),
    OpenApiParameter("status", str, enum=ProviderStatus.values),
    OpenApiParameter("type", str, description="Provider type code, e.g. MD."),
    OpenApiParameter("coordinator", str, description="A member id, or `none`."),
    OpenApiParameter(
        "expiring",
        str,
        description="`expired`, or a number of days: the earliest credential expiry is "
        "within that many days (expired included).",
    ),
]


# --- views --------------------------------------------------------------------------------------
class ProviderListView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER, "POST": cap.CHANGE_ROSTER}

    @extend_schema(
        parameters=LIST_FILTERS,
        responses=ProviderListOut(many=True),
        summary="Providers on the roster (filters as query parameters; cursor pages)",
    )
    def get(self, request):
        filters = sel.ProviderFilters.from_query(request.query_params)
        if filters.errors:
            raise InvalidInput("Some filters are not valid.", details=filters.errors)
        qs = sel.provider_list(org=self.org, filters=filters).order_by()
        paginator = ProviderCursor()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = ProviderListOut(page, many=True).data
        svc.provider_list_record_read(org=self.org, actor=self.actor, providers=page, via="api")
        return paginator.get_paginated_response(data)

    @extend_schema(
        request=ProviderIn,
        responses={201: ProviderOut},
        summary="Add a provider (409 when the NPI is already on the roster)",
    )
    def post(self, request):
        body = ProviderIn(data=request.data)
        body.is_valid(raise_exception=True)
        provider = svc.provider_create(
            org=self.org,
            actor=self.actor,
            **_provider_data(self.org, body.validated_data),
        )
        return Response(ProviderOut(provider).data, status=status.HTTP_201_CREATED)


class ProviderDetailView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER, "PATCH": cap.CHANGE_ROSTER}

    @extend_schema(responses=ProviderOut, summary="One provider (the read is audited)")
    def get(self, request, provider_id):
        provider = sel.provider_get(org=self.org, provider_id=provider_id)
        svc.provider_record_read(org=self.org, actor=self.actor, provider=provider, via="api")
        return Response(ProviderOut(provider).data)

    @extend_schema(request=ProviderIn, responses=ProviderOut, summary="Change a provider")
    def patch(self, request, provider_id):
        provider = sel.provider_get(org=self.org, provider_id=provider_id)
        body = ProviderIn(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        provider = svc.provider_update(
            org=self.org,
            actor=self.actor,
            provider=provider,
            **_provider_data(self.org, body.validated_data),
        )
        return Response(ProviderOut(provider).data)


class ProviderRevealView(OrgAPIView):
    """Decrypt the date of birth or SSN. Needs roster.change (auditors get 403); audited."""

    required_capabilities = {"POST": cap.CHANGE_ROSTER}

    @extend_schema(
        request=RevealIn,
        responses=RevealOut,
        summary="Reveal a protected field (recorded in the audit log)",
    )
    def post(self, request, provider_id):
        provider = sel.provider_get(org=self.org, provider_id=provider_id)
        body = RevealIn(data=request.data)
        body.is_valid(raise_exception=True)
        value = svc.provider_reveal(
            org=self.org,
            actor=self.actor,
            provider=provider,
            field=body.validated_data["field"],
            reason=body.validated_data.get("reason", ""),
        )
        response = Response({"field": body.validated_data["field"], "value": value})
        response["Cache-Control"] = "no-store"
        return response


class ProviderCredentialListView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER, "POST": cap.CHANGE_ROSTER}

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=CredentialKind.values),
            OpenApiParameter("status", str, enum=CredentialStatus.values),
        ],
        responses=CredentialOut(many=True),
        summary="A provider's credentials (the read is audited)",
    )
    def get(self, request, provider_id):
        org = self.org
        provider = sel.provider_get(org=org, provider_id=provider_id)
        qs = sel.credential_list(org=org, provider=provider).order_by()
        for name, choices in (("kind", CredentialKind.values), ("status", CredentialStatus.values)):
            value = request.query_params.get(name)
            if value:
                if value not in choices:
                    raise InvalidInput(
                        "Some filters are not valid.", details={name: f"One of {choices}."}
                    )
                qs = qs.filter(**{name: value})
        svc.provider_record_read(
            org=org, actor=self.actor, provider=provider, part="credentials", via="api"
        )
        paginator = CredentialCursor()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(CredentialOut(page, many=True).data)

    @extend_schema(request=CredentialIn, responses={201: CredentialOut}, summary="Add a credential")
    def post(self, request, provider_id):
        provider = sel.provider_get(org=self.org, provider_id=provider_id)
        body = CredentialIn(data=request.data)
        body.is_valid(raise_exception=True)
        credential = svc.credential_create(
            org=self.org, actor=self.actor, provider=provider, **body.validated_data
        )
        return Response(CredentialOut(credential).data, status=status.HTTP_201_CREATED)


class CredentialDetailView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER, "PATCH": cap.CHANGE_ROSTER}

    @extend_schema(responses=CredentialOut, summary="One credential (the read is audited)")
    def get(self, request, credential_id):
        credential = sel.credential_get(org=self.org, credential_id=credential_id)
        svc.provider_record_read(
            org=self.org,
            actor=self.actor,
            provider=credential.provider,
            part=f"credential:{credential.pk}",
            via="api",
        )
        return Response(CredentialOut(credential).data)

    @extend_schema(
        request=CredentialIn(partial=True),
        responses=CredentialOut,
        summary="Change a credential (a renewal moves its expiry date)",
    )
    def patch(self, request, credential_id):
        credential = sel.credential_get(org=self.org, credential_id=credential_id)
        body = CredentialIn(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        credential = svc.credential_update(
            org=self.org,
            actor=self.actor,
            credential=credential,
            **body.validated_data,
        )
        return Response(CredentialOut(credential).data)
