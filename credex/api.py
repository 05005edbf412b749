"""API v1: the caller, the organization, members, invitations, API keys."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from credex import capabilities as cap
from credex import selectors, services
from credex.api_common import CursorPagination, OrgAPIView
from credex.models import (
    PSV_VALIDITY_DAYS,
    RECREDENTIALING_CYCLE_MONTHS,
    ApiKey,
    Invitation,
    Membership,
    Role,
)
from credex.permissions import AUTHENTICATED_ONLY


class OrganizationOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    recredentialing_cycle_months = serializers.IntegerField()
    psv_validity_days = serializers.IntegerField()
    require_mfa = serializers.BooleanField()
    import_documents_can_follow = serializers.BooleanField(
        help_text="A CSV import may leave out required documents; they are requested from "
        "the providers (inbox item and upload link)."
    )


class MeOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["member", "api_key"])
    email = serializers.EmailField(allow_null=True)
    name = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    organization = OrganizationOut(allow_null=True)
    organizations = serializers.ListField(child=serializers.DictField())


class MeView(OrgAPIView):
    required_capabilities = {"GET": AUTHENTICATED_ONLY}

    @extend_schema(responses=MeOut, summary="The caller and the organization in context")
    def get(self, request):
        actor = self.actor
        org = self.org
        if isinstance(actor, ApiKey):
            body = {
                "kind": "api_key",
                "email": None,
                "name": actor.name,
                "role": actor.role,
                "organizations": [{"slug": org.slug, "name": org.name, "role": actor.role}],
            }
        else:
            user = request.user
            body = {
                "kind": "member",
                "email": user.email,
                "name": user.display_name,
                "role": actor.role if actor else None,
                "organizations": [
                    {"slug": m.organization.slug, "name": m.organization.name, "role": m.role}
                    for m in selectors.memberships_for_user(user)
                ],
            }
        body["organization"] = OrganizationOut(org).data if org else None
        return Response(MeOut(body).data)


class OrganizationSettingsIn(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=200)
    recredentialing_cycle_months = serializers.IntegerField(
        required=False,
        min_value=RECREDENTIALING_CYCLE_MONTHS[0],
        max_value=RECREDENTIALING_CYCLE_MONTHS[1],
    )
    psv_validity_days = serializers.IntegerField(
        required=False, min_value=PSV_VALIDITY_DAYS[0], max_value=PSV_VALIDITY_DAYS[1]
    )
    require_mfa = serializers.BooleanField(required=False)
    import_documents_can_follow = serializers.BooleanField(required=False)


class OrganizationView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_ORG, "PATCH": cap.CHANGE_SETTINGS}

    @extend_schema(responses=OrganizationOut, summary="The organization's settings")
    def get(self, request):
        return Response(OrganizationOut(self.org).data)

    @extend_schema(
        request=OrganizationSettingsIn,
        responses=OrganizationOut,
        summary="Change organization settings",
    )
    def patch(self, request):
        data = OrganizationSettingsIn(data=request.data)
        data.is_valid(raise_exception=True)
        org = services.organization_update_settings(
            org=self.org, actor=self.actor, **data.validated_data
        )
        return Response(OrganizationOut(org).data)


class MemberOut(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.display_name")
    removed_at = serializers.DateTimeField(
        allow_null=True, help_text="Set once the member was removed (they grant nothing)."
    )

    class Meta:
        model = Membership
        fields = ["id", "email", "name", "role", "created_at", "removed_at"]


class MemberRoleIn(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class OpenWorkOut(serializers.Serializer):
    kind = serializers.CharField(help_text='e.g. "roster.inbox_item", "verifications.request"')
    label = serializers.CharField()
    count = serializers.IntegerField()


class MemberRemovalPreviewOut(serializers.Serializer):
    member = MemberOut()
    open_work = OpenWorkOut(many=True)
    reassign_to = serializers.ListField(
        child=serializers.CharField(), help_text="The values DELETE accepts for reassign_to."
    )


REASSIGN_PARAMETER = OpenApiParameter(
    "reassign_to",
    str,
    enum=list(services.REASSIGN_CHOICES),
    description="Who takes the member's open work (providers they coordinate, open inbox "
    "items, open PSV requests): `me` (the caller; not for API keys) or `unassigned` "
    "(default). Also accepted in a JSON body. Each change is audited in the removal's "
    "transaction.",
)


class MemberListView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_MEMBERS}

    @extend_schema(
        responses=MemberOut(many=True),
        summary="Members of the organization",
        parameters=[
            OpenApiParameter(
                "removed",
                bool,
                description="true: the removed members instead of the current ones.",
            )
        ],
    )
    def get(self, request):
        if request.query_params.get("removed", "").lower() in ("1", "true", "yes"):
            members = selectors.removed_member_list(org=self.org)
        else:
            members = selectors.member_list(org=self.org)
        return Response(MemberOut(members, many=True).data)


def _member(org, member_id):
    return services.get_or_404(selectors.member_list(org=org), pk=member_id)


class MemberDetailView(OrgAPIView):
    required_capabilities = {
        "GET": cap.VIEW_MEMBERS,
        "PATCH": cap.MANAGE_MEMBERS,
        "DELETE": cap.MANAGE_MEMBERS,
    }

    @extend_schema(responses=MemberOut, summary="One member")
    def get(self, request, member_id):
        return Response(MemberOut(_member(self.org, member_id)).data)

    @extend_schema(request=MemberRoleIn, responses=MemberOut, summary="Change a member's role")
    def patch(self, request, member_id):
        member = _member(self.org, member_id)
        data = MemberRoleIn(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.membership_change_role(
            org=self.org,
            actor=self.actor,
            membership=member,
            role=data.validated_data["role"],
        )
        return Response(MemberOut(member).data)

    @extend_schema(
        responses={204: None},
        parameters=[REASSIGN_PARAMETER],
        summary="Remove a member",
        description="The membership is kept with `removed_at` set: it grants nothing, the "
        "member's API keys are revoked, and history keeps their name. Their open work goes "
        "to the caller or unassigned (`reassign_to`; see the removal preview). The last "
        "owner cannot be removed (409). Inviting the address again restores the membership.",
    )
    def delete(self, request, member_id):
        member = _member(self.org, member_id)
        body = request.data if isinstance(request.data, dict) else {}
        reassign_to = (
            request.query_params.get("reassign_to") or body.get("reassign_to") or "unassigned"
        )
        services.membership_remove(
            org=self.org, actor=self.actor, membership=member, reassign_to=reassign_to
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberRemovalPreviewView(OrgAPIView):
    required_capabilities = {"GET": cap.MANAGE_MEMBERS}

    @extend_schema(
        responses=MemberRemovalPreviewOut,
        summary="What removing a member would reassign",
        description="The open work the member holds, per kind (only kinds with work). "
        "Nothing is written.",
    )
    def get(self, request, member_id):
        member = _member(self.org, member_id)
        work = services.membership_removal_preview(
            org=self.org, actor=self.actor, membership=member
        )
        body = {
            "member": member,
            "open_work": [{"kind": w.kind, "label": w.label, "count": w.count} for w in work],
            "reassign_to": list(services.REASSIGN_CHOICES),
        }
        return Response(MemberRemovalPreviewOut(body).data)


class InvitationOut(serializers.ModelSerializer):
    status = serializers.CharField()

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "status", "created_at", "expires_at", "accepted_at"]


class InvitationIn(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationListView(OrgAPIView):
    required_capabilities = {"GET": cap.VIEW_MEMBERS, "POST": cap.MANAGE_MEMBERS}

    @extend_schema(responses=InvitationOut(many=True), summary="Invitations")
    def get(self, request):
        return Response(InvitationOut(selectors.invitation_list(org=self.org), many=True).data)

    @extend_schema(
        request=InvitationIn, responses={201: InvitationOut}, summary="Invite someone by e-mail"
    )
    def post(self, request):
        data = InvitationIn(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.membership_invite(
            org=self.org, actor=self.actor, **data.validated_data
        )
        return Response(InvitationOut(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailView(OrgAPIView):
    required_capabilities = {"DELETE": cap.MANAGE_MEMBERS}

    @extend_schema(responses=InvitationOut, summary="Revoke a pending invitation")
    def delete(self, request, invitation_id):
        invitation = services.get_or_404(selectors.invitation_list(org=self.org), pk=invitation_id)
        invitation = services.invitation_revoke(
            org=self.org, actor=self.actor, invitation=invitation
        )
        return Response(InvitationOut(invitation).data)


class ApiKeyOut(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "role", "created_at", "last_used_at", "revoked_at"]


class ApiKeyCreatedOut(ApiKeyOut):
    key = serializers.CharField(help_text="Shown once. Store it now; only a hash is kept.")

    class Meta(ApiKeyOut.Meta):
        fields = [*ApiKeyOut.Meta.fields, "key"]


class ApiKeyIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    role = serializers.ChoiceField(
        choices=[Role.ADMIN, Role.COORDINATOR, Role.AUDITOR], default=Role.COORDINATOR
    )


class ApiKeyListView(OrgAPIView):
    required_capabilities = {"GET": cap.MANAGE_API_KEYS, "POST": cap.MANAGE_API_KEYS}

    @extend_schema(responses=ApiKeyOut(many=True), summary="API keys")
    def get(self, request):
        return Response(ApiKeyOut(selectors.api_key_list(org=self.org), many=True).data)

    @extend_schema(
        request=ApiKeyIn,
        responses={201: ApiKeyCreatedOut},
        summary="Create an API key (the key is in this response only)",
    )
    def post(self, request):
        data = ApiKeyIn(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = services.api_key_create(org=self.org, actor=self.actor, **data.validated_data)
        key.key = raw
        return Response(ApiKeyCreatedOut(key).data, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(OrgAPIView):
    required_capabilities = {"DELETE": cap.MANAGE_API_KEYS}

    @extend_schema(responses=ApiKeyOut, summary="Revoke an API key")
    def delete(self, request, key_id):
        key = services.get_or_404(selectors.api_key_list(org=self.org), pk=key_id)
        key = services.api_key_revoke(org=self.org, actor=self.actor, key=key)
        return Response(ApiKeyOut(key).data)


class AuditEventOut(serializers.Serializer):
    id = serializers.UUIDField()
    seq = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor_kind = serializers.CharField()
    actor_id = serializers.CharField()
    actor_label = serializers.CharField()
    action = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    source = serializers.CharField()
    data = serializers.JSONField()
    ip = serializers.CharField(allow_null=True)
    prev_hash = serializers.CharField()
    hash = serializers.CharField()


class AuditCursor(CursorPagination):
    ordering = "-seq"


class AuditEventListView(OrgAPIView):
    """Search the audit log (filters: actor, action, target, date_from, date_to)."""

    required_capabilities = {"GET": cap.VIEW_AUDIT}

    @extend_schema(responses=AuditEventOut(many=True), summary="Audit events, newest first")
    def get(self, request):
        from audit.selectors import AuditFilters, audit_event_list

        filters, errors = AuditFilters.from_query(request.query_params)
        if errors:
            from credex.errors import InvalidInput

            raise InvalidInput("Some filters are not valid.", details=errors)
        qs = audit_event_list(org=self.org, filters=filters)
        paginator = AuditCursor()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(AuditEventOut(page, many=True).data)
