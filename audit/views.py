"""Auditor pages: search the log; export CSV / JSON Lines pinned to the chain head."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from audit import export as exports
from audit.selectors import (
    AuditFilters,
    actor_names,
    audit_actions,
    audit_event_list,
    chain_head,
)
from audit.services import Actor
from credex import capabilities as cap
from credex import interface as ui
from credex.views import capability_required


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
    partial = ui.is_partial(request)
    template = "audit/_results.html" if partial else "audit/log.html"
    return render(request, template, context, status=400 if errors else 200)


@require_GET
@capability_required(cap.EXPORT_AUDIT)
def audit_export(request, org_slug, fmt):
    filters, errors = AuditFilters.from_query(request.GET)
    if errors:
        return HttpResponse("; ".join(f"{k}: {v}" for k, v in errors.items()), status=400)
    export = exports.audit_export(
        org=request.org, actor=Actor.member(request.user), filters=filters, fmt=fmt
    )
    response = HttpResponse(export.body, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    head = export.head
    response["X-Audit-Chain-Head"] = f"{head['seq']}:{head['hash']}"
    return response
