"""Reads of the expiry inbox: the worklist with its filters, counts, one item."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from credex import capabilities as cap
from credex.capabilities import has_capability
from credex.models import Membership
from roster.models import InboxItem, InboxKind, InboxStatus

# status filter -> what it shows
STATUSES = {
    "active": "Open",  # open, and snoozed items whose snooze date has come
    "snoozed": "Snoozed",
    "resolved": "Resolved",
    "dismissed": "Dismissed",
    "closed": "Dismissed or resolved",
}
CLOSED_STATUSES = ("resolved", "dismissed", "closed")
ASSIGNED = {"anyone": "Anyone", "me": "Me", "unassigned": "Unassigned"}
DUE_WITHIN = {
    "overdue": "Overdue or due today",
    "7": "7 days",
    "30": "30 days",
    "60": "60 days",
    "90": "90 days",
    "120": "120 days",
}
SORTS = {
    "due": ("due_date", "threshold_days", "id"),
    "-due": ("-due_date", "id"),
    "provider": ("provider__last_name", "provider__first_name", "due_date", "id"),
    "-provider": ("-provider__last_name", "-provider__first_name", "due_date", "id"),
    "kind": ("kind", "due_date", "id"),
    "-kind": ("-kind", "due_date", "id"),
    "threshold": ("threshold_days", "due_date", "id"),
    "-threshold": ("-threshold_days", "due_date", "id"),
}


def active_q(today: date) -> Q:
    """Open items, and snoozed ones whose snooze date has come."""
    return Q(status=InboxStatus.OPEN) | Q(status=InboxStatus.SNOOZED, snoozed_until__lte=today)


def active_items(*, org, today: date | None = None) -> QuerySet[InboxItem]:
    """The organization's items that need attention today."""
    today = today or timezone.localdate()
    return InboxItem.objects.filter(active_q(today), organization=org)


@dataclass
class InboxFilters:
    status: str = "active"
    kind: str = ""
    assigned: str = "anyone"
    due_within: str = ""
    due_before: date | None = None
    sort: str = "due"
    errors: dict = field(default_factory=dict)

    @property
    def closed(self) -> bool:
        """The filter shows closed items (an outcome column, no actions)."""
        return self.status in CLOSED_STATUSES

    @classmethod
    def from_query(cls, query) -> InboxFilters:
        """Parse URL filters; unknown values fall back to the default and are reported."""
        f, errors = cls(), {}
        for name, allowed in (
            ("status", STATUSES),
            ("kind", dict(InboxKind.choices)),
            ("due_within", DUE_WITHIN),
            ("sort", SORTS),
        ):
            value = (query.get(name) or "").strip()
            if value and value in allowed:
                setattr(f, name, value)
            elif value:
                errors[name] = "Unknown value."
        assigned = (query.get("assigned") or "").strip()
        if assigned in ASSIGNED:
            f.assigned = assigned
        elif assigned:
            f.assigned = _uuid_or_none(assigned) or "anyone"
            if f.assigned == "anyone":
                errors["assigned"] = "Unknown value."
        due_before = (query.get("due_before") or "").strip()
        if due_before:
            try:
                f.due_before = date.fromisoformat(due_before)
            except ValueError:
                errors["due_before"] = "Use a date like 2026-03-31."
        f.errors = errors
        return f

    def query(self) -> dict:
        """The non-default filters, for links that keep them."""
        out = {}
        for name, default in (
            ("status", "active"),
            ("kind", ""),
            ("assigned", "anyone"),
            ("due_within", ""),
            ("sort", "due"),
        ):
            value = str(getattr(self, name))
            if value != default:
                out[name] = value
        if self.due_before:
            out["due_before"] = self.due_before.isoformat()
        return out


def _uuid_or_none(value: str) -> str | None:
    import uuid

    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _by_status(org, status: str, today: date) -> QuerySet[InboxItem]:
    qs = InboxItem.objects.filter(organization=org)
    if status == "snoozed":
        return qs.filter(status=InboxStatus.SNOOZED, snoozed_until__gt=today)
    if status == "closed":
        return qs.filter(status__in=(InboxStatus.DISMISSED, InboxStatus.RESOLVED))
    if status == "resolved":
        return qs.filter(status=InboxStatus.RESOLVED)
    if status == "dismissed":
        return qs.filter(status=InboxStatus.DISMISSED)
    return qs.filter(active_q(today))


def inbox_item_list(
    *, org, filters: InboxFilters, membership=None, today: date | None = None
) -> QuerySet[InboxItem]:
    """The inbox worklist under the filters, with what each row shows joined in."""
    today = today or timezone.localdate()
    qs = _by_status(org, filters.status, today)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.assigned == "me":
        qs = qs.filter(assigned_to=membership) if membership else qs.none()
    elif filters.assigned == "unassigned":
        qs = qs.filter(assigned_to__isnull=True)
    elif filters.assigned != "anyone":
        qs = qs.filter(assigned_to_id=filters.assigned)
    if filters.due_within == "overdue":
        qs = qs.filter(due_date__lte=today)
    elif filters.due_within:
        qs = qs.filter(due_date__lte=today + timedelta(days=int(filters.due_within)))
    if filters.due_before:
        qs = qs.filter(due_date__lt=filters.due_before)
    return qs.select_related(
        "provider", "credential", "contract__payer", "assigned_to__user"
    ).order_by(*SORTS[filters.sort])


def inbox_counts(*, org, membership=None, today: date | None = None) -> dict:
    """Counts for the headings and tabs, in one query."""
    today = today or timezone.localdate()
    active = active_q(today)
    aggregates = {
        "active": Count("id", filter=active),
        "snoozed": Count("id", filter=Q(status=InboxStatus.SNOOZED, snoozed_until__gt=today)),
        "overdue": Count("id", filter=active & Q(due_date__lte=today)),
        "unassigned": Count("id", filter=active & Q(assigned_to__isnull=True)),
        "mine": Count("id", filter=active & Q(assigned_to=membership))
        if membership
        else Count("id", filter=Q(pk__isnull=True)),
    }
    for kind in InboxKind.values:
        aggregates[f"kind_{kind}"] = Count("id", filter=active & Q(kind=kind))
    row = InboxItem.objects.filter(organization=org).aggregate(**aggregates)
    row["by_kind"] = {kind: row.pop(f"kind_{kind}") for kind in InboxKind.values}
    return row


def inbox_item_get(*, org, item_id) -> InboxItem:
    """One item of the organization (404 otherwise)."""
    return get_object_or_404(
        InboxItem.objects.filter(organization=org).select_related(
            "provider", "credential", "contract__payer", "assigned_to__user"
        ),
        pk=item_id,
    )


def inbox_items_by_ids(*, org, ids) -> list[InboxItem]:
    """The organization's items among `ids` (others' ids are ignored, as if they did not exist)."""
    return list(InboxItem.objects.filter(organization=org, pk__in=ids).select_related("credential"))


def assignable_members(*, org) -> list[Membership]:
    """Members who can act on items (auditors are read-only)."""
    members = Membership.objects.filter(organization=org).select_related("user")
    return sorted(
        (m for m in members if has_capability(m.role, cap.CHANGE_ROSTER)),
        key=lambda m: m.user.email,
    )
