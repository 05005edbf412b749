"""Screening pages (under /o/<slug>/screening/): the worklist home, runs with a live
progress bar, hit review, dataset versions, and a provider's screening history.

Reading needs roster.view (every role); running and reviewing need roster.change (owner,
admin, coordinator): an auditor reads and gets 403 on every write. Datasets are loaded by
platform staff with `manage.py load_exclusions`, never through the browser.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credex import capabilities as cap
from credex import interface as ui
from credex.errors import DomainError
from credex.services import get_or_404
from credex.views import capability_required
from roster.models import Provider
from roster.services.providers import provider_list_record_read, provider_record_read
from screening import selectors, services
from screening.forms import HitClearForm, NoteForm
from screening.models import HitKind, HitStatus, RunTrigger, Source
from screening.trends import trend_chart

PAGE_SIZE = 25


def _filters(request) -> tuple[dict, dict]:
    """(applied filters, query string values) from the URL; unknown values are ignored."""
    choices = {
        "status": HitStatus.values,
        "source": Source.values,
        "kind": HitKind.values,
    }
    applied, query = {}, {}
    for name in selectors.HIT_FILTERS:
        value = request.GET.get(name, "").strip()
        if not value:
            continue
        if name in choices and value not in choices[name]:
            continue
        if name == "provider":
            try:
                uuid.UUID(value)
            except ValueError:
                continue
        applied[name] = value
        query[name] = value
    return applied, query


@require_GET
@capability_required(cap.VIEW_ROSTER)
def screening_home(request, org_slug):
    org = request.org
    filters, query = _filters(request)
    hits = selectors.hit_list(org, filters=filters)
    page = Paginator(hits, PAGE_SIZE).get_page(request.GET.get("page"))
    provider_list_record_read(
        org=org,
        actor=request.membership,
        providers=[h.provider_id for h in page.object_list],
        part="screening",
    )
    context = {
        "page": page,
        "filters": filters,
        "query": query,
        "counts": selectors.hit_counts(org),
        "can_change": ui.can_change(request),
        "statuses": HitStatus.choices,
        "sources": Source.choices,
        "kinds": HitKind.choices,
    }
    if request.htmx and request.htmx.target == "hits-results":
        response = render(request, "screening/_hits.html", context)
    else:
        run = selectors.last_run(org)
        context |= {
            "datasets": selectors.dataset_versions_in_use(),
            "run": run,
            "progress": selectors.run_progress(run) if run else None,
            "trend": trend_chart(selectors.hits_by_month(org)),
        }
        response = render(request, "screening/home.html", context)
    return ui.vary_on_htmx(response)


@require_POST
@capability_required(cap.VIEW_ROSTER)
def run_start(request, org_slug):
    ui.require_change(request)
    org = request.org
    try:
        run = services.screening_run_request(
            org=org, actor=request.membership, trigger=RunTrigger.ON_DEMAND
        )
    except DomainError as exc:
        if request.htmx:
            run = selectors.last_run(org)
            return render(
                request,
                "screening/_run_status.html",
                {
                    "run": run,
                    "progress": selectors.run_progress(run) if run else None,
                    "error": exc.message,
                    "can_change": True,
                },
                status=exc.status,  # 409 a run in progress, 503 the job queue is down
            )
        messages.error(request, exc.message)
        return redirect("screening", org_slug=org.slug)
    if request.htmx:
        return render(
            request,
            "screening/_run_status.html",
            {"run": run, "progress": selectors.run_progress(run), "can_change": True},
        )
    messages.success(request, "Screening started. Results appear here when it finishes.")
    return redirect("screening_run", org_slug=org.slug, run_id=run.pk)


@require_GET
@capability_required(cap.VIEW_ROSTER)
def run_detail(request, org_slug, run_id):
    org = request.org
    run = selectors.run_get(org, run_id)
    new = run.counts.get("new", {})
    by_source = run.counts.get("by_source", {})
    context = {
        "run": run,
        "progress": selectors.run_progress(run),
        "can_change": ui.can_change(request),
        # The home page's progress card polls this URL: only the run's own page differs.
        "on_run_page": not request.htmx,
        "versions": [("OIG LEIE", run.leie_version), ("SAM.gov", run.sam_version)],
        # In a fixed order (a JSON object's keys come back in the database's order).
        "kind_counts": [(kind.label, new.get(kind.value, 0)) for kind in HitKind],
        "source_counts": [
            (source.label, by_source[source.value]) for source in Source if source in by_source
        ],
    }
    template = "screening/_run_status.html" if request.htmx else "screening/run.html"
    response = render(request, template, context)
    if request.htmx and not run.is_open:
        # The poll saw the run finish: the worklist on the page refreshes itself.
        response["HX-Trigger"] = "screeningRunFinished"
    return ui.vary_on_htmx(response)


@require_GET
@capability_required(cap.VIEW_ROSTER)
def hit_detail(request, org_slug, hit_id):
    return _hit_page(request, selectors.hit_get(request.org, hit_id))


def _hit_page(request, hit, *, errors=None, form=None, status=200):
    org = request.org
    provider_record_read(
        org=org, actor=request.membership, provider=hit.provider, part="screening hit"
    )
    rows = _comparison(hit)
    context = {
        "hit": hit,
        "record": selectors.shown_record(hit),
        "rows": rows,
        "why": _why(hit, rows),
        "trail": selectors.hit_audit_trail(org, hit),
        "can_change": ui.can_change(request),
        "errors": errors or {},
        "form": form or {"reason": "", "evidence": "", "note": ""},
        "reasons": services.CLEAR_REASONS,
        "label": selectors.hit_label(hit),
    }
    return render(request, "screening/hit.html", context, status=status)


# Our field -> the record's columns, per source (for the side-by-side comparison).
_COMPARE = {
    Source.LEIE: [
        ("npi", "NPI", ["NPI"]),
        ("first_name", "First name", ["FIRSTNAME"]),
        ("middle_name", "Middle name", ["MIDNAME"]),
        ("last_name", "Last name", ["LASTNAME"]),
        ("dob", "Date of birth", ["DOB"]),
        ("state", "State", ["STATE"]),
        ("business_name", "Business name", ["BUSNAME"]),
    ],
    Source.SAM: [
        ("npi", "NPI", ["NPI"]),
        ("first_name", "First name", ["First"]),
        ("middle_name", "Middle name", ["Middle"]),
        ("last_name", "Last name", ["Last"]),
        ("state", "State", ["State / Province"]),
        ("business_name", "Business name", ["Name"]),
    ],
}
_FIELD_MATCHES = {
    "npi": {"npi"},
    "first_name": {"first_name", "name_similar"},
    "last_name": {"last_name", "name_similar"},
    "dob": {"dob"},
    "state": {"state"},
    "business_name": {"business_name"},
    "middle_name": set(),
}


def _comparison(hit) -> list[dict]:
    """Rows of (our value, their value, matched?) for the fields the rules compare."""
    ours = hit.provider_snapshot or {}
    theirs = selectors.shown_record(hit)
    matched = set(hit.matched_fields or [])
    rows = []
    for field, label, columns in _COMPARE[hit.source]:
        our_value = ours.get(field, "")
        if field == "state":
            states = [ours.get("state", ""), *ours.get("practice_states", [])]
            our_value = ", ".join(dict.fromkeys(s for s in states if s))
        if field == "dob":
            relation = (hit.explanation or {}).get("dob")
            our_value = {
                "same": "on file — the same date",
                "different": "on file — a different date",
            }.get(relation, ours.get("dob", "not on file"))
        if field == "business_name":
            compared = (hit.explanation or {}).get("compared") or {}
            our_value = (
                compared.get("ours")
                if compared.get("kind") == "business_name"
                else " / ".join(n for n in (ours.get("legal_name"), ours.get("dba_name")) if n)
            )
        if field == "last_name" and ours.get("former_names"):
            our_value = f"{our_value} (formerly {', '.join(ours['former_names'])})"
        their_value = " ".join(str(theirs.get(c) or "") for c in columns).strip()
        rows.append(
            {
                "field": field,
                "label": label,
                "ours": our_value or "—",
                "theirs": their_value or "—",
                "matched": bool(_FIELD_MATCHES[field] & matched),
                "same": bool(our_value) and str(our_value).upper() == their_value.upper(),
            }
        )
    return rows


_WHY = {
    HitKind.NPI: "The NPI is the same on both records.",
    HitKind.NAME_DOB: "The name and the date of birth are the same on both records.",
    HitKind.NAME_STATE: "The name is the same and the record's state is one of the provider's.",
    HitKind.BUSINESS: "The business name is the same on both records.",
    HitKind.POSSIBLE: "Only the name matches, or is similar: confirm with the fields below.",
    HitKind.REINSTATEMENT: "The provider's earlier match is no longer listed, or was reinstated.",
}


def _why(hit, rows: list[dict]) -> dict:
    """Why the rules matched: the kind in words and each field compared, with both values
    (the fields come from the hit's matched fields; a protected date of birth stays masked)."""
    fields = []
    for row in rows:
        if not row["matched"]:
            continue
        if row["field"] == "dob" and (hit.explanation or {}).get("dob") == "same":
            fields.append({"label": row["label"], "text": "the same date on both (hidden)"})
        else:
            fields.append({"label": row["label"], "ours": row["ours"], "theirs": row["theirs"]})
    summary = _WHY.get(hit.kind, "")
    matched = set(hit.matched_fields or [])
    if hit.kind == HitKind.POSSIBLE and "name_similar" in matched:
        also = (
            "the date of birth is the same"
            if "dob" in matched
            else "the state is one of the provider's"
            if "state" in matched
            else "nothing else backs it"
        )
        summary = f"The name is similar, not the same, and {also}: confirm with the fields below."
    return {"summary": summary, "fields": fields}


@require_POST
@capability_required(cap.VIEW_ROSTER)
def hit_confirm(request, org_slug, hit_id):
    ui.require_change(request)
    hit = selectors.hit_get(request.org, hit_id)
    note_form = NoteForm(request.POST)
    note = note_form.typed()["note"]
    try:
        services.hit_confirm(
            org=request.org,
            actor=request.membership,
            hit=hit,
            note=note_form.validated()["note"],
        )
    except DomainError as exc:
        return _hit_page(
            request,
            hit,
            errors={"note": exc.message, "__all__": exc.message},
            form={"note": note, "reason": "", "evidence": ""},
            status=exc.status,
        )
    if hit.kind == HitKind.REINSTATEMENT:
        messages.success(request, "Reinstatement confirmed.")
    else:
        messages.success(
            request, f"Exclusion confirmed: {hit.provider} is flagged as excluded everywhere."
        )
    return redirect("screening_hit", org_slug=org_slug, hit_id=hit.pk)


@require_POST
@capability_required(cap.VIEW_ROSTER)
def hit_clear(request, org_slug, hit_id):
    ui.require_change(request)
    hit = selectors.hit_get(request.org, hit_id)
    clear_form = HitClearForm(request.POST)
    form = {**clear_form.typed(), "note": ""}
    try:
        values = clear_form.validated()
        services.hit_clear(
            org=request.org,
            actor=request.membership,
            hit=hit,
            reason=values["reason"],
            evidence=values["evidence"],
        )
    except DomainError as exc:
        errors = dict(exc.details) if exc.details else {}
        errors["__all__"] = exc.message
        return _hit_page(request, hit, errors=errors, form=form, status=exc.status)
    # Back to the worklist, saying whose match was cleared: landing on another provider's
    # match under this banner read as if that one had been cleared.
    messages.success(
        request,
        f"Cleared {hit.provider}'s {selectors.hit_label(hit)} match as a false positive. "
        "It will not be raised again.",
    )
    return redirect("screening", org_slug=org_slug)


@require_GET
@capability_required(cap.VIEW_ROSTER)
def datasets(request, org_slug):
    return render(
        request,
        "screening/datasets.html",
        {
            "in_use": selectors.dataset_versions_in_use(),
            "versions": selectors.dataset_version_list()[:100],
        },
    )


@require_http_methods(["GET", "POST"])
@capability_required(cap.VIEW_ROSTER)
def provider_history(request, org_slug, provider_id):
    org = request.org
    provider = get_or_404(Provider.objects.filter(organization=org), pk=provider_id)
    if request.method == "POST":
        ui.require_change(request)
        try:
            services.screening_run_request(org=org, actor=request.membership, provider=provider)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Screening {provider} now; refresh in a moment.")
        return redirect("screening_provider_history", org_slug=org.slug, provider_id=provider.pk)
    provider_record_read(
        org=org, actor=request.membership, provider=provider, part="screening history"
    )
    context = {
        "provider": provider,
        "history": selectors.provider_screening_history(org, provider),
        "sam_api": {
            "configured": bool(settings.SAM_API_KEY),
            "last": selectors.last_sam_api_check(org, provider),
        },
        "can_change": ui.can_change(request),
        "standalone": True,
    }
    return render(request, "screening/provider_history.html", context)


@require_POST
@capability_required(cap.VIEW_ROSTER)
def provider_sam_check(request, org_slug, provider_id):
    """ "Check SAM now": ask the SAM.gov API about one provider and record the answer."""
    ui.require_change(request)
    org = request.org
    provider = get_or_404(Provider.objects.filter(organization=org), pk=provider_id)
    back = ui.safe_next(request, history_url(org, provider))
    try:
        check = services.sam_check_provider(org=org, actor=request.membership, provider=provider)
    except DomainError as exc:
        ui.raise_http(exc)
        messages.error(request, f"SAM.gov check not done: {exc.message}")
        return redirect(back)
    if check.outcome == "clean":
        messages.success(request, check.verification.details)
    else:  # a possible match, or more records for the name than were read
        messages.warning(request, check.verification.details)
    return redirect(back)


def history_url(org, provider) -> str:
    return reverse(
        "screening_provider_history", kwargs={"org_slug": org.slug, "provider_id": provider.pk}
    )
