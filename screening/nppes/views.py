"""NPPES pages: the mismatch worklist and errors, decisions, refresh with progress, the
provider panel and the lookup fragment for the new-provider form. Thin: parse, authorize,
call a selector or service, render."""

from __future__ import annotations

import json

from celery.result import AsyncResult
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from credex import capabilities as cap
from credex import interface as ui
from credex.errors import DomainError
from credex.views import capability_required
from roster.services.providers import provider_list_record_read, provider_record_read
from screening.forms import BulkDismissForm, NoteForm, RowLayoutForm
from screening.nppes import selectors as sel
from screening.nppes import services as svc
from screening.nppes.models import MismatchField, MismatchStatus, RunStatus, Severity

PAGE_SIZE = 50


@require_GET
@vary_on_headers("HX-Request")
@capability_required(cap.VIEW_ROSTER)
def nppes_home(request, org_slug):
    org = request.org
    filters, errors = sel.MismatchFilters.from_query(request.GET)
    items = sel.mismatch_list(org=org, filters=None if errors else filters)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = sel.decorate(page.object_list)
    context = {
        "page": page,
        "filters": filters,
        "errors": errors,
        "query": filters.as_query(),
        "counts": sel.mismatch_counts(org=org),
        "can_change": ui.can_change(request),
        "fields": MismatchField.choices,
        "severities": Severity.choices,
        "statuses": [*MismatchStatus.choices, ("all", "All")],
        "selectable": ui.can_change(request) and filters.status == MismatchStatus.OPEN,
    }
    shown = [m.provider_id for m in page.object_list]
    if ui.is_partial(request) and request.htmx.target == "nppes-results":
        if not errors:
            provider_list_record_read(
                org=org, actor=request.membership, providers=shown, part="nppes"
            )
        return render(request, "nppes/_results.html", context, status=400 if errors else 200)
    failures = sel.check_list(org=org)
    active = sel.active_run(org=org)
    failure_page = Paginator(failures, PAGE_SIZE).get_page(request.GET.get("failed_page"))
    groups = sel.failure_groups(org=org)
    if not errors:
        shown += [c.provider_id for c in failure_page.object_list]
        shown += [p.pk for g in groups for p in g["providers"]]
        provider_list_record_read(org=org, actor=request.membership, providers=shown, part="nppes")
    context |= {
        "failures": failure_page.object_list,
        "failure_page": failure_page,
        "failures_opened": "failed_page" in request.GET,
        "failure_count": failure_page.paginator.count,
        "failure_groups": groups,
        "summary": sel.check_summary(org=org),
        "last_run": sel.last_run(org=org),
        "active_run": _run_context(request, active) if active else None,
    }
    return render(request, "nppes/home.html", context, status=400 if errors else 200)


def _decided_row(request, mismatch, error: str = ""):
    (mismatch,) = sel.decorate([mismatch])
    layout = RowLayoutForm(request.POST).validated()
    context = {
        "m": mismatch,
        "can_change": ui.can_change(request),
        "row_error": error,
        # The row replaces itself in a table: keep the same columns as its neighbours.
        "selectable": layout["selectable"],
        "compact": layout["compact"],
        "back_url": ui.safe_next(request, ""),
    }
    template = "_mismatch_item" if layout["stacked"] else "_mismatch_row"
    return render(request, f"nppes/{template}.html", context, status=400 if error else 200)


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def mismatch_decide(request, org_slug, mismatch_id, action):
    org = request.org
    mismatch = sel.mismatch_get(org=org, mismatch_id=mismatch_id)
    try:
        if action == "accept":
            mismatch = svc.nppes_mismatch_accept(
                org=org, actor=request.membership, mismatch=mismatch
            )
            done = f"Took NPPES's {mismatch.get_field_display().lower()} into the roster."
        else:
            note = NoteForm(request.POST).validated()["note"]
            mismatch = svc.nppes_mismatch_dismiss(
                org=org, actor=request.membership, mismatch=mismatch, note=note
            )
            done = "Dismissed until NPPES changes this field again."
    except DomainError as exc:
        ui.raise_http(exc)
        if ui.is_partial(request):
            return _decided_row(request, sel.mismatch_get(org=org, mismatch_id=mismatch_id),
                                exc.message)  # fmt: skip
        messages.error(request, exc.message)
        return redirect(ui.safe_next(request, reverse("nppes", kwargs={"org_slug": org.slug})))
    if ui.is_partial(request):
        return _decided_row(request, mismatch)
    messages.success(request, done)
    return redirect(ui.safe_next(request, reverse("nppes", kwargs={"org_slug": org.slug})))


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def mismatch_bulk_dismiss(request, org_slug):
    org = request.org
    posted = BulkDismissForm(request.POST).validated()
    back = ui.safe_next(request, reverse("nppes", kwargs={"org_slug": org.slug}))
    chosen = list(sel.mismatch_list(org=org, filters=sel.MismatchFilters(status="open")).filter(
        pk__in=posted["ids"]
    ))  # fmt: skip
    if not chosen:
        messages.error(request, "Tick at least one open difference to dismiss.")
        return redirect(back)
    rows = svc.nppes_mismatches_dismiss(
        org=org, actor=request.membership, mismatches=chosen, note=posted["note"]
    )
    messages.success(
        request,
        f"Dismissed {len(rows)} difference{'s' if len(rows) != 1 else ''} until NPPES changes "
        "them again.",
    )
    return redirect(back)


