"""Auditor pages: search the log; export CSV / JSON Lines pinned to the chain head."""

from __future__ import annotations

import csv
import io
import json

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from audit.selectors import (
    AuditFilters,
    actor_names,
    audit_actions,
    audit_event_list,
    chain_head,
)
from audit.services import Actor, audit_record, event_as_dict
from credex import capabilities as cap
from credex.csvsafe import safe_row
from credex.views import capability_required

EXPORT_COLUMNS = [
    "id",
    "organization",
    "seq",
    "created_at",
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
    "prev_hash",
    "hash",
]


@require_GET
@vary_on_headers("HX-Request")
@capability_required(cap.VIEW_AUDIT)
def audit_log(request, org_slug):
    filters, errors = AuditFilters.from_query(request.GET)
    events = audit_event_list(org=request.org, filters=None if errors else filters)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    names = actor_names(page.object_list)
    for event in page.object_list:
        event.actor_name = names.get(event.actor_id, "")
    context = {
        "page": page,
        "filters": filters,
        "errors": errors,
        "query": filters.as_query(),
        "actions": audit_actions(org=request.org),
        "head": chain_head(org=request.org),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "audit/_results.html" if partial else "audit/log.html"
    return render(request, template, context, status=400 if errors else 200)


@require_GET
@capability_required(cap.EXPORT_AUDIT)
def audit_export(request, org_slug, fmt):
    filters, errors = AuditFilters.from_query(request.GET)
    if errors:
        return HttpResponse("; ".join(f"{k}: {v}" for k, v in errors.items()), status=400)
    head = chain_head(org=request.org)
    events = audit_event_list(org=request.org, filters=filters).order_by("seq")
    rows = [event_as_dict(e) for e in events.iterator(chunk_size=2000)]
    # The export is itself audited, after the head was read (the head pins what was exported).
    audit_record(
        org=request.org,
        actor=Actor.member(request.user),
        action="audit.exported",
        data={
            "format": fmt,
            "filters": filters.as_query(),
            "rows": len(rows),
            "chain_head_seq": head["seq"],
        },
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    if fmt == "jsonl":
        lines = [json.dumps(r, sort_keys=True, ensure_ascii=False) for r in rows]
        lines.append(json.dumps({"chain_head": head}))
        response = HttpResponse("\n".join(lines) + "\n", content_type="application/x-ndjson")
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(EXPORT_COLUMNS)
        for r in rows:
            r = {**r, "data": json.dumps(r["data"], sort_keys=True, ensure_ascii=False)}
            writer.writerow(safe_row(r[c] if r[c] is not None else "" for c in EXPORT_COLUMNS))
        # Final row pins the export to the chain head (id column says so).
        writer.writerow(
            ["#chain_head", head["organization"], head["seq"]]
            + [""] * (len(EXPORT_COLUMNS) - 4)
            + [head["hash"]]
        )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="audit-{request.org.slug}-{stamp}.{fmt}"'
    )
    response["X-Audit-Chain-Head"] = f"{head['seq']}:{head['hash']}"
    return response
