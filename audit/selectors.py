"""Audit reads: filtered lists for the auditor page and exports, chain heads, verification."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit import chain
from audit.models import AuditEvent


@dataclass
class AuditFilters:
    actor: str = ""
    action: str = ""
    target: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_query(cls, params) -> tuple[AuditFilters, dict]:
        errors = {}
        values = {}
        for name in ("date_from", "date_to"):
            raw = (params.get(name) or "").strip()
            if raw:
                try:
                    values[name] = date.fromisoformat(raw)
                except ValueError:
                    errors[name] = "Use a date like 2026-11-22."
        if (
            values.get("date_from")
            and values.get("date_to")
            and values["date_from"] > values["date_to"]
        ):
            errors["date_to"] = "The end date is before the start date."
        return cls(
            actor=(params.get("actor") or "").strip(),
            action=(params.get("action") or "").strip(),
            target=(params.get("target") or "").strip(),
            **values,
        ), errors

    def as_query(self) -> dict:
        return {
            k: v
            for k, v in {
                "actor": self.actor,
                "action": self.action,
                "target": self.target,
                "date_from": self.date_from.isoformat() if self.date_from else "",
                "date_to": self.date_to.isoformat() if self.date_to else "",
            }.items()
            if v
        }


def audit_event_list(*, org, filters: AuditFilters | None = None) -> QuerySet[AuditEvent]:
    """The organization's events, newest first, filtered."""
    qs = AuditEvent.objects.filter(organization=org)
    f = filters or AuditFilters()
    if f.actor:
        qs = qs.filter(actor_label__icontains=f.actor) | qs.filter(actor_id=f.actor)
    if f.action:
        qs = qs.filter(action__startswith=f.action)
    if f.target:
        qs = qs.filter(target_id=f.target) | qs.filter(target_type=f.target)
    tz = timezone.get_current_timezone()
    if f.date_from:
        qs = qs.filter(created_at__gte=datetime.combine(f.date_from, time.min, tzinfo=tz))
    if f.date_to:
        qs = qs.filter(
            created_at__lt=datetime.combine(f.date_to + timedelta(days=1), time.min, tzinfo=tz)
        )
    return qs.order_by("-seq")


def audit_actions(*, org) -> list[str]:
    """Distinct action codes recorded in the organization (for the filter menu)."""
    return list(
        AuditEvent.objects.filter(organization=org)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )


def chain_head(*, org) -> dict:
    """The newest event's seq and hash: what an export is pinned to."""
    last = AuditEvent.objects.filter(organization=org).order_by("-seq").only("seq", "hash").first()
    return {
        "organization": str(org.pk) if org else None,
        "seq": last.seq if last else 0,
        "hash": last.hash if last else chain.GENESIS,
    }


def _platform_rows():
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.audit_platform', 'on', true)")
    return AuditEvent.objects.filter(organization__isnull=True)


def _in_seq_pages(qs, size: int = 2000):
    """Events in seq order, fetched in keyset pages (no server-side cursor held open)."""
    from audit.services import event_as_dict

    last = 0
    while True:
        page = list(qs.filter(seq__gt=last).order_by("seq")[:size])
        if not page:
            return
        for event in page:
            yield event_as_dict(event)
        last = page[-1].seq


def verify_chain(*, org=None) -> tuple[int, str]:
    """Recompute the organization's (or the platform's) chain; raise chain.ChainBroken."""
    with transaction.atomic():
        qs = AuditEvent.objects.filter(organization=org) if org else _platform_rows()
        return chain.verify(_in_seq_pages(qs))


def actor_names(events) -> dict[str, str]:
    """The people among these events' actors by name, keyed by actor id (one query).

    The recorded actor_label stays what was hashed into the chain (the e-mail at the time);
    the page shows the person's current name, the e-mail only for someone without a name.
    """
    from django.contrib.auth import get_user_model

    from credex.templatetags.credex_ui import person_label

    ids = set()
    for e in events:
        if e.actor_kind == "member" and e.actor_id:
            try:
                ids.add(uuid.UUID(e.actor_id))
            except ValueError:
                continue
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=ids)
    return {str(u.pk): person_label(u) for u in users}