def _run_context(request, run) -> dict:
    state, done, total = None, None, None
    if run.status == RunStatus.QUEUED:
        result = AsyncResult(str(run.pk))
        state = result.state
        if state == "PROGRESS" and isinstance(result.info, dict):
            done, total = result.info.get("done"), result.info.get("total")
        elif state in ("SUCCESS", "FAILURE"):
            run.refresh_from_db()
    running = run.status == RunStatus.QUEUED and state != "FAILURE"
    context = {"run": run, "state": state, "done": done, "total": total, "running": running}
    if not running and run.status == RunStatus.DONE:
        context |= _run_outcome(run)
    return context


def _run_outcome(run) -> dict:
    """A finished run says plainly whether it got answers: a run whose every check failed is
    a failure (red, what happened, what to do), not a green "finished"."""
    counts = run.counts or {}
    checked = counts.get("checked") or 0
    failed = (counts.get("error") or 0) + (counts.get("not_found") or 0)
    outcome = {"failed": failed, "all_failed": bool(checked) and failed >= checked}
    if run.provider_id and failed:
        check = sel.provider_check(org=run.organization_id, provider_id=run.provider_id)
        if check is not None and check.failed:
            outcome["failure"] = sel.failure_summary(
                check.error_detail,
                outcome=check.outcome,
                http_status=check.http_status,
                attempts=check.attempts,
            )
    return outcome


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def refresh(request, org_slug, provider_id=None):
    org = request.org
    provider = sel.provider_get(org=org, provider_id=provider_id) if provider_id else None
    try:
        run = svc.nppes_refresh_request(org=org, actor=request.membership, provider=provider)
    except DomainError as exc:
        if ui.is_partial(request):
            return render(request, "nppes/_run_error.html", {"message": exc.message}, status=400)
        messages.error(request, exc.message)
        return redirect(ui.safe_next(request, reverse("nppes", kwargs={"org_slug": org.slug})))
    if ui.is_partial(request):
        context = _run_context(request, run) | {"in_panel": provider is not None}
        return render(request, "nppes/_run.html", context)
    messages.success(request, "Refresh queued; this page shows its progress.")
    return redirect(ui.safe_next(request, reverse("nppes", kwargs={"org_slug": org.slug})))


@require_GET
@capability_required(cap.VIEW_ROSTER)
def run_progress(request, org_slug, run_id):
    run = sel.run_get(org=request.org, run_id=run_id)
    context = _run_context(request, run)
    if request.GET.get("panel") == "1" and run.provider_id and not context["running"]:
        # Polled from the provider file's card: the run is over, so the whole card is
        # redrawn with the new check (not a "finished" line above a stale "Not checked yet").
        context = _panel_context(request, run.provider) | {"finished_run": context}
        response = render(request, "nppes/_provider_nppes.html", context)
        response["HX-Retarget"] = "#nppes-panel"
        response["HX-Reswap"] = "outerHTML"
        return response
    return render(
        request, "nppes/_run.html", context | {"in_panel": bool(request.GET.get("panel"))}
    )


def _panel_context(request, provider) -> dict:
    data = sel.provider_nppes(org=request.org, provider=provider)
    data["open"] = sel.decorate(data["open"])
    data["decided"] = sel.decorate(data["decided"])
    if data["active_run"]:
        data["active_run"] = _run_context(request, data["active_run"])
    return {"provider": provider, "nppes": data, "can_change": ui.can_change(request)}


@require_GET
@vary_on_headers("HX-Request")
@capability_required(cap.VIEW_ROSTER)
def provider_panel(request, org_slug, provider_id):
    org = request.org
    provider = sel.provider_get(org=org, provider_id=provider_id)
    provider_record_read(org=org, actor=request.membership, provider=provider, part="nppes")
    context = _panel_context(request, provider)
    if ui.is_partial(request):
        return render(request, "nppes/_provider_nppes.html", context)
    return render(request, "nppes/provider.html", context)


@require_GET
@capability_required(cap.VIEW_ROSTER)
def lookup(request, org_slug):
    npi = request.GET.get("npi", "")
    try:
        result = svc.nppes_lookup(org=request.org, actor=request.membership, npi=npi)
    except DomainError as exc:
        return render(request, "nppes/_lookup.html", {"npi": npi, "error": exc.message}, status=400)
    context = {
        "npi": result.npi,
        "failure": sel.failure_summary(
            result.error,
            outcome=result.outcome,
            http_status=result.http_status,
            attempts=result.attempts,
        )
        if result.outcome == "error"
        else None,  # fmt: skip
        "result": result,
        "prefill_json": json.dumps(result.prefill),
    }
    return render(request, "nppes/_lookup.html", context)
