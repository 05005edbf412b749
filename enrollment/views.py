"""Enrollment pages: the applications worklist with htmx row actions, new requests, the
provider-centric fragment, and payers with their contracts."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from credex import capabilities as cap
from credex import interface as ui
from credex.errors import DomainError, NotFound
from credex.views import capability_required
from enrollment import selectors as sel
from enrollment import services as svc
from enrollment.forms import (
    ContractForm,
    EnrollmentEditForm,
    EnrollmentNewForm,
    EnrollmentNoteForm,
    LayoutForm,
    PayerContactForm,
    PayerForm,
    TransitionForm,
)
from enrollment.models import EnrollmentStatus
from roster.selectors.flags import provider_flags_attach
from roster.services.providers import provider_list_record_read, provider_record_read

PAGE_SIZE = 50


def ago(day: date | None, today: date) -> str:
    """'today', 'yesterday', '12 days ago', '3 months ago' for a past date."""
    if day is None:
        return ""
    days = (today - day).days
    if days < 0:
        return "in the future"
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 60:
        return f"{days} days ago"
    if days < 730:
        return f"{round(days / 30.44)} months ago"
    return f"{round(days / 365.25)} years ago"


def _decorate(enrollments, today: date):
    """Presentation values the templates show for each application."""
    for e in enrollments:
        e.submitted_ago = ago(e.submitted_on, today)
        e.is_open = e.status in svc.OPEN_STATUSES
        e.overdue = bool(e.is_open and e.next_follow_up and e.next_follow_up < today)
    return enrollments


# --- the worklist -------------------------------------------------------------------------------
@require_GET
@vary_on_headers("HX-Request")
@capability_required(cap.VIEW_ROSTER)
def enrollment_worklist(request, org_slug):
    org = request.org
    today = timezone.localdate()
    filters, errors = sel.EnrollmentFilters.from_query(request.GET)
    page = Paginator(sel.enrollment_list(org=org, filters=filters, today=today), PAGE_SIZE)
    page = page.get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    provider_flags_attach(org=org, providers=[e.provider for e in page.object_list])
    payers = list(sel.payer_list(org=org, today=today))
    counts = sel.enrollment_status_counts(org=org, filters=filters, today=today)
    _decorate(page.object_list, today)
    provider_list_record_read(
        org=org,
        actor=request.membership,
        providers=[e.provider_id for e in page.object_list],
        part="enrollments",
    )
    current_provider = None
    if filters.provider:
        try:
            current_provider = sel.provider_get(org=org, provider_id=filters.provider)
        except NotFound:
            errors["provider"] = "No such provider on the roster."
    context = {
        "page": page,
        "filters": filters,
        "filter_errors": errors,
        "query": filters.as_query(),
        "counts": counts,
        "status_counts": [
            {"value": value, "label": label, "count": counts[value]}
            for value, label in EnrollmentStatus.choices
        ],
        "statuses": EnrollmentStatus.choices,
        "follow_up_days": svc.FOLLOW_UP_DAYS,
        "payers": payers,
        "current_payer": next((p for p in payers if str(p.pk) == filters.payer), None),
        "current_provider": current_provider,
        "can_change": ui.can_change(request),
        "today": today,
        "sorts": sel.SORTS,
        "sort": filters.sort or sel.DEFAULT_SORT,
    }
    template = "roster/enrollment/_results.html" if ui.is_partial(request) else None
    return render(request, template or "roster/enrollment/worklist.html", context)


FORMS = ("step", "details", "note")


# --- one application: panel (htmx) or page ----------------------------------------------------
def _row_context(
    request, enrollment, *, open_panel=False, errors=None, form=None, which="", done=""
):
    _decorate([enrollment], timezone.localdate())
    layout = (
        LayoutForm(request.POST).validated()["layout"]
        or LayoutForm(request.GET).validated()["layout"]
    )
    errors, form = errors or {}, form or {}
    return {
        "e": enrollment,
        "layout": "provider" if layout == "provider" else "worklist",
        "open_panel": open_panel,
        "errors": errors,
        "top_error": errors.get("__all__", ""),
        **{f"{name}_errors": errors if which == name else {} for name in FORMS},
        **{f"{name}_form": form if which == name else {} for name in FORMS},
        "done": done,
        "steps": [(s, svc.STEP_LABELS[s]) for s in svc.allowed_transitions(enrollment)],
        "filed": enrollment.status in svc.FILED_STATUSES,
        "can_change": ui.can_change(request),
        "today": timezone.localdate(),
        "follow_up_days": svc.FOLLOW_UP_DAYS,
        "max_resubmissions": svc.MAX_RESUBMISSIONS,
    }


def _answer(request, enrollment, *, which, errors=None, form=None, done="", status=200):
    """htmx: the application's row group; otherwise the detail page (or a redirect)."""
    context = _row_context(
        request,
        enrollment,
        open_panel=bool(errors) or not done,
        errors=errors,
        form=form,
        which=which,
        done=done,
    )
    if ui.is_partial(request):
        return render(request, "roster/enrollment/_row.html", context, status=status)
    if done and not errors:
        messages.success(request, done)
        fallback = reverse(
            "enrollment_detail",
            kwargs={"org_slug": request.org.slug, "enrollment_id": enrollment.pk},
        )
        return redirect(ui.safe_next(request, fallback))
    return render(request, "roster/enrollment/detail.html", context, status=status)


