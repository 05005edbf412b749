"""CSV import pages: upload and history, one job's progress / result / errors, error CSV."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from credex import capabilities as cap
from credex import interface as ui
from credex.errors import DomainError
from credex.jobs import job_is_stalled, job_is_waiting_for_writes
from credex.views import capability_required
from roster import importer
from roster.models import ImportStatus
from roster.services.imports import (
    RUNNING,
    import_errors_csv,
    import_job_create,
    import_job_get,
    import_job_list,
)

SORTS = {
    "started": "created_at",
    "-started": "-created_at",
    "rows": "total_rows",
    "-rows": "-total_rows",
}


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@capability_required(cap.VIEW_ROSTER)
def imports(request, org_slug):
    org = request.org
    can_import = ui.can_change(request)
    errors, error_status = {}, 400
    if request.method == "POST":
        if not can_import:
            raise PermissionDenied
        try:
            job = import_job_create(
                org=org,
                actor=request.membership,
                csv_file=request.FILES.get("file"),
                documents_zip=request.FILES.get("documents"),
            )
        except DomainError as exc:
            errors = exc.details or {"__all__": exc.message}
            error_status = exc.status  # 503: the job queue is down, nothing was started
        else:
            return redirect("import_detail", org_slug=org.slug, job_id=job.pk)
    status = request.GET.get("status", "")
    sort = request.GET.get("sort", "-started")
    jobs = import_job_list(org=org)
    if status in ImportStatus.values:
        jobs = jobs.filter(status=status)
    else:
        status = ""
    jobs = jobs.order_by(SORTS.get(sort, "-created_at"))
    page = Paginator(jobs, 25).get_page(request.GET.get("page"))
    query = {k: v for k, v in (("status", status), ("sort", sort)) if v and v != "-started"}
    context = {
        "page": page,
        "status": status,
        "sort": sort,
        "query": query,
        "statuses": ImportStatus.choices,
        "errors": errors,
        "can_import": can_import,
        "columns": importer.COLUMNS,
        "inline_max": _inline_max(),
        "doc_max_mb": importer.max_document_bytes() // (1024 * 1024),
    }
    partial = ui.is_partial(request) and request.method == "GET"
    template = "roster/imports/_history.html" if partial else "roster/imports/index.html"
    return render(request, template, context, status=error_status if errors else 200)


def _inline_max() -> int:
    from roster.services.imports import inline_max_rows

    return inline_max_rows()


@require_GET
@vary_on_headers("HX-Request")
@capability_required(cap.VIEW_ROSTER)
def import_detail(request, org_slug, job_id):
    job = import_job_get(org=request.org, job_id=job_id)
    stalled = job_is_stalled(job)
    waiting = job_is_waiting_for_writes(job)  # read-only for billing: runs once paid
    page = Paginator(job.errors, 100).get_page(request.GET.get("page"))
    context = {
        "job": job,
        "running": job.status in RUNNING and not stalled and not waiting,
        "stalled": stalled,
        "waiting_for_billing": waiting,
        "error_page": page,
        "error_groups": importer.group_errors(job.errors),
        "show_raw": "page" in request.GET,
        "error_rows": len({e["row"] for e in job.errors if e.get("row")}),
        "can_import": ui.can_change(request),
    }
    partial = ui.is_partial(request)
    template = "roster/imports/_status.html" if partial else "roster/imports/detail.html"
    return render(request, template, context)


@require_GET
@capability_required(cap.VIEW_ROSTER)
def import_errors(request, org_slug, job_id):
    job = import_job_get(org=request.org, job_id=job_id)
    body = import_errors_csv(org=request.org, actor=request.membership, job=job)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    stem = job.original_name.rsplit(".", 1)[0][:60] or "import"
    safe_stem = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in stem)
    response["Content-Disposition"] = f'attachment; filename="{safe_stem}-errors.csv"'
    return response


urlpatterns = [
    path("", imports, name="imports"),
    path("<uuid:job_id>/", import_detail, name="import_detail"),
    path("<uuid:job_id>/errors.csv", import_errors, name="import_errors_csv"),
]
