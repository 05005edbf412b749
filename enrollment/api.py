"""API v1: payers, payer contacts, payer contracts and enrollment applications (and their
transitions)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import CursorPagination, OrgAPIView
from credex.errors import InvalidInput, NotFound
from enrollment import selectors as sel
from enrollment import services as svc
from enrollment.models import Enrollment, EnrollmentStatus, Payer, PayerContact, PayerContract
from roster.services.providers import provider_list_record_read, provider_record_read


# --- serializers --------------------------------------------------------------------------------
class PayerOut(serializers.ModelSerializer):
    class Meta:
        model = Payer
        fields = [
            "id",
            "name",
            "payer_id",
            "contact_name",
            "contact_email",
            "contact_phone",
            "portal_url",
            "created_at",
        ]


class PayerIn(serializers.Serializer):
    """On PATCH every field is optional."""

    name = serializers.CharField(max_length=200)
    payer_id = serializers.CharField(required=False, allow_blank=True, max_length=40)
    contact_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=30)
    portal_url = serializers.URLField(required=False, allow_blank=True)


class ContractOut(serializers.ModelSerializer):
    payer = serializers.UUIDField(source="payer_id")

    class Meta:
        model = PayerContract
        fields = [
            "id",
            "payer",
            "effective_date",
            "renewal_date",
            "fee_schedule_ref",
            "scope_of_services",
            "terms_notes",
            "created_at",
        ]


class ContractIn(serializers.Serializer):
    effective_date = serializers.DateField()
    renewal_date = serializers.DateField(required=False, allow_null=True)
    fee_schedule_ref = serializers.CharField(required=False, allow_blank=True, max_length=200)
    scope_of_services = serializers.CharField(required=False, allow_blank=True)
    terms_notes = serializers.CharField(required=False, allow_blank=True)


class EnrollmentOut(serializers.ModelSerializer):
    provider = serializers.UUIDField(source="provider_id")
    provider_name = serializers.CharField(source="provider.full_name")
    provider_excluded = serializers.BooleanField(
        source="provider.excluded",
        help_text="The provider has a confirmed exclusion (OIG LEIE / SAM): no enrollment "
        "step but follow-up, denial or withdrawal is allowed.",
    )
    payer = serializers.UUIDField(source="payer_id")
    payer_name = serializers.CharField(source="payer.name")
    overdue = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "provider",
            "provider_name",
            "provider_excluded",
            "payer",
            "payer_name",
            "status",
            "requested_at",
            "submitted_on",
            "next_follow_up",
            "effective_date",
            "reference_number",
            "resubmissions",
            "notes",
            "overdue",
            "allowed_transitions",
            "updated_at",
        ]

    def get_overdue(self, obj) -> bool:
        today = self.context.get("today")
        return bool(
            obj.status in svc.OPEN_STATUSES
            and obj.next_follow_up
            and today
            and obj.next_follow_up < today
        )

    def get_allowed_transitions(self, obj) -> list[str]:
        return svc.allowed_transitions(obj)


class EnrollmentIn(serializers.Serializer):
    provider = serializers.UUIDField()
    payer = serializers.UUIDField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class EnrollmentPatchIn(serializers.Serializer):
    next_follow_up = serializers.DateField(required=False)
    reference_number = serializers.CharField(required=False, allow_blank=True, max_length=60)
    effective_date = serializers.DateField(required=False, help_text="Approved only.")
    note = serializers.CharField(
        required=False, allow_blank=False, max_length=2000, help_text="Appended to the log."
    )


class TransitionIn(serializers.Serializer):
    to = serializers.ChoiceField(choices=EnrollmentStatus.choices)
    on = serializers.DateField(
        required=False, help_text="The date the step happened (default today; not future)."
    )
    effective_date = serializers.DateField(
        required=False, help_text="Required when `to` is approved."
    )
    next_follow_up = serializers.DateField(
        required=False,
        help_text="For submitted, in_follow_up, resubmitted; default `on` + 30 days.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


def _ctx():
    return {"today": timezone.localdate()}


class ContactOut(serializers.ModelSerializer):
    payer = serializers.UUIDField(source="payer_id")

    class Meta:
        model = PayerContact
        fields = ["id", "payer", "name", "email", "title", "phone", "created_at"]


class ContactIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField()
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30)


# --- payers and contracts -----------------------------------------------------------------------
class PayerListView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER, "POST": cap.CHANGE_ROSTER}

    @extend_schema(responses=PayerOut(many=True), summary="Payers, by name")
    def get(self, request):
        return Response(PayerOut(sel.payer_list(org=self.org), many=True).data)

    @extend_schema(
        request=PayerIn, responses={201: PayerOut}, summary="Add a payer (409 on a duplicate name)"
    )
    def post(self, request):
        body = PayerIn(data=request.data)
        body.is_valid(raise_exception=True)
        payer = svc.payer_create(org=self.org, actor=self.actor, **body.validated_data)
        return Response(PayerOut(payer).data, status=status.HTTP_201_CREATED)


class PayerDetailView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER, "PATCH": cap.CHANGE_ROSTER}

    @extend_schema(responses=PayerOut, summary="One payer")
    def get(self, request, payer_id):
        return Response(PayerOut(sel.payer_get(org=self.org, payer_id=payer_id)).data)

    @extend_schema(request=PayerIn(partial=True), responses=PayerOut, summary="Change a payer")
    def patch(self, request, payer_id):
        payer = sel.payer_get(org=self.org, payer_id=payer_id)
        body = PayerIn(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        payer = svc.payer_update(org=self.org, actor=self.actor, payer=payer, **body.validated_data)
        return Response(PayerOut(payer).data)


class PayerContractListView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER, "POST": cap.CHANGE_ROSTER}

    @extend_schema(responses=ContractOut(many=True), summary="A payer's contracts")
    def get(self, request, payer_id):
        payer = sel.payer_get(org=self.org, payer_id=payer_id)
        contracts = sel.contract_list(org=self.org, payer=payer)
        return Response(ContractOut(contracts, many=True).data)

    @extend_schema(
        request=ContractIn, responses={201: ContractOut}, summary="Record a contract with a payer"
    )
    def post(self, request, payer_id):
        payer = sel.payer_get(org=self.org, payer_id=payer_id)
        body = ContractIn(data=request.data)
        body.is_valid(raise_exception=True)
        contract = svc.contract_create(
            org=self.org, actor=self.actor, payer=payer, **body.validated_data
        )
        return Response(ContractOut(contract).data, status=status.HTTP_201_CREATED)


class PayerContractDetailView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER, "PATCH": cap.CHANGE_ROSTER}

    def _contract(self, request, payer_id, contract_id):
        payer = sel.payer_get(org=self.org, payer_id=payer_id)
        return sel.contract_get(org=self.org, contract_id=contract_id, payer=payer)

    @extend_schema(responses=ContractOut, summary="One contract")
    def get(self, request, payer_id, contract_id):
        return Response(ContractOut(self._contract(request, payer_id, contract_id)).data)

    @extend_schema(
        request=ContractIn(partial=True),
        responses=ContractOut,
        summary="Change a contract (e.g. move the renewal date on renewal)",
    )
    def patch(self, request, payer_id, contract_id):
        contract = self._contract(request, payer_id, contract_id)
        body = ContractIn(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        contract = svc.contract_update(
            org=self.org, actor=self.actor, contract=contract, **body.validated_data
        )
        return Response(ContractOut(contract).data)


# --- enrollments --------------------------------------------------------------------------------
class EnrollmentCursor(CursorPagination):
    ordering = ("-requested_at", "-id")


ENROLLMENT_FILTERS = [
    OpenApiParameter("status", str, enum=[*EnrollmentStatus.values, "open"]),
    OpenApiParameter("payer", str, description="A payer id."),
    OpenApiParameter("provider", str, description="A provider id."),
    OpenApiParameter("overdue", bool, description="Open with the next follow-up date passed."),
    OpenApiParameter(
        "excluded",
        bool,
        description="Open or approved applications of providers with a confirmed exclusion.",
    ),
]


class EnrollmentListView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER, "POST": cap.CHANGE_ROSTER}

    @extend_schema(
        parameters=ENROLLMENT_FILTERS,
        responses=EnrollmentOut(many=True),
        summary="Enrollment applications, newest request first (cursor pages)",
    )
    def get(self, request):
        filters, errors = sel.EnrollmentFilters.from_query(request.query_params)
        if errors:
            raise InvalidInput("Some filters are not valid.", details=errors)
        qs = sel.enrollment_list(org=self.org, filters=filters).order_by()
        paginator = EnrollmentCursor()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = EnrollmentOut(page, many=True, context=_ctx()).data
        provider_list_record_read(
            org=self.org,
            actor=self.actor,
            providers=[e.provider_id for e in page],
            part="enrollments",
            via="api",
        )
        return paginator.get_paginated_response(data)

    @extend_schema(
        request=EnrollmentIn,
        responses={201: EnrollmentOut},
        summary="Request enrollment of a provider with a payer (409 when one is open, or "
        "`provider_excluded` when the provider has a confirmed exclusion)",
    )
    def post(self, request):
        body = EnrollmentIn(data=request.data)
        body.is_valid(raise_exception=True)
        org = self.org
        provider = _lookup(sel.provider_get, org, body.validated_data["provider"], "provider")
        payer = _lookup(sel.payer_get, org, body.validated_data["payer"], "payer")
        (enrollment,) = svc.enrollment_request(
            org=org,
            actor=self.actor,
            provider=provider,
            payers=[payer],
            note=body.validated_data.get("note", ""),
        )
        return Response(
            EnrollmentOut(enrollment, context=_ctx()).data, status=status.HTTP_201_CREATED
        )


def _lookup(getter, org, pk, name):
    """A referenced row named in a body: unknown ids are a field error (400), not a 404."""
    try:
        return getter(org=org, **{f"{name}_id": pk})
    except NotFound:
        raise InvalidInput(
            "Some fields need attention.", details={name: f"No such {name} in this organization."}
        )


class EnrollmentDetailView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER, "PATCH": cap.CHANGE_ROSTER}

    @extend_schema(responses=EnrollmentOut, summary="One enrollment application")
    def get(self, request, enrollment_id):
        enrollment = sel.enrollment_get(org=self.org, enrollment_id=enrollment_id)
        data = EnrollmentOut(enrollment, context=_ctx()).data
        provider_record_read(
            org=self.org,
            actor=self.actor,
            provider=enrollment.provider,
            part="enrollment",
            via="api",
        )
        return Response(data)

    @extend_schema(
        request=EnrollmentPatchIn,
        responses=EnrollmentOut,
        summary="Set the next follow-up, reference number or effective date; append a note",
    )
    def patch(self, request, enrollment_id):
        org = self.org
        enrollment = sel.enrollment_get(org=org, enrollment_id=enrollment_id)
        body = EnrollmentPatchIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        note = data.pop("note", "")
        if not data and not note:
            raise InvalidInput("Nothing to change.", details={})
        actor = self.actor
        with transaction.atomic():
            if data:
                svc.enrollment_update(org=org, actor=actor, enrollment=enrollment, **data)
            if note:
                svc.enrollment_add_note(org=org, actor=actor, enrollment=enrollment, note=note)
        return Response(EnrollmentOut(enrollment, context=_ctx()).data)


class EnrollmentTransitionView(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}

    @extend_schema(
        request=TransitionIn,
        responses=EnrollmentOut,
        summary="Move an application to its next status (409 when the step is not allowed)",
    )
    def post(self, request, enrollment_id):
        org = self.org
        enrollment = sel.enrollment_get(org=org, enrollment_id=enrollment_id)
        body = TransitionIn(data=request.data)
        body.is_valid(raise_exception=True)
        svc.enrollment_transition(
            org=org, actor=self.actor, enrollment=enrollment, **body.validated_data
        )
        return Response(EnrollmentOut(enrollment, context=_ctx()).data)


# --- payer contacts (moved from verifications: same paths and names) ---------------------
class PayerContactsView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ROSTER, "POST": cap.CHANGE_ROSTER}
    serializer_class = ContactOut

    @extend_schema(responses=ContactOut(many=True), summary="A payer's contacts")
    def get(self, request, payer_id):
        org = self.org
        payer = sel.payer_get(org=org, payer_id=payer_id)
        contacts = sel.contacts_for_payer(org=org, payer=payer)
        return Response(ContactOut(contacts, many=True).data)

    @extend_schema(request=ContactIn, responses={201: ContactOut}, summary="Add a payer contact")
    def post(self, request, payer_id):
        org = self.org
        payer = sel.payer_get(org=org, payer_id=payer_id)
        data = ContactIn(data=request.data)
        data.is_valid(raise_exception=True)
        contact = svc.payer_contact_add(
            org=org, actor=self.actor, payer=payer, **data.validated_data
        )
        return Response(ContactOut(contact).data, status=status.HTTP_201_CREATED)


class PayerContactDetailView(OrgAPIView):
    required_capabilities = {"DELETE": cap.CHANGE_ROSTER}
    serializer_class = ContactOut

    @extend_schema(responses={204: None}, summary="Remove a payer contact")
    def delete(self, request, contact_id):
        org = self.org
        contact = sel.contact_get(org=org, contact_id=contact_id)
        svc.payer_contact_remove(org=org, actor=self.actor, contact=contact)
        return Response(status=status.HTTP_204_NO_CONTENT)