@require_GET
@vary_on_headers("HX-Request")
@capability_required(cap.VIEW_ROSTER)
def enrollment_detail(request, org_slug, enrollment_id):
    enrollment = sel.enrollment_get(org=request.org, enrollment_id=enrollment_id)
    provider_record_read(
        org=request.org, actor=request.membership, provider=enrollment.provider, part="enrollment"
    )
    context = _row_context(request, enrollment, open_panel=request.GET.get("close") != "1")
    if ui.is_partial(request):
        return render(request, "roster/enrollment/_row.html", context)
    return render(request, "roster/enrollment/detail.html", context)


@require_POST
@vary_on_headers("HX-Request")
@capability_required(cap.CHANGE_ROSTER)
def enrollment_transition(request, org_slug, enrollment_id):
    enrollment = sel.enrollment_get(org=request.org, enrollment_id=enrollment_id)
    step_form = TransitionForm(request.POST)
    form = step_form.typed()
    errors: dict = {}
    if not step_form.is_valid():
        errors = ui.form_errors(step_form)
    else:
        values = step_form.cleaned_data
        try:
            svc.enrollment_transition(
                org=request.org,
                actor=request.membership,
                enrollment=enrollment,
                to=values["to"],
                on=values["on"],
                effective_date=values["effective_date"],
                next_follow_up=(
                    values["next_follow_up"] if values["to"] in svc.FILED_STATUSES else None
                ),
                note=values["note"],
            )
        except DomainError as exc:
            errors = ui.form_errors(exc, strings_only=True)
    if errors:
        errors.setdefault("__all__", "The step was not saved: fix the fields marked below.")
        return _answer(request, enrollment, which="step", errors=errors, form=form, status=400)
    label = EnrollmentStatus(enrollment.status).label
    return _answer(
        request,
        enrollment,
        which="step",
        done=f"{enrollment.provider.full_name} · {enrollment.payer.name}: now {label.lower()}.",
    )


@require_POST
@vary_on_headers("HX-Request")
@capability_required(cap.CHANGE_ROSTER)
def enrollment_edit(request, org_slug, enrollment_id):
    """Next follow-up date, reference number, effective date (approved only)."""
    enrollment = sel.enrollment_get(org=request.org, enrollment_id=enrollment_id)
    edit_form = EnrollmentEditForm(request.POST, enrollment=enrollment)
    form = edit_form.typed()
    errors: dict = {}
    if not edit_form.is_valid():
        errors = ui.form_errors(edit_form)
    else:
        try:
            svc.enrollment_update(
                org=request.org,
                actor=request.membership,
                enrollment=enrollment,
                **edit_form.cleaned_data,
            )
        except DomainError as exc:
            errors = ui.form_errors(exc, strings_only=True)
    if errors:
        errors.setdefault("__all__", "Not saved: fix the fields marked below.")
        return _answer(request, enrollment, which="details", errors=errors, form=form, status=400)
    return _answer(request, enrollment, which="details", done="Details saved.")


