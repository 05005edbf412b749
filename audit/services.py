"""The one recording function. Every state change calls `audit_record` in its transaction."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from django.utils import timezone

from audit import chain
from audit.context import request_meta
from audit.models import ActorKind, AuditEvent

_SECRET_KEY_RE = re.compile(
    r"pass|secret|token|ssn|dob|birth|api_?key|authorization|otp|code", re.IGNORECASE
)
MASK = "***"


@dataclass(frozen=True)
class Actor:
    kind: str
    id: str = ""
    label: str = ""

    @classmethod
    def member(cls, user) -> Actor:
        return cls(ActorKind.MEMBER, str(user.pk), user.email)

    @classmethod
    def api_key(cls, key) -> Actor:
        return cls(ActorKind.API_KEY, str(key.pk), f"{key.name} ({key.prefix})")

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(ActorKind.SYSTEM, "", job)

    @classmethod
    def anonymous(cls, label: str = "") -> Actor:
        return cls(ActorKind.ANONYMOUS, "", label)


def mask(data: Any) -> Any:
    """Mask values under keys that name secrets or protected fields, recursively."""
    if isinstance(data, dict):
        return {
            k: (MASK if _SECRET_KEY_RE.search(str(k)) and v not in (None, "") else mask(v))
            for k, v in data.items()
        }
    if isinstance(data, list | tuple):
        return [mask(v) for v in data]
    return data


def _lock_key(org_id) -> str:
    return f"credex.audit:{org_id or 'platform'}"


def audit_record(
    *,
    action: str,
    actor: Actor,
    org=None,
    target=None,
    target_type: str = "",
    target_id: str = "",
    data: dict | None = None,
    source: str = "",
) -> AuditEvent:
    """Append one event to the organization's chain (or the platform chain when org is None)."""
    org_id = getattr(org, "pk", org)
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
    meta = request_meta.get()
    connection = connections["default"]
    with transaction.atomic(), connection.cursor() as cursor:
        # The recorder is trusted code: it points the RLS settings at the event's chain for
        # the duration of the insert and restores them after.
        cursor.execute(
            "SELECT current_setting('app.current_org', true), "
            "set_config('app.current_org', %s, true), set_config('app.audit_platform', %s, true)",
            [str(org_id) if org_id else "", "" if org_id else "on"],
        )
        previous_org = cursor.fetchone()[0] or ""
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [_lock_key(org_id)])
        if org_id:
            cursor.execute(
                "SELECT seq, hash FROM audit_auditevent WHERE organization_id = %s "
                "ORDER BY seq DESC LIMIT 1",
                [org_id],
            )
        else:
            cursor.execute(
                "SELECT seq, hash FROM audit_auditevent WHERE organization_id IS NULL "
                "ORDER BY seq DESC LIMIT 1"
            )
        last = cursor.fetchone()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, chain.GENESIS)
        event = AuditEvent(
            id=uuid.uuid4(),
            organization_id=org_id,
            seq=seq,
            actor_kind=str(actor.kind),
            actor_id=str(actor.id or ""),
            actor_label=actor.label[:254],
            action=action,
            target_type=target_type,
            target_id=str(target_id or ""),
            source=source,
            data=json.loads(json.dumps(mask(data or {}), default=str)),
            ip=meta.ip,
            user_agent=meta.user_agent,
            created_at=timezone.now(),
            prev_hash=prev_hash,
        )
        event.hash = chain.compute_hash(prev_hash, event_as_dict(event))
        event.save(force_insert=True)
        cursor.execute(
            "SELECT set_config('app.current_org', %s, true), "
            "set_config('app.audit_platform', '', true)",
            [previous_org],
        )
    return event


def event_as_dict(event: AuditEvent) -> dict:
    return {
        "id": str(event.id),
        "organization": str(event.organization_id) if event.organization_id else None,
        "seq": event.seq,
        "actor_kind": event.actor_kind,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "source": event.source,
        "data": event.data,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "created_at": chain.iso(event.created_at),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
