"""Provider pages: the roster worklist, add/edit, the provider file (with audited reads and
reveals), credentials, and the per-type requirements settings."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from credex import capabilities as cap
from credex import interface as ui
from credex.capabilities import has_capability
from credex.errors import DomainError, NotFound
from credex.templatetags.credex_ui import format_date
from credex.views import capability_required
from roster.models import PROVIDER_TYPES, CredentialKind, DocumentStatus, ProviderStatus
from roster.selectors import providers as sel
from roster.selectors.flags import provider_flags, provider_flags_attach
from roster.services import providers as svc
from roster.services import requirements as req
from roster.views.provider_forms import (
    BulkAssignForm,
    CredentialForm,
    CustomTypeForm,
    ProviderForm,
    RequirementsForm,
    RequirementsTypeForm,
    RevealForm,
    add_service_errors,
    credential_initial,
    mark_invalid,
)

PAGE_SIZE = 50


def _can(request, capability: str) -> bool:
    return has_capability(request.membership.role, capability)


# --- the worklist -------------------------------------------------------------------------------
@require_GET
@vary_on_headers("HX-Request")
@capability_required(cap.VIEW_ROSTER)
def provider_list(request, org_slug):
    org = request.org
    filters = sel.ProviderFilters.from_query(request.GET)
    page = Paginator(sel.provider_list(org=org, filters=filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = list(page.object_list)
    provider_flags_attach(org=org, providers=page.object_list)
    svc.provider_list_record_read(org=org, actor=request.membership, providers=page.object_list)
    coordinators = sel.coordinator_choices(org=org)
    types = sel.provider_type_choices(org=org)
    context = {
        "page": page,
        # Column headers: a second click on the sorted column reverses it.
        "sort_name": "-name" if filters.sort == "name" else "name",
        "sort_expiry": "-expiry" if filters.sort == "expiry" else "expiry",
        "sort_recred": "-recred" if filters.sort == "recred" else "recred",
        "type_names": dict(types),
        "kind_labels": dict(CredentialKind.choices),
        "filters": filters,
        "query": filters.as_query(),
        "counts": sel.provider_status_counts(org=org),
        "statuses": ProviderStatus.choices,
        "types": types,
        "coordinators": coordinators,
        "expiring_choices": sel.EXPIRING_CHOICES,
        "can_change": _can(request, cap.CHANGE_ROSTER),
    }
    template = "roster/providers/_results.html" if ui.is_partial(request) else None
    return render(request, template or "roster/providers/list.html", context)


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def provider_bulk_assign(request, org_slug):
    org = request.org
    back = reverse("providers", kwargs={"org_slug": org.slug})
    form = BulkAssignForm(request.POST, org=org)
    valid = form.is_valid()
    query = form.cleaned_data.get("return_query", "")
    providers = sel.providers_by_ids(org=org, ids=form.cleaned_data.get("provider", []))
    if not providers:
        messages.error(request, "Select at least one provider first.")
        return redirect(back + query)
    if not valid:
        messages.error(request, next(iter(ui.form_errors(form).values())))
        return redirect(back + query)
    coordinator = form.cleaned_data["coordinator"]
    try:
        changed = svc.provider_bulk_assign_coordinator(
            org=org, actor=request.membership, providers=providers, coordinator=coordinator
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        who = coordinator.user.display_name if coordinator else "nobody (unassigned)"
        n = len(changed)
        messages.success(
            request,
            f"{n} provider{'s' if n != 1 else ''} now assigned to {who}."
            + (
                f" {len(providers) - n} already {'was' if len(providers) - n == 1 else 'were'}."
                if n < len(providers)
                else ""
            ),
        )
    return redirect(back + query)


# --- add / edit ---------------------------------------------------------------------------------
def _provider_form(request, data=None, initial=None):
    org = request.org
    return ProviderForm(
        data,
        initial=initial,
        provider_types=sel.provider_type_choices(org=org),
        coordinators=sel.coordinator_choices(org=org),
    )


def _resolve_coordinator(request, form):
    raw = form.cleaned_data.get("coordinator") or ""
    if not raw:
        return None, True
    member = sel.coordinator_get(org=request.org, membership_id=raw)
    if member is None:
        form.add_error("coordinator", "Choose a member from the list.")
        return None, False
    return member, True


def _render_form(request, form, provider=None, status=200):
    taxonomy_values = form["taxonomy_codes"].value() or []
    if isinstance(taxonomy_values, str):
        taxonomy_values = [taxonomy_values]
    # Three boxes at least, one empty box more than what is filled.
    boxes = list(taxonomy_values) + [""] * max(1, 3 - len(taxonomy_values))
    mark_invalid(form)
    on_file = "On file (hidden). Leave blank to keep it; type to replace it."
    context = {
        "form": form,
        "provider": provider,
        "dob_help": on_file if provider and provider.dob_encrypted else "",
        "ssn_help": (
            f"On file: ending {provider.ssn_last4}. Leave blank to keep it."
            if provider and provider.ssn_last4
            else "9 digits, e.g. 123-45-6789."
        ),
        "recred_help": (
            "Leave blank to compute it: committee decision date + "
            f"{request.org.recredentialing_cycle_months} months (the organization's cycle)."
        ),
        "taxonomy_boxes": boxes,
        "taxonomy_names": sel.taxonomy_names(
            [c for c in [*boxes, form["primary_taxonomy"].value() or ""] if c]
        ),
    }
    return render(request, "roster/providers/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@capability_required(cap.CHANGE_ROSTER)
def provider_new(request, org_slug):
    if request.method == "GET":
        return _render_form(request, _provider_form(request))
    form = _provider_form(request, request.POST)
    if form.is_valid():
        coordinator, ok = _resolve_coordinator(request, form)
        if ok:
            try:
                provider = svc.provider_create(
                    org=request.org,
                    actor=request.membership,
                    coordinator=coordinator,
                    **form.service_data(editing=False),
                )
            except DomainError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{provider.full_name} was added to the roster.")
                return redirect(
                    "provider_detail", org_slug=request.org.slug, provider_id=provider.pk
                )
    return _render_form(request, form, status=400)


def _edit_initial(provider) -> dict:
    fields = set(ProviderForm.base_fields) - {"dob", "ssn", "coordinator", "former_names"}
    initial = {name: getattr(provider, name) for name in fields if hasattr(provider, name)}
    initial["primary_taxonomy"] = provider.primary_taxonomy_id or ""
    initial["taxonomy_codes"] = [
        c for c in provider.taxonomy_codes if c != provider.primary_taxonomy_id
    ]
    initial["former_names"] = "\n".join(provider.former_names or [])
    initial["coordinator"] = str(provider.coordinator_id or "")
    return initial


@require_http_methods(["GET", "POST"])
@capability_required(cap.CHANGE_ROSTER)
def provider_edit(request, org_slug, provider_id):
    provider = sel.provider_get(org=request.org, provider_id=provider_id)
    if request.method == "GET":
        svc.provider_record_read(
            org=request.org, actor=request.membership, provider=provider, part="edit form"
        )
        return _render_form(
            request, _provider_form(request, initial=_edit_initial(provider)), provider
        )
    form = _provider_form(request, request.POST, initial=_edit_initial(provider))
    if form.is_valid():
        coordinator, ok = _resolve_coordinator(request, form)
        if ok:
            try:
                svc.provider_update(
                    org=request.org,
                    actor=request.membership,
                    provider=provider,
                    coordinator=coordinator,
                    **form.service_data(editing=True),
                )
            except DomainError as exc:
                add_service_errors(form, exc)
                # The instance may hold half-applied values; reload it for the page header.
                provider = sel.provider_get(org=request.org, provider_id=provider_id)
            else:
                messages.success(request, "Changes saved.")
                return redirect(
                    "provider_detail", org_slug=request.org.slug, provider_id=provider.pk
                )
    return _render_form(request, form, provider, status=400)


@require_GET
@capability_required(cap.VIEW_ROSTER)
def taxonomy_options(request, org_slug):
    """<option>s for the taxonomy datalist (htmx, as the user types)."""
    results = sel.taxonomy_search(request.GET.get("q") or _first_code_query(request.GET))
    return render(request, "roster/providers/_taxonomy_options.html", {"results": results})


def _first_code_query(params) -> str:
    for name in ("primary_taxonomy", "taxonomy_codes"):
        for value in params.getlist(name):
            if value.strip():
                return value
    return ""


# --- the provider file --------------------------------------------------------------------------
@require_GET
@never_cache
@capability_required(cap.VIEW_ROSTER)
def provider_detail(request, org_slug, provider_id):
    org = request.org
    provider = sel.provider_get(org=org, provider_id=provider_id)
    svc.provider_record_read(org=org, actor=request.membership, provider=provider)
    credentials = list(sel.credential_list(org=org, provider=provider))
    documents = sel.provider_documents(org=org, provider=provider)
    required = req.requirements_for_type(org=org, provider_type=provider.provider_type)
    docs_by_credential: dict = {}
    for d in documents:
        if d.credential_id:
            docs_by_credential.setdefault(d.credential_id, []).append(d)
    for c in credentials:
        c.linked_documents = docs_by_credential.get(c.pk, [])
        c.waiting_documents = [
            d for d in c.linked_documents if d.status == DocumentStatus.PENDING_REVIEW
        ]
    period_kinds = set(svc.PERIOD_KINDS)
    context = {
        "provider": provider,
        "flags": provider_flags(org=org, provider=provider),
        "type_name": dict(sel.provider_type_choices(org=org)).get(
            provider.provider_type, provider.provider_type
        ),
        "taxonomies": sel.taxonomy_names(provider.taxonomy_codes),
        "licenses": [c for c in credentials if c.kind not in period_kinds],
        "history": [c for c in credentials if c.kind in period_kinds],
        "required": required,
        "missing": req.provider_missing(
            provider=provider,
            required=required,
            credentials=credentials,
            documents=documents,
            waiting=True,
        ),
        "gaps": req.work_history_gaps(credentials),
        "caqh_due": sel.caqh_due(provider),
        "can_change": _can(request, cap.CHANGE_ROSTER),
        "kinds": CredentialKind.choices,
        "cycle_months": org.recredentialing_cycle_months,
    }
    from roster.selectors.documents import provider_documents_context

    context |= provider_documents_context(org=org, provider=provider, membership=request.membership)
    return render(request, "roster/providers/detail.html", context)


@require_POST
@never_cache
@capability_required(cap.CHANGE_ROSTER)
def provider_reveal(request, org_slug, provider_id):
    provider = sel.provider_get(org=request.org, provider_id=provider_id)
    form = RevealForm(request.POST)
    if not form.is_valid():
        message = next(iter(ui.form_errors(form).values()))
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    field = form.cleaned_data["field"]
    try:
        value = svc.provider_reveal(
            org=request.org,
            actor=request.membership,
            provider=provider,
            field=field,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    if field == "ssn" and len(value) == 9:
        display = f"{value[:3]}-{value[3:5]}-{value[5:]}"
    elif field == "dob" and value:
        display = format_date(date.fromisoformat(value))
    else:
        display = value or "not on file"
    context = {"provider": provider, "field": field, "display": display}
    if ui.is_partial(request):
        return render(request, "roster/providers/_revealed.html", context)
    return render(request, "roster/providers/revealed.html", context)


# --- credentials --------------------------------------------------------------------------------
def _render_credential_form(request, form, provider, credential=None, status=200):
    mark_invalid(form)
    context = {"form": form, "provider": provider, "credential": credential}
    template = (
        "roster/providers/_credential_fields.html"
        if ui.is_partial(request) and request.method == "GET"
        else "roster/providers/credential_form.html"
    )
    return render(request, template, context, status=status)


def _kind_switch_initial(request, base: dict) -> dict:
    """A GET with typed values (the kind select re-rendering the form) keeps them."""
    initial = dict(base)
    for name in CredentialForm.base_fields:
        if name in request.GET:
            initial[name] = request.GET.get(name)
    return initial


@require_http_methods(["GET", "POST"])
@capability_required(cap.CHANGE_ROSTER)
def credential_new(request, org_slug, provider_id):
    provider = sel.provider_get(org=request.org, provider_id=provider_id)
    if request.method == "GET":
        svc.provider_record_read(
            org=request.org, actor=request.membership, provider=provider, part="credential form"
        )
        state = provider.practice_states[0] if provider.practice_states else ""
        initial = _kind_switch_initial(request, {"state": state})
        return _render_credential_form(request, CredentialForm(initial=initial), provider)
    form = CredentialForm(request.POST)
    if form.is_valid():
        try:
            svc.credential_create(
                org=request.org,
                actor=request.membership,
                provider=provider,
                **form.service_data(),
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{CredentialKind(form.cleaned_data['kind']).label} added.")
            return redirect("provider_detail", org_slug=request.org.slug, provider_id=provider.pk)
    return _render_credential_form(request, form, provider, status=400)


@require_http_methods(["GET", "POST"])
@capability_required(cap.CHANGE_ROSTER)
def credential_edit(request, org_slug, provider_id, credential_id):
    provider = sel.provider_get(org=request.org, provider_id=provider_id)
    credential = sel.credential_get(org=request.org, credential_id=credential_id, provider=provider)
    if request.method == "GET":
        svc.provider_record_read(
            org=request.org,
            actor=request.membership,
            provider=provider,
            part=f"credential:{credential.pk}",
        )
        initial = _kind_switch_initial(request, credential_initial(credential))
        return _render_credential_form(
            request, CredentialForm(initial=initial), provider, credential
        )
    form = CredentialForm(request.POST, initial=credential_initial(credential))
    if form.is_valid():
        try:
            svc.credential_update(
                org=request.org,
                actor=request.membership,
                credential=credential,
                **form.service_data(previous_details=credential.details),
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{credential.get_kind_display()} saved.")
            return redirect("provider_detail", org_slug=request.org.slug, provider_id=provider.pk)
    return _render_credential_form(request, form, provider, credential, status=400)


# --- requirements settings ----------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@capability_required(cap.VIEW_ROSTER)
def requirements(request, org_slug):
    """Per provider type: required credential kinds and documents; custom types (add)."""
    org = request.org
    can_change = _can(request, cap.CHANGE_SETTINGS)
    type_form = CustomTypeForm()
    status = 200
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        action_form = RequirementsForm(request.POST)
        if action_form.is_valid() and action_form.cleaned_data["action"] == "recommended":
            types = dict(sel.provider_type_choices(org=org))
            done = req.requirements_apply_recommended(
                org=org, actor=request.membership, provider_types=types
            )
            n = len(done)
            note = f"Recommended requirements applied to {n} type{'s' if n != 1 else ''}."
            messages.success(request, note if done else "Every type already has requirements.")
            return redirect("provider_requirements", org_slug=org.slug)
        type_form = CustomTypeForm(request.POST)
        if type_form.is_valid():
            try:
                custom = req.custom_provider_type_create(
                    org=org, actor=request.membership, **type_form.cleaned_data
                )
            except DomainError as exc:
                add_service_errors(type_form, exc)
            else:
                messages.success(request, f"Provider type {custom.code} added.")
                return redirect(
                    "provider_requirements_type", org_slug=org.slug, provider_type=custom.code
                )
        status = 400
    table = req.requirements_by_type(org=org)
    custom_codes = {c.code for c in req.custom_types(org=org)}
    rows = [
        {
            "code": code,
            "name": name,
            "custom": code in custom_codes,
            "required": [
                (CredentialKind(k).label, table[code][k])
                for k in CredentialKind.values
                if k in table.get(code, {})
            ],
        }
        for code, name in sel.provider_type_choices(org=org)
    ]
    context = {
        "rows": rows,
        "can_change": can_change,
        "type_form": type_form,
        "any_unconfigured": any(not r["required"] for r in rows),
    }
    return render(request, "roster/providers/requirements.html", context, status=status)


@require_http_methods(["GET", "POST"])
@capability_required(cap.VIEW_ROSTER)
def requirements_type(request, org_slug, provider_type):
    org = request.org
    types = dict(sel.provider_type_choices(org=org))
    if provider_type not in types:
        raise NotFound("No such provider type.")
    can_change = _can(request, cap.CHANGE_SETTINGS)
    current = req.requirements_for_type(org=org, provider_type=provider_type)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        form = RequirementsTypeForm(request.POST)
        form.is_valid()  # ticked or not: every box reads as a bool
        try:
            req.requirement_set_for_type(
                org=org,
                actor=request.membership,
                provider_type=provider_type,
                required=form.chosen(),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Requirements for {types[provider_type]} saved.")
            return redirect("provider_requirements", org_slug=org.slug)
    shown = current
    if request.GET.get("recommended") and can_change:
        shown = req.recommended_for(provider_type)
    kinds = [
        {
            "value": k,
            "label": CredentialKind(k).label,
            "required": k in shown,
            "document": shown.get(k, True),
            "document_kind": req.DOCUMENT_KIND_FOR[k],
        }
        for k in CredentialKind.values
    ]
    context = {
        "provider_type": provider_type,
        "type_name": types[provider_type],
        "builtin": provider_type in PROVIDER_TYPES,
        "kinds": kinds,
        "can_change": can_change,
        "showing_recommended": shown is not current,
        "configured": bool(current),
    }
    return render(request, "roster/providers/requirements_type.html", context)


urlpatterns = [
    path("", provider_list, name="providers"),
    path("new/", provider_new, name="provider_new"),
    path("assign/", provider_bulk_assign, name="providers_bulk_assign"),
    path("taxonomy-options/", taxonomy_options, name="taxonomy_options"),
    path("requirements/", requirements, name="provider_requirements"),
    path("requirements/<str:provider_type>/", requirements_type, name="provider_requirements_type"),
    path("<uuid:provider_id>/", provider_detail, name="provider_detail"),
    path("<uuid:provider_id>/edit/", provider_edit, name="provider_edit"),
    path("<uuid:provider_id>/reveal/", provider_reveal, name="provider_reveal"),
    path("<uuid:provider_id>/credentials/new/", credential_new, name="credential_new"),
    path(
        "<uuid:provider_id>/credentials/<uuid:credential_id>/edit/",
        credential_edit,
        name="credential_edit",
    ),
]