@require_POST
@vary_on_headers("HX-Request")
@capability_required(cap.CHANGE_ROSTER)
def enrollment_note(request, org_slug, enrollment_id):
    enrollment = sel.enrollment_get(org=request.org, enrollment_id=enrollment_id)
    note_form = EnrollmentNoteForm(request.POST)
    form = note_form.typed()
    try:
        svc.enrollment_add_note(
            org=request.org,
            actor=request.membership,
            enrollment=enrollment,
            note=note_form.validated()["note_text"],
        )
    except DomainError as exc:
        errors = {"note_text": exc.message, "__all__": exc.message}
        return _answer(request, enrollment, which="note", errors=errors, form=form, status=400)
    return _answer(request, enrollment, which="note", done="Note added.")


# --- new requests -----------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@capability_required(cap.CHANGE_ROSTER)
def enrollment_new(request, org_slug):
    org = request.org
    # A GET fills the form from the link (?provider=, ?payer=); a POST is the request.
    new_form = EnrollmentNewForm(request.POST if request.method == "POST" else request.GET, org=org)
    form = new_form.typed()
    errors: dict = {}
    if request.method == "POST":
        if not new_form.is_valid():
            errors = ui.form_errors(new_form)
        else:
            provider = new_form.cleaned_data["provider"]
            payers = new_form.cleaned_data["payers"]
            try:
                created = svc.enrollment_request(
                    org=org,
                    actor=request.membership,
                    provider=provider,
                    payers=payers,
                    note=form["note"],
                )
            except DomainError as exc:
                errors = ui.form_errors(exc, strings_only=True)
            else:
                n = len(created)
                messages.success(
                    request,
                    f"Requested {n} enrollment{'s' if n != 1 else ''} for {provider.full_name}: "
                    + ", ".join(p.name for p in payers)
                    + ".",
                )
                url = reverse("enrollments", kwargs={"org_slug": org.slug})
                return redirect(ui.safe_next(request, f"{url}?provider={provider.pk}"))
    context = {
        "form": form,
        "errors": errors,
        "providers": sel.provider_choices(org=org),
        "payers": sel.payer_list(org=org),
        "next": request.GET.get("next", "") or new_form["next"].value() or "",
    }
    return render(request, "roster/enrollment/new.html", context, status=400 if errors else 200)


@require_GET
@capability_required(cap.CHANGE_ROSTER)
def enrollment_provider_search(request, org_slug):
    """The new-enrollment provider picker's matches (htmx fragment): by name or NPI, at most 20."""
    q = request.GET.get("q", "").strip()[:100]
    results = sel.provider_choices_search(org=request.org, q=q)
    context = {"q": q, "results": results, "limit": sel.PROVIDER_SEARCH_LIMIT}
    response = render(request, "roster/enrollment/_provider_search.html", context)
    response["Cache-Control"] = "no-store"
    return response


# --- provider-centric fragment ------------------------------------------------------------------
@require_GET
@vary_on_headers("HX-Request")
@capability_required(cap.VIEW_ROSTER)
def provider_enrollments(request, org_slug, provider_id):
    provider = sel.provider_get(org=request.org, provider_id=provider_id)
    provider_record_read(
        org=request.org, actor=request.membership, provider=provider, part="enrollments"
    )
    context = {
        "provider": provider,
        "provider_enrollments": _decorate(
            list(sel.enrollments_for_provider(org=request.org, provider=provider)),
            timezone.localdate(),
        ),
        "enrollments_loaded": True,
        # Where "request enrollment" comes back to: the page the fragment sits in.
        "back_path": (request.htmx.current_url_abs_path if request.htmx else None) or request.path,
        "can_change": ui.can_change(request),
        "today": timezone.localdate(),
    }
    if ui.is_partial(request):
        return render(request, "roster/enrollment/_provider_enrollments.html", context)
    return render(request, "roster/enrollment/provider.html", context)


# --- payers and contracts -----------------------------------------------------------------------
PAYER_FORM_FIELDS = svc.PAYER_FIELDS
CONTRACT_TEXT_FIELDS = ("fee_schedule_ref", "scope_of_services", "terms_notes")


