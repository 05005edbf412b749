"""Extraction review pages (under /o/<slug>/extractions/): the worklist of suggestions read from
uploaded documents, and one suggestion beside the credential with approve / correct / reject."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from credex import capabilities as cap
from credex import interface as ui
from credex.errors import DomainError
from credex.views import capability_required
from roster.models import DocumentKind
from roster.services.providers import provider_list_record_read, provider_record_read
from verifications.extraction.base import CREDENTIAL_KIND_FOR
from verifications.forms import ExtractionDecideForm
from verifications.models import SuggestionStatus
from verifications.selectors import extraction as selectors
from verifications.services import extraction as services

PAGE_SIZE = 50


def _worklist_context(request) -> dict:
    org = request.org
    filters = selectors.clean_filters(request.GET)
    page = Paginator(selectors.suggestion_list(org=org, **filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for suggestion in page.object_list:
        suggestion.rows = services.field_rows(suggestion)
        suggestion.differs = [r for r in suggestion.rows if r["differs"] and r["applicable"]]
    counts = selectors.suggestion_counts(org=org, kind=filters["kind"], engine=filters["engine"])
    defaults = {"status": "pending", "sort": "newest"}
    query = {k: v for k, v in filters.items() if v and defaults.get(k) != v}
    tabs = []
    for value, label in selectors.STATUS_TABS:
        tab_query = {k: v for k, v in query.items() if k != "status"}
        if value != "pending":
            tab_query["status"] = value
        tabs.append(
            {
                "value": value,
                "label": label,
                "count": counts[value],
                "href": "?" + urlencode(tab_query) if tab_query else "?",
                "current": filters["status"] == value,
            }
        )
    kinds = [(k, DocumentKind(k).label) for k in CREDENTIAL_KIND_FOR]
    return {
        "page": page,
        "filters": filters,
        "query": query,
        "counts": counts,
        "tabs": tabs,
        "kinds": kinds,
        "engines": selectors.ENGINES.items(),
        "sorts": [("newest", "Newest first"), ("oldest", "Oldest first"), ("provider", "Provider")],
        "filtered": bool(filters["kind"] or filters["engine"] or filters["provider"]),
        "can_change": ui.can_change(request),
    }


@require_GET
@capability_required(cap.VIEW_ROSTER)
def extractions(request, org_slug):
    template = "verifications/extraction/worklist.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    context = _worklist_context(request)
    provider_list_record_read(
        org=request.org,
        actor=request.membership,
        providers=[s.document.provider_id for s in context["page"].object_list],
        part="extractions",
    )
    return ui.vary_on_htmx(render(request, template, context))


def _detail_context(request, suggestion, **extra) -> dict:
    return {
        "s": suggestion,
        "document": suggestion.document,
        "provider": suggestion.document.provider,
        "rows": services.field_rows(suggestion),
        "open": suggestion.status in services.OPEN_STATUSES,
        "can_approve": suggestion.status == SuggestionStatus.PENDING,
        "can_change": ui.can_change(request),
        "next_url": ui.safe_next(request, ""),
        "errors": {},
        "typed": {},
    } | extra


@require_GET
@capability_required(cap.VIEW_ROSTER)
def extraction_detail(request, org_slug, suggestion_id):
    suggestion = selectors.suggestion_get(org=request.org, suggestion_id=suggestion_id)
    # What was read from the provider's document is provider data: the read is audited.
    provider_record_read(
        org=request.org,
        actor=request.membership,
        provider=suggestion.document.provider,
        part="extraction",
    )
    return render(
        request, "verifications/extraction/detail.html", _detail_context(request, suggestion)
    )


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def extraction_decide(request, org_slug, suggestion_id):
    org = request.org
    suggestion = selectors.suggestion_get(org=org, suggestion_id=suggestion_id)
    decide_form = ExtractionDecideForm(request.POST, names=services.APPLICABLE)
    typed = decide_form.typed_values()
    reason = decide_form.typed(["reason"], strip=False)["reason"]
    try:
        values = decide_form.values()
        decision = values["decision"]
        suggestion = services.extraction_decide(
            org=org,
            actor=request.membership,
            suggestion=suggestion,
            decision=decision,
            values=decide_form.corrected() if decision == "correct" else None,
            reason=values["reason"],
        )
    except DomainError as exc:
        ui.raise_http(exc)
        suggestion = selectors.suggestion_get(org=org, suggestion_id=suggestion_id)
        context = _detail_context(
            request,
            suggestion,
            errors=ui.form_errors(exc),
            typed=typed,
            reason=reason,
        )
        status = 400 if exc.status == 400 else 409
        return render(request, "verifications/extraction/detail.html", context, status=status)
    document = suggestion.document
    verb = {
        SuggestionStatus.APPROVED: "approved and applied to the credential",
        SuggestionStatus.CORRECTED: "saved with your corrections",
        SuggestionStatus.REJECTED: "rejected; nothing was changed",
    }[suggestion.status]
    messages.success(
        request, f"{document.get_kind_display()} for {document.provider.full_name}: {verb}."
    )
    fallback = reverse("extractions", kwargs={"org_slug": org_slug})
    return redirect(ui.safe_next(request, fallback))


urlpatterns = [
    path("", extractions, name="extractions"),
    path("<uuid:suggestion_id>/", extraction_detail, name="extraction_detail"),
    path("<uuid:suggestion_id>/decide", extraction_decide, name="extraction_decide"),
]
