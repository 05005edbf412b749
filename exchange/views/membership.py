"""Exchange pages: membership (under /o/<slug>/exchange/membership/). Every role sees the
membership's status and accreditations; owners and admins (MANAGE_EXCHANGE) apply, re-apply
after "info requested" or "rejected", and record a renewed accreditation."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from credex import capabilities as cap
from credex import interface as ui
from credex.errors import DomainError
from credex.views import capability_required
from exchange.models import AccreditationStatus, AccreditingBody, MembershipStatus
from exchange.selectors.membership import accreditation_current, accreditations_of, membership_get
from exchange.services import membership as services
from exchange.views.membership_forms import AccreditationForm, ApplicationForm

CHECK_FIELDS = "Nothing was saved. Fix the fields marked below."
CAN_APPLY = {None, MembershipStatus.INFO_REQUESTED, MembershipStatus.REJECTED}


def _initial(membership) -> dict:
    """The application form, filled from the current membership when re-applying."""
    if membership is None:
        return {"accrediting_body": "ncqa", "accreditation_status": "accredited"}
    form = {name: getattr(membership, name) for name in services.TEXT_LIMITS}
    latest = accreditations_of(membership)[:1]
    if latest:
        a = latest[0]
        form.update(
            accrediting_body=a.body,
            accrediting_state=a.body_state,
            accreditation_status=a.status,
            accreditation_expires_on=a.expires_on.isoformat(),
        )
    return form


def _context(request, *, form=None, errors=None, renewal=None, renewal_errors=None) -> dict:
    membership = membership_get(org=request.org)
    status = membership.status if membership else None
    can_manage = ui.can_change(request, cap.MANAGE_EXCHANGE)
    return {
        "tab": "membership",
        "application": membership,
        "accreditations": accreditations_of(membership) if membership else [],
        "current": accreditation_current(membership) if membership else None,
        "can_manage": can_manage,
        "can_apply": can_manage and status in CAN_APPLY,
        "can_renew": can_manage and status in (MembershipStatus.APPROVED, MembershipStatus.PENDING),
        "form": form if form is not None else _initial(membership),
        "errors": errors or {},
        "renewal": renewal or {"accreditation_status": "accredited"},
        "renewal_errors": renewal_errors or {},
        "bodies": AccreditingBody.choices,
        "statuses": AccreditationStatus.choices,
    }


@require_http_methods(["GET", "POST"])
@capability_required(cap.VIEW_EXCHANGE)
def exchange_membership(request, org_slug):
    if request.method == "GET":
        return render(request, "exchange/membership/membership.html", _context(request))
    ui.require_change(request, cap.MANAGE_EXCHANGE)
    if request.POST.get("action") == "accreditation":
        return _record_accreditation(request)
    form = ApplicationForm(request.POST, request.FILES)
    errors = {}
    if not form.is_valid():
        errors = {**ui.form_errors(form), "__all__": CHECK_FIELDS}
    else:
        try:
            services.membership_apply(
                org=request.org, actor=request.membership, **form.as_service()
            )
        except DomainError as exc:
            ui.raise_http(exc)
            errors = ui.form_errors(exc, strings_only=True)
        else:
            messages.success(request, "Application sent. The exchange operator will review it.")
            return redirect("exchange_home", org_slug=org_slug)
    context = _context(request, form=form.typed(), errors=errors)
    return render(request, "exchange/membership/membership.html", context, status=400)


def _record_accreditation(request):
    form = AccreditationForm(request.POST, request.FILES)
    errors = {}
    if not form.is_valid():
        errors = {**ui.form_errors(form), "__all__": CHECK_FIELDS}
    else:
        try:
            services.accreditation_record(
                org=request.org, actor=request.membership, **form.accreditation_kwargs()
            )
        except DomainError as exc:
            ui.raise_http(exc)
            errors = ui.form_errors(exc, strings_only=True)
        else:
            messages.success(request, "Accreditation recorded.")
            return redirect("exchange_membership", org_slug=request.org.slug)
    context = _context(request, renewal=form.typed(), renewal_errors=errors)
    return render(request, "exchange/membership/membership.html", context, status=400)


urlpatterns = [
    path("membership/", exchange_membership, name="exchange_membership"),
]
