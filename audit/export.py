"""The audit export: the events an auditor asked for, as CSV or JSON Lines, pinned to the
chain head so the file can be re-verified offline (`python -m audit.chain export.jsonl`).

One service for every interface (the auditor page today; an API endpoint or a command would
call the same function). The export is itself audited.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from audit.chain import EXPORT_FIELDS
from audit.selectors import AuditFilters, audit_event_list, chain_head
from audit.services import Actor, audit_record, event_as_dict
from credex.csvsafe import safe_row

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


@dataclass(frozen=True)
class AuditExport:
    body: str
    content_type: str
    filename: str
    head: dict
    rows: int


def audit_export(*, org, actor: Actor, filters: AuditFilters, fmt: str) -> AuditExport:
    """The filtered events as `fmt` ("csv" or "jsonl"), ending with the chain head; audited."""
    with transaction.atomic():
        head = chain_head(org=org)
        events = audit_event_list(org=org, filters=filters).order_by("seq")
        rows = [event_as_dict(e) for e in events.iterator(chunk_size=2000)]
        # The export is itself audited, after the head was read (the head pins what was exported).
        audit_record(
            org=org,
            actor=actor,
            action="audit.exported",
            data={
                "format": fmt,
                "filters": filters.as_query(),
                "rows": len(rows),
                "chain_head_seq": head["seq"],
            },
        )
    body = _jsonl(rows, head) if fmt == "jsonl" else _csv(rows, head)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return AuditExport(
        body=body,
        content_type=FORMATS.get(fmt, FORMATS["csv"]),
        filename=f"audit-{org.slug}-{stamp}.{fmt}",
        head=head,
        rows=len(rows),
    )


def _jsonl(rows: list[dict], head: dict) -> str:
    lines = [json.dumps(r, sort_keys=True, ensure_ascii=False) for r in rows]
    lines.append(json.dumps({"chain_head": head}))
    return "\n".join(lines) + "\n"


def _csv(rows: list[dict], head: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_FIELDS)
    for r in rows:
        r = {**r, "data": json.dumps(r["data"], sort_keys=True, ensure_ascii=False)}
        writer.writerow(safe_row(r[c] if r[c] is not None else "" for c in EXPORT_FIELDS))
    # Final row pins the export to the chain head (id column says so).
    writer.writerow(
        ["#chain_head", head["organization"], head["seq"]]
        + [""] * (len(EXPORT_FIELDS) - 4)
        + [head["hash"]]
    )
    return buffer.getvalue()
