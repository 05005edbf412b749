"""API for the expiry inbox: list with filters (cursor pagination), snooze, dismiss, resolve,
and undo (a resolution or dismissal less than UNDO_SECONDS old)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from credex import capabilities as cap
from credex.api_common import CursorPagination, OrgAPIView
from credex.errors import InvalidInput
from credex.models import Membership
from roster.models import InboxItem, InboxKind
from roster.selectors import inbox as sel
from roster.services import inbox as svc
from roster.services.providers import provider_list_record_read


class InboxItemOut(serializers.ModelSerializer):
    provider = serializers.UUIDField(source="provider_id", allow_null=True)
    provider_name = serializers.SerializerMethodField()
    credential = serializers.UUIDField(source="credential_id", allow_null=True)
    contract = serializers.UUIDField(source="contract_id", allow_null=True)
    assigned_to = serializers.UUIDField(source="assigned_to_id", allow_null=True)
    assigned_to_email = serializers.SerializerMethodField()

    class Meta:
        model = InboxItem
        fields = [
            "id",
            "kind",
            "key",
            "threshold_days",
            "due_date",
            "status",
            "snoozed_until",
            "resolved_at",
            "resolution",
            "provider",
            "provider_name",
            "credential",
            "contract",
            "assigned_to",
            "assigned_to_email",
            "created_at",
        ]

    def get_provider_name(self, item) -> str | None:
        return item.provider.full_name if item.provider else None

    def get_assigned_to_email(self, item) -> str | None:
        return item.assigned_to.user.email if item.assigned_to else None


class InboxCursor(CursorPagination):
    ordering = ("due_date", "id")


STATUS_PARAM = list(sel.STATUSES)


class InboxListView(OrgAPIView):
    """The inbox (default: open items, and snoozed ones whose date has come), soonest first."""

    required_capabilities = {"GET": cap.VIEW_ROSTER}

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=STATUS_PARAM),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=InboxKind.values),
            OpenApiParameter(
                "assigned", OpenApiTypes.STR, description="me, unassigned, anyone or a member id"
            ),
            OpenApiParameter("due_before", OpenApiTypes.DATE, description="due strictly before"),
        ],
        responses=InboxItemOut(many=True),
        summary="Inbox items",
    )
    def get(self, request):
        filters = sel.InboxFilters.from_query(request.query_params)
        filters.sort = "due"
        if filters.errors:
            raise InvalidInput("Some filters are not valid.", details=filters.errors)
        actor = self.actor
        membership = actor if isinstance(actor, Membership) else None  # a key has no "me"
        qs = sel.inbox_item_list(org=self.org, filters=filters, membership=membership).order_by(
            "due_date", "id"
        )
        paginator = InboxCursor()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = InboxItemOut(page, many=True).data
        provider_list_record_read(
            org=self.org,
            actor=actor,
            providers=[i.provider_id for i in page],
            part="inbox",
            via="api",
        )
        return paginator.get_paginated_response(data)


class InboxSnoozeIn(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=svc.MAX_SNOOZE_DAYS, required=False)
    until = serializers.DateField(required=False)

    def validate(self, data):
        if ("days" in data) == ("until" in data):
            raise serializers.ValidationError("Give either days or until.")
        return data


class InboxDismissIn(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class InboxResolveIn(serializers.Serializer):
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class _ItemAction(OrgAPIView):
    required_capabilities = {"POST": cap.CHANGE_ROSTER}
    serializer_class: type[serializers.Serializer]

    def post(self, request, item_id):
        org = self.org
        item = sel.inbox_item_get(org=org, item_id=item_id)
        data = self.serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        item = self.act(org=org, actor=self.actor, item=item, **data.validated_data)
        return Response(InboxItemOut(sel.inbox_item_get(org=org, item_id=item.pk)).data)


class InboxSnoozeView(_ItemAction):
    serializer_class = InboxSnoozeIn

    @extend_schema(request=InboxSnoozeIn, responses=InboxItemOut, summary="Snooze an inbox item")
    def post(self, request, item_id):
        return super().post(request, item_id)

    def act(self, *, org, actor, item, days=None, until=None):
        until = until or timezone.localdate() + timedelta(days=days)
        return svc.inbox_item_snooze(org=org, actor=actor, item=item, until=until)


class InboxDismissView(_ItemAction):
    serializer_class = InboxDismissIn

    @extend_schema(request=InboxDismissIn, responses=InboxItemOut, summary="Dismiss an inbox item")
    def post(self, request, item_id):
        return super().post(request, item_id)

    def act(self, *, org, actor, item, reason):
        return svc.inbox_item_dismiss(org=org, actor=actor, item=item, reason=reason)


class InboxResolveView(_ItemAction):
    serializer_class = InboxResolveIn

    @extend_schema(request=InboxResolveIn, responses=InboxItemOut, summary="Resolve an inbox item")
    def post(self, request, item_id):
        return super().post(request, item_id)

    def act(self, *, org, actor, item, note=""):
        return svc.inbox_item_resolve(org=org, actor=actor, item=item, note=note)


class InboxUndoIn(serializers.Serializer):
    pass


class InboxUndoView(_ItemAction):
    serializer_class = InboxUndoIn

    @extend_schema(
        request=None,
        responses=InboxItemOut,
        summary="Undo resolving or dismissing an inbox item (within a few seconds)",
    )
    def post(self, request, item_id):
        return super().post(request, item_id)

    def act(self, *, org, actor, item):
        return svc.inbox_item_undo(org=org, actor=actor, item=item)