@require_GET
@capability_required(cap.VIEW_ROSTER)
def payer_list(request, org_slug):
    today = timezone.localdate()
    context = {
        "payers": sel.payer_list(org=request.org, today=today),
        "renewing": sel.contracts_renewing(request.org, today),
        "can_change": ui.can_change(request),
        "window": sel.RENEWAL_WINDOW_DAYS,
    }
    return render(request, "roster/enrollment/payers.html", context)


def _payer_form(request, payer=None, *, status=200, errors=None, form=None):
    if form is None:
        form = {k: getattr(payer, k, "") if payer else "" for k in PAYER_FORM_FIELDS}
    context = {"payer": payer, "form": form, "errors": errors or {}}
    if payer is not None:
        context.update(
            contracts=sel.contract_list(org=request.org, payer=payer),
            contract_form={},
            contract_errors={},
            can_change=ui.can_change(request),
        )
    return context, status


@require_http_methods(["GET", "POST"])
@capability_required(cap.CHANGE_ROSTER)
def payer_new(request, org_slug):
    payer_form = PayerForm(request.POST)
    form = payer_form.typed()
    errors = {}
    if request.method == "POST":
        try:
            payer = svc.payer_create(
                org=request.org, actor=request.membership, **payer_form.validated()
            )
        except DomainError as exc:
            errors = ui.form_errors(exc, strings_only=True)
        else:
            messages.success(request, f"{payer.name} added. Record its contract below.")
            return redirect("payer_detail", org_slug=request.org.slug, payer_id=payer.pk)
    return render(
        request,
        "roster/enrollment/payer_form.html",
        {"form": form, "errors": errors, "payer": None},
        status=400 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
@capability_required(cap.VIEW_ROSTER)
def payer_detail(request, org_slug, payer_id):
    """The payer's details (editable by roster.change) and its contracts."""
    payer = sel.payer_get(org=request.org, payer_id=payer_id)
    errors, form = {}, None
    if request.method == "POST":
        ui.require_change(request)
        payer_form = PayerForm(request.POST)
        form = payer_form.typed()
        try:
            svc.payer_update(
                org=request.org, actor=request.membership, payer=payer, **payer_form.validated()
            )
        except DomainError as exc:
            errors = ui.form_errors(exc, strings_only=True)
            payer.refresh_from_db()
        else:
            messages.success(request, f"{payer.name} saved.")
            return redirect("payer_detail", org_slug=request.org.slug, payer_id=payer.pk)
    context, _ = _payer_form(request, payer, errors=errors, form=form)
    context["enrollment_counts"] = sel.enrollment_status_counts(
        org=request.org, filters=sel.EnrollmentFilters(payer=str(payer.pk))
    )
    return render(
        request, "roster/enrollment/payer_detail.html", context, status=400 if errors else 200
    )


def _contract_form_data(post) -> tuple[dict, dict, dict]:
    """(what was typed, the values for the service, the form's errors)."""
    contract_form = ContractForm(post)
    if not contract_form.is_valid():
        return contract_form.typed(), {}, ui.form_errors(contract_form)
    return contract_form.typed(), contract_form.cleaned_data, {}


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def contract_new(request, org_slug, payer_id):
    payer = sel.payer_get(org=request.org, payer_id=payer_id)
    form, data, errors = _contract_form_data(request.POST)
    if not errors:
        try:
            svc.contract_create(org=request.org, actor=request.membership, payer=payer, **data)
        except DomainError as exc:
            errors = ui.form_errors(exc, strings_only=True)
        else:
            messages.success(request, f"Contract with {payer.name} recorded.")
            return redirect("payer_detail", org_slug=request.org.slug, payer_id=payer.pk)
    context, _ = _payer_form(request, payer)
    context.update(contract_form=form, contract_errors=errors)
    context["enrollment_counts"] = sel.enrollment_status_counts(
        org=request.org, filters=sel.EnrollmentFilters(payer=str(payer.pk))
    )
    return render(request, "roster/enrollment/payer_detail.html", context, status=400)


@require_http_methods(["GET", "POST"])
@capability_required(cap.CHANGE_ROSTER)
def contract_edit(request, org_slug, payer_id, contract_id):
    payer = sel.payer_get(org=request.org, payer_id=payer_id)
    contract = sel.contract_get(org=request.org, contract_id=contract_id, payer=payer)
    errors: dict = {}
    if request.method == "POST":
        form, data, errors = _contract_form_data(request.POST)
        if not errors:
            try:
                svc.contract_update(
                    org=request.org, actor=request.membership, contract=contract, **data
                )
            except DomainError as exc:
                errors = ui.form_errors(exc, strings_only=True)
            else:
                messages.success(request, f"Contract with {payer.name} saved.")
                return redirect("payer_detail", org_slug=request.org.slug, payer_id=payer.pk)
    else:
        form = {
            "effective_date": contract.effective_date.isoformat(),
            "renewal_date": contract.renewal_date.isoformat() if contract.renewal_date else "",
            **{k: getattr(contract, k) for k in CONTRACT_TEXT_FIELDS},
        }
    context = {"payer": payer, "contract": contract, "form": form, "errors": errors}
    return render(
        request, "roster/enrollment/contract_form.html", context, status=400 if errors else 200
    )


# --- payer contacts (mounted at /packages/contacts/ by enrollment.contact_urls) ------------
@require_http_methods(["GET", "POST"])
@capability_required(cap.VIEW_ROSTER)
def payer_contacts(request, org_slug):
    org = request.org
    form, errors, status = {}, {}, 200
    if request.method == "POST":
        ui.require_change(request)
        contact_form = PayerContactForm(request.POST)
        form = contact_form.typed()
        try:
            values = contact_form.validated()
            payer = sel.payer_get(org=org, payer_id=values.pop("payer"))
            contact = svc.payer_contact_add(
                org=org, actor=request.membership, payer=payer, **values
            )
        except DomainError as exc:
            errors, status = ui.form_errors(exc), exc.status
            if exc.status == 404:
                errors, status = {"payer": "Choose a payer.", "__all__": "Choose a payer."}, 400
        else:
            messages.success(request, f"{contact.name} added to {payer.name}.")
            return redirect("payer_contacts", org_slug=org.slug)
    payers = sel.payers_with_contacts(org=org)
    context = {
        "payers": payers,
        "contact_count": sum(len(p.contact_list) for p in payers),
        "form": form,
        "errors": errors,
        "can_change": ui.can_change(request),
    }
    return render(request, "roster/enrollment/payer_contacts.html", context, status=status)


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def payer_contact_remove(request, org_slug, contact_id):
    org = request.org
    contact = sel.contact_get(org=org, contact_id=contact_id)
    svc.payer_contact_remove(org=org, actor=request.membership, contact=contact)
    messages.success(request, f"{contact.name} removed from {contact.payer.name}.")
    return redirect(reverse("payer_contacts", kwargs={"org_slug": org.slug}))


urlpatterns = [
    path("", enrollment_worklist, name="enrollments"),
    path("new/", enrollment_new, name="enrollment_new"),
    path("new/providers/", enrollment_provider_search, name="enrollment_provider_search"),
    path("<uuid:enrollment_id>/", enrollment_detail, name="enrollment_detail"),
    path("<uuid:enrollment_id>/step/", enrollment_transition, name="enrollment_transition"),
    path("<uuid:enrollment_id>/details/", enrollment_edit, name="enrollment_edit"),
    path("<uuid:enrollment_id>/note/", enrollment_note, name="enrollment_note"),
    path("provider/<uuid:provider_id>/", provider_enrollments, name="enrollment_provider"),
    path("payers/", payer_list, name="payers"),
    path("payers/new/", payer_new, name="payer_new"),
    path("payers/<uuid:payer_id>/", payer_detail, name="payer_detail"),
    path("payers/<uuid:payer_id>/contracts/new/", contract_new, name="payer_contract_new"),
    path(
        "payers/<uuid:payer_id>/contracts/<uuid:contract_id>/",
        contract_edit,
        name="payer_contract_edit",
    ),
]

# The payer contacts pages keep their URLs under /o/<slug>/packages/contacts/ (public paths,
# from before the move): enrollment.contact_urls, mounted by credex.urls.
contact_urlpatterns = [
    path("", payer_contacts, name="payer_contacts"),
    path("<uuid:contact_id>/remove", payer_contact_remove, name="payer_contact_remove"),
]
