"""The one recording function. Every state change calls `audit_record` in its transaction."""

from __future__ import annotations

import json
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
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


@contextmanager
def _chain_head(connection, org_id):
    """One transaction holding the chain's advisory lock; yields (cursor, next seq, prev hash).

    The recorder is trusted code: it points the RLS settings at the event's chain for the
    duration of the insert and restores them after.
    """
    with transaction.atomic(), connection.cursor() as cursor:
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
        yield cursor, seq, prev_hash
        cursor.execute(
            "SELECT set_config('app.current_org', %s, true), "
            "set_config('app.audit_platform', '', true)",
            [previous_org],
        )


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
    with _chain_head(connection, org_id) as (cursor, seq, prev_hash):
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


def audit_record_many(*, org, actor: Actor, events: list[dict]) -> list[dict]:
    """Append many events to one chain under one advisory lock (bulk imports).

    Each dict takes `audit_record`'s keywords: action, target (or target_type/target_id),
    data, source. The events get consecutive sequence numbers and each one's prev_hash is the
    previous one's hash, exactly as if `audit_record` had been called once per event. Returns
    the events as `event_as_dict` gives them.

    One lock, one read of the chain head, and the rows go in with COPY into a temporary table
    then one INSERT ... SELECT (COPY FROM is refused on a table with row-level security; the
    INSERT is checked by the append policy like any other): 20,000 events through
    bulk_create took 3.7 s of a 10,000-row import, this way well under a second.
    """
    if not events:
        return []
    org_id = getattr(org, "pk", org)
    meta = request_meta.get()
    connection = connections["default"]
    created_at = timezone.now()
    created_iso = chain.iso(created_at)
    organization = str(org_id) if org_id else None
    label = actor.label[:254]
    rows: list[dict] = []
    with _chain_head(connection, org_id) as (cursor, seq, prev_hash):
        for spec in events:
            target = spec.get("target")
            target_type = spec.get("target_type", "")
            target_id = spec.get("target_id", "")
            if target is not None:
                target_type = target_type or target._meta.label_lower
                target_id = target_id or str(target.pk)
            data_text = json.dumps(_mask_cached(spec.get("data") or {}), default=str)
            # The same fields, in the same form, as event_as_dict(AuditEvent(...)).
            event = {
                "id": str(uuid.uuid4()),
                "organization": organization,
                "seq": seq,
                "actor_kind": str(actor.kind),
                "actor_id": str(actor.id or ""),
                "actor_label": label,
                "action": spec["action"],
                "target_type": target_type,
                "target_id": str(target_id or ""),
                "source": spec.get("source", ""),
                "data": data_text,
                "ip": meta.ip,
                "user_agent": meta.user_agent,
                "created_at": created_iso,
                "prev_hash": prev_hash,
            }
            event["data"] = json.loads(data_text)  # as stored and read back
            event["hash"] = chain.compute_hash(prev_hash, event)
            event["data_text"] = data_text
            rows.append(event)
            prev_hash = event["hash"]
            seq += 1
        _copy_events(cursor, rows, org_id, created_at)
    return rows


@lru_cache(maxsize=4096)
def _secret_key(key: str) -> bool:
    return bool(_SECRET_KEY_RE.search(key))


def _mask_cached(data: Any) -> Any:
    """`mask` with the key test memoized: bulk events repeat the same few keys."""
    if isinstance(data, dict):
        return {
            k: (MASK if _secret_key(str(k)) and v not in (None, "") else _mask_cached(v))
            for k, v in data.items()
        }
    if isinstance(data, list | tuple):
        return [_mask_cached(v) for v in data]
    return data


_EVENT_COLUMNS = (
    "id",
    "organization_id",
    "seq",
    "actor_kind",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "source",
    "data",
    "ip",
    "user_agent",
    "created_at",
    "prev_hash",
    "hash",
)


def _copy_events(cursor, rows: list[dict], org_id, created_at) -> None:
    temp = f"audit_bulk_{uuid.uuid4().hex[:16]}"
    columns = ", ".join(_EVENT_COLUMNS)
    cursor.execute(f"CREATE TEMP TABLE {temp} (LIKE audit_auditevent) ON COMMIT DROP")
    with cursor.cursor.copy(f"COPY {temp} ({columns}) FROM STDIN") as copy:
        for e in rows:
            copy.write_row(
                [
                    e["id"],
                    org_id,
                    e["seq"],
                    e["actor_kind"],
                    e["actor_id"],
                    e["actor_label"],
                    e["action"],
                    e["target_type"],
                    e["target_id"],
                    e["source"],
                    e.pop("data_text"),  # JSON text: COPY hands it to jsonb as is
                    e["ip"],
                    e["user_agent"],
                    created_at,
                    e["prev_hash"],
                    e["hash"],
                ]
            )
    cursor.execute(f"INSERT INTO audit_auditevent ({columns}) SELECT {columns} FROM {temp}")
    cursor.execute(f"DROP TABLE {temp}")
