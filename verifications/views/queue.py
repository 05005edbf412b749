"""PSV pages (under /o/<slug>/verifications/): the queue, the record form (inline in a queue row
over htmx, or a page of its own from the provider file), the correction form, the written
request flow (send, follow up, cancel), bulk assignment, and the audited evidence download."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credex import capabilities as cap
from credex import interface as ui
from credex.errors import DomainError, InvalidInput
from credex.models import Membership
from credex.services import get_or_404
from credex.views import capability_required
from roster.models import Credential, Provider
from roster.services.providers import provider_list_record_read, provider_record_read
from verifications.forms import (
    RECORD_FIELDS,
    AssignForm,
    ElementForm,
    ReasonForm,
    RequestFollowUpForm,
    RequestSendForm,
    RowForm,
    VerificationCorrectForm,
    VerificationRecordForm,
)
from verifications.models import (
    VerificationMethod,
    VerificationResult,
    VerificationSource,
)
from verifications.selectors import queue as selectors
from verifications.services import queue as services
from verifications.services.queue import WRITTEN_METHODS, add_business_days
from verifications.services.records import verification_correct, verification_record
from verifications.sources import STATE_BOARDS, source_for

PAGE_SIZE = 50


def _members(org):
    return list(
        Membership.objects.filter(organization=org, role__in=cap.roles_with(cap.CHANGE_ROSTER))
        .select_related("user")
        .order_by("user__email")
    )


def _queue_url(org) -> str:
    return reverse("psv_queue", kwargs={"org_slug": org.slug})


def _provider_url(org, provider) -> str:
    return reverse("provider_detail", kwargs={"org_slug": org.slug, "provider_id": provider.pk})


# --- the queue ----------------------------------------------------------------------------
def _queue_context(request) -> dict:
    org = request.org
    today = timezone.localdate()
    filters = selectors.clean_filters(request.GET)
    rows = selectors.queue_rows(org=org, today=today, **filters)
    counts = selectors.queue_counts(
        org=org,
        source=filters["source"],
        coordinator=filters["coordinator"],
        q=filters["q"],
        today=today,
    )
    paginator = Paginator(rows, PAGE_SIZE)
    # The tab counts already hold this list's size: spare the paginator its own COUNT.
    paginator.__dict__["count"] = counts[filters["status"] or "all"]
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = selectors.queue_items(org=org, rows=page.object_list, today=today)
    query = {k: v for k, v in filters.items() if v}
    tabs = []
    for value, label in [("", "All"), *selectors.STATUSES.items()]:
        tab_query = {k: v for k, v in query.items() if k != "status"}
        if value:
            tab_query["status"] = value
        tabs.append(
            {
                "value": value,
                "label": label,
                "count": counts[value or "all"],
                "href": "?" + urlencode(tab_query),
                "current": filters["status"] == value,
            }
        )
    can_change = ui.can_change(request)
    return {
        "page": page,
        "filters": filters,
        "query": query,
        "counts": counts,
        "tabs": tabs,
        "sources": VerificationSource.choices,
        "members": _members(org),
        "can_change": can_change,
        "written_methods": [(m.value, m.label) for m in WRITTEN_METHODS],
        "default_due": add_business_days(today, services.DEFAULT_DUE_BUSINESS_DAYS),
        "today": today,
    }


@require_GET
@capability_required(cap.VIEW_ROSTER)
def psv_queue(request, org_slug):
    context = _queue_context(request)
    provider_list_record_read(
        org=request.org,
        actor=request.membership,
        providers=[item.provider for item in context["page"].object_list],
        part="verification queue",
    )
    template = "verifications/queue/list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return ui.vary_on_htmx(render(request, template, context))


def _item(org, provider, credential, source):
    """The element as the queue shows it (or, once verified, as the record form needs it)."""
    today = timezone.localdate()
    rows = selectors.queue_rows(org=org, provider=provider, source=source, today=today)
    for item in selectors.queue_items(org=org, rows=rows, today=today):
        if item.credential == credential and item.source == source:
            return item
    return selectors.queue_item_for(
        org=org, provider=provider, credential=credential, source=source
    )


def _row(request, item, *, errors=None, notice="", status=200):
    context = {
        "item": item,
        "can_change": ui.can_change(request),
        "written_methods": [(m.value, m.label) for m in WRITTEN_METHODS],
        "default_due": add_business_days(timezone.localdate(), services.DEFAULT_DUE_BUSINESS_DAYS),
        "today": timezone.localdate(),
        "row_errors": errors or {},
        "row_notice": notice,
        "next_url": ui.safe_next(request, _queue_url(request.org)),
    }
    return ui.vary_on_htmx(render(request, "verifications/queue/_row.html", context, status=status))


# --- the element a form is about ----------------------------------------------------------
def _element(request, provider_id):
    """(provider, credential or None, source) from the URL and the query or form."""
    org = request.org
    provider = get_or_404(
        Provider.objects.filter(organization=org).select_related("coordinator__user"),
        pk=provider_id,
    )
    data = request.POST if request.method == "POST" else request.GET
    credential = None
    credential_id, source = ElementForm(data).element()
    if credential_id:
        credential = get_or_404(
            Credential.objects.filter(organization=org, provider=provider), pk=credential_id
        )
    if credential is not None:
        source = source or source_for(credential)["source"]
    return provider, credential, source


# --- the record form ------------------------------------------------------------------------
def _initial(provider, credential, source, verification=None) -> dict:
    if verification is not None:
        form = {f: getattr(verification, f) for f in RECORD_FIELDS}
        form["verified_at"] = timezone.localtime(verification.verified_at).strftime(
            "%Y-%m-%dT%H:%M"
        )
        return form
    guess = (
        source_for(credential)
        if credential is not None
        else {
            "source": source,
            "source_state": "",
            "source_name": "",
            "method": VerificationMethod.API if source == "nppes" else VerificationMethod.WEB,
        }
    )
    if source and credential is not None and source != guess["source"]:
        guess.update(source=source, source_name="")
    return {
        **guess,
        "result": VerificationResult.VERIFIED,
        "verified_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "details": "",
        "reference": "",
    }


def _form_context(request, provider, credential, source, form, errors, **extra) -> dict:
    item = _item(request.org, provider, credential, source) if source else None
    return {
        "provider": provider,
        "credential": credential,
        "element_source": source,
        "item": item,
        "form": form,
        "errors": errors,
        "error_message": (errors or {}).get("__all__", ""),
        "sources": VerificationSource.choices,
        "methods": VerificationMethod.choices,
        "results": VerificationResult.choices,
        "boards": STATE_BOARDS.values(),
        "board": item.board if item else None,
        "next_url": ui.safe_next(request, _provider_url(request.org, provider)),
        "validity_days": request.org.psv_validity_days,
        **extra,
    }


@require_http_methods(["GET", "POST"])
@capability_required(cap.CHANGE_ROSTER)
def psv_verify(request, org_slug, provider_id):
    org = request.org
    provider, credential, source = _element(request, provider_id)
    row = RowForm(request.POST if request.method == "POST" else request.GET)
    inline = row.inline() and request.htmx
    template = (
        "verifications/queue/_verify_row.html" if inline else "verifications/queue/verify.html"
    )
    if request.method == "GET":
        provider_record_read(
            org=org, actor=request.membership, provider=provider, part="verification form"
        )
        form = _initial(provider, credential, source)
        return ui.vary_on_htmx(
            render(
                request, template, _form_context(request, provider, credential, source, form, {})
            )
        )
    record_form = VerificationRecordForm(request.POST)
    form = record_form.typed()
    try:
        verification = verification_record(
            org=org,
            actor=request.membership,
            provider=provider,
            credential=credential,
            evidence_files=request.FILES.getlist("evidence"),
            **record_form.values(),
        )
    except DomainError as exc:
        ui.raise_http(exc)
        context = _form_context(request, provider, credential, source, form, ui.form_errors(exc))
        return ui.vary_on_htmx(render(request, template, context, status=400))
    counted = verification.result == VerificationResult.VERIFIED
    note = (
        f"{verification.get_source_display()} verification recorded for {provider.full_name}."
        + (" It has left the queue." if counted else " It stays in the queue until it is resolved.")
    )
    if inline:
        context = {
            "verification": verification,
            "note": note,
            "dom_id": row.dom_id_value(),
        }
        return ui.vary_on_htmx(render(request, "verifications/queue/_row_done.html", context))
    messages.success(request, note)
    return redirect(ui.safe_next(request, _provider_url(org, provider)))


@require_http_methods(["GET", "POST"])
@capability_required(cap.CHANGE_ROSTER)
def psv_correct(request, org_slug, verification_id):
    org = request.org
    old = selectors.verification_get(org=org, verification_id=verification_id)
    provider, credential = old.provider, old.credential
    extra = {"correcting": old}
    if request.method == "GET":
        form = _initial(provider, credential, old.source, old) | {"reason": ""}
        context = _form_context(request, provider, credential, old.source, form, {}, **extra)
        return ui.vary_on_htmx(render(request, "verifications/queue/verify.html", context))
    correct_form = VerificationCorrectForm(request.POST)
    form = correct_form.typed()
    try:
        verification_correct(
            org=org,
            actor=request.membership,
            verification=old,
            evidence_files=request.FILES.getlist("evidence"),
            **correct_form.values(),
        )
    except DomainError as exc:
        ui.raise_http(exc)
        context = _form_context(
            request, provider, credential, old.source, form, ui.form_errors(exc), **extra
        )
        return ui.vary_on_htmx(
            render(request, "verifications/queue/verify.html", context, status=400)
        )
    messages.success(
        request, "Correction recorded; the earlier record is kept and marked superseded."
    )
    return redirect(ui.safe_next(request, _provider_url(org, provider)))


# --- written requests ---------------------------------------------------------------------
def _request_action(request, provider, credential, source, action):
    try:
        action()
    except DomainError as exc:
        ui.raise_http(exc)
        if request.htmx:
            item = _item(request.org, provider, credential, source)
            return _row(
                request, item, errors=ui.form_errors(exc), status=400 if exc.status == 400 else 422
            )
        messages.error(request, exc.message)
        return redirect(ui.safe_next(request, _queue_url(request.org)))
    if request.htmx:
        return _row(request, _item(request.org, provider, credential, source), notice="Saved.")
    messages.success(request, "Saved.")
    return redirect(ui.safe_next(request, _queue_url(request.org)))


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def psv_request_send(request, org_slug, provider_id):
    provider, credential, source = _element(request, provider_id)
    return _request_action(
        request,
        provider,
        credential,
        source,
        lambda: services.request_send(
            org=request.org,
            actor=request.membership,
            provider=provider,
            credential=credential,
            source=source,
            **RequestSendForm(request.POST).values(),
        ),
    )


def _request_of(request, request_id):
    vr = selectors.request_get(org=request.org, request_id=request_id)
    return vr, vr.provider, vr.credential, vr.source


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def psv_request_follow_up(request, org_slug, request_id):
    vr, provider, credential, source = _request_of(request, request_id)
    return _request_action(
        request,
        provider,
        credential,
        source,
        lambda: services.request_follow_up(
            org=request.org,
            actor=request.membership,
            request=vr,
            **RequestFollowUpForm(request.POST).values(),
        ),
    )


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def psv_request_cancel(request, org_slug, request_id):
    vr, provider, credential, source = _request_of(request, request_id)
    return _request_action(
        request,
        provider,
        credential,
        source,
        lambda: services.request_cancel(
            org=request.org,
            actor=request.membership,
            request=vr,
            **ReasonForm(request.POST).values(),
        ),
    )


def _elements_from_keys(org, keys: list[str]) -> list[tuple]:
    """ "provider:credential:source" keys (the queue's checkboxes) to model rows, in two queries."""
    parsed = []
    for key in keys:
        parts = key.split(":")
        if len(parts) == 3:
            parsed.append(parts)
    provider_ids = {p for p, _, _ in parsed}
    credential_ids = {c for _, c, _ in parsed if c != "-"}
    try:
        providers = {
            str(p.pk): p for p in Provider.objects.filter(organization=org, pk__in=provider_ids)
        }
        credentials = {
            str(c.pk): c for c in Credential.objects.filter(organization=org, pk__in=credential_ids)
        }
    except Exception:  # a malformed id in a hand-made form: none of them is ours
        raise InvalidInput("Some rows are not in the queue any more.")
    elements = []
    for provider_id, credential_id, source in parsed:
        provider = providers.get(provider_id)
        credential = credentials.get(credential_id) if credential_id != "-" else None
        if provider is None or (credential_id != "-" and credential is None):
            raise InvalidInput("Some rows are not in the queue any more.")
        elements.append((provider, credential, source))
    return elements


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def psv_assign(request, org_slug):
    org = request.org
    fallback = _queue_url(org)
    assignee = None
    try:
        values = AssignForm(request.POST).values()
        assignee_id = values["assignee"]
        if assignee_id:
            assignee = get_or_404(
                Membership.objects.filter(
                    organization=org, role__in=cap.roles_with(cap.CHANGE_ROSTER)
                ),
                pk=assignee_id,
            )
        elements = _elements_from_keys(org, values["keys"])
        count = services.requests_assign(
            org=org, actor=request.membership, elements=elements, assignee=assignee
        )
    except DomainError as exc:
        ui.raise_http(exc)
        if exc.status == 404:
            messages.error(request, "Choose a member of this organization to assign to.")
        else:
            messages.error(request, exc.message)
        return redirect(ui.safe_next(request, fallback))
    who = assignee.user.display_name if assignee else "nobody"
    messages.success(request, f"Assigned {count} item{'s' if count != 1 else ''} to {who}.")
    return redirect(ui.safe_next(request, fallback))


# --- evidence download --------------------------------------------------------------------
@require_GET
@capability_required(cap.VIEW_ROSTER)
def psv_evidence_download(request, org_slug, evidence_id):
    evidence = selectors.evidence_get(org=request.org, evidence_id=evidence_id)
    opened = services.evidence_download(
        org=request.org, actor=request.membership, evidence=evidence
    )
    return stream_evidence(evidence, opened, inline=request.GET.get("inline") == "1")


def stream_evidence(evidence, opened, *, inline: bool = False) -> FileResponse:
    """The stored bytes with their sniffed type; never sniffed again, never able to run."""
    response = FileResponse(
        opened,
        as_attachment=not inline,
        filename=evidence.original_name or "evidence",
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    return response


urlpatterns = [
    path("", psv_queue, name="psv_queue"),
    path("verify/<uuid:provider_id>/", psv_verify, name="psv_verify"),
    path("records/<uuid:verification_id>/correct/", psv_correct, name="psv_correct"),
    path("evidence/<uuid:evidence_id>/", psv_evidence_download, name="psv_evidence_download"),
    path("send/<uuid:provider_id>/", psv_request_send, name="psv_request_send"),
    path(
        "requests/<uuid:request_id>/follow-up/", psv_request_follow_up, name="psv_request_follow_up"
    ),
    path("requests/<uuid:request_id>/cancel/", psv_request_cancel, name="psv_request_cancel"),
    path("assign/", psv_assign, name="psv_assign"),
]
