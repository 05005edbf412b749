"""Browser pages for the core: home/org picker, dashboard shell, settings, members, API keys."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credex import capabilities as cap
from credex import interface as ui
from credex import selectors, services
from credex.capabilities import has_capability
from credex.errors import DomainError
from credex.forms import (
    ApiKeyForm,
    InvitationForm,
    MemberRemoveForm,
    MemberRoleForm,
    OrganizationNewForm,
    OrganizationSettingsForm,
)
from credex.models import PSV_VALIDITY_DAYS, RECREDENTIALING_CYCLE_MONTHS, Role
from credex.writes import writes_paused

INVITATION_READ_ONLY = (
    "Billing is past due: this organization is read-only until a payment goes through, so it "
    "cannot take new members now. Your invitation keeps: accept it once the organization's "
    "owner has paid, or ask them to."
)


def capability_required(capability: str):
    """Org pages: the member must hold the capability (403 otherwise; outsiders got 404)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            membership = getattr(request, "membership", None)
            if membership is None:
                raise PermissionDenied
            if not has_capability(membership.role, capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        # Declared for tests/test_permission_matrix_html.py (functools.wraps in the decorators
        # above this one copies it to the URLconf's callback).
        wrapped.required_capability = capability
        return wrapped

    return decorator


@login_required
def home(request):
    memberships = selectors.memberships_for_user(request.user)
    if len(memberships) == 1:
        return redirect("dashboard", org_slug=memberships[0].organization.slug)
    return render(request, "credex/home.html", {"memberships": memberships})


@login_required
@require_http_methods(["GET", "POST"])
def organization_new(request):
    new_form = OrganizationNewForm(request.POST)
    form = new_form.typed()
    errors = {}
    if request.method == "POST":
        try:
            org = services.organization_create(
                name=new_form.validated()["name"], owner=request.user
            )
        except DomainError as exc:
            errors = {"name": exc.message}
        else:
            messages.success(request, f"{org.name} is ready. Invite your team next.")
            return redirect("members", org_slug=org.slug)
    return render(
        request,
        "credex/organization_new.html",
        {"form": form, "errors": errors},
        status=400 if errors else 200,
    )


@require_GET
@capability_required(cap.VIEW_ORG)
def dashboard(request, org_slug):
    from urllib.parse import urlencode

    from credex.dashboard import dashboard_summary

    query = request.GET.get("q", "").strip()
    if query:  # the top bar's search: the provider list does it
        url = reverse("providers", kwargs={"org_slug": request.org.slug})
        return redirect(f"{url}?{urlencode({'q': query})}")
    summary = dashboard_summary(org=request.org, membership=request.membership)
    return render(request, "credex/dashboard.html", {"dash": summary})


@require_http_methods(["GET", "POST"])
@capability_required(cap.VIEW_ORG)
def organization_settings(request, org_slug):
    org = request.org
    errors = {}
    form = {
        "name": org.name,
        "recredentialing_cycle_months": org.recredentialing_cycle_months,
        "psv_validity_days": org.psv_validity_days,
        "require_mfa": org.require_mfa,
        "import_documents_can_follow": org.import_documents_can_follow,
    }
    if request.method == "POST":
        ui.require_change(request, cap.CHANGE_SETTINGS)
        settings_form = OrganizationSettingsForm(request.POST, org=org)
        form = settings_form.typed()
        if not settings_form.is_valid():
            errors = ui.form_errors(settings_form)
        else:
            values = settings_form.cleaned_data
            try:
                services.organization_update_settings(
                    org=org,
                    actor=request.membership,
                    name=values["name"].strip(),
                    recredentialing_cycle_months=values["recredentialing_cycle_months"],
                    psv_validity_days=values["psv_validity_days"],
                    require_mfa=values["require_mfa"],
                    import_documents_can_follow=values["import_documents_can_follow"],
                )
            except DomainError as exc:
                errors = exc.details or {"__all__": exc.message}
            else:
                messages.success(request, "Settings saved.")
                return redirect("organization_settings", org_slug=org.slug)
    can_change = has_capability(request.membership.role, cap.CHANGE_SETTINGS)
    return render(
        request,
        "credex/organization_settings.html",
        {
            "form": form,
            "errors": errors,
            "can_change": can_change,
            "months_range": RECREDENTIALING_CYCLE_MONTHS,
            "days_range": PSV_VALIDITY_DAYS,
        },
        status=400 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
@capability_required(cap.VIEW_MEMBERS)
def members(request, org_slug):
    org = request.org
    invite_form = {"email": "", "role": Role.COORDINATOR}
    invite_errors = {}
    if request.method == "POST":
        if not has_capability(request.membership.role, cap.MANAGE_MEMBERS):
            raise PermissionDenied
        posted = InvitationForm(request.POST)
        invite_form = posted.typed()
        try:
            invitation = services.membership_invite(
                org=org, actor=request.membership, **posted.validated()
            )
        except DomainError as exc:
            invite_errors = dict.fromkeys(exc.details, exc.message) | {"__all__": exc.message}
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("members", org_slug=org.slug)
    context = {
        "members": selectors.member_list(org=org),
        "removed_members": selectors.removed_member_list(org=org),
        "invitations": [i for i in selectors.invitation_list(org=org) if i.status == "pending"],
        "roles": Role.choices,
        "invite_form": invite_form,
        "invite_errors": invite_errors,
        "can_manage": has_capability(request.membership.role, cap.MANAGE_MEMBERS),
    }
    return render(request, "credex/members.html", context, status=400 if invite_errors else 200)


def _member_action(request, member_id, action):
    org = request.org
    member = services.get_or_404(selectors.member_list(org=org), pk=member_id)
    try:
        action(member)
    except DomainError as exc:
        ui.raise_http(exc)
        messages.error(request, exc.message)
    return redirect("members", org_slug=org.slug)


@require_POST
@capability_required(cap.MANAGE_MEMBERS)
def member_role(request, org_slug, member_id):
    def change(member):
        services.membership_change_role(
            org=request.org,
            actor=request.membership,
            membership=member,
            role=MemberRoleForm(request.POST).validated()["role"],
        )
        messages.success(request, f"{member.user.email} is now {member.get_role_display()}.")

    return _member_action(request, member_id, change)


@require_http_methods(["GET", "POST"])
@capability_required(cap.MANAGE_MEMBERS)
def member_remove(request, org_slug, member_id):
    """GET: the confirmation, with the open work that will move and to whom. POST: remove."""
    org = request.org
    member = services.get_or_404(selectors.member_list(org=org), pk=member_id)
    if request.method == "GET":
        try:
            work = services.membership_removal_preview(
                org=org, actor=request.membership, membership=member
            )
        except DomainError as exc:
            if exc.status == 403:
                raise PermissionDenied
            raise
        context = {
            "member": member,
            "open_work": work,
            "open_total": sum(w.count for w in work),
            "is_self": member.pk == request.membership.pk,
        }
        return render(request, "credex/member_remove.html", context)

    def remove(member):
        reassign_to = MemberRemoveForm(request.POST).validated()["reassign_to"]
        services.membership_remove(
            org=org, actor=request.membership, membership=member, reassign_to=reassign_to
        )
        to = "to you" if reassign_to == "me" else "unassigned"
        messages.success(request, f"{member.user.email} was removed; their open work is {to}.")

    return _member_action(request, member_id, remove)


@require_POST
@capability_required(cap.MANAGE_MEMBERS)
def invitation_revoke(request, org_slug, invitation_id):
    invitation = services.get_or_404(selectors.invitation_list(org=request.org), pk=invitation_id)
    try:
        services.invitation_revoke(org=request.org, actor=request.membership, invitation=invitation)
        messages.success(request, f"Invitation to {invitation.email} withdrawn.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("members", org_slug=request.org.slug)


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    """Anyone with the link sees what it is; accepting needs the invited account."""
    try:
        org, _ = services.invitation_from_token(token)
    except services.InvitationInvalid as exc:
        return render(request, "credex/invitation.html", {"error": exc.message}, status=400)
    if writes_paused(org):
        # Read-only for billing (credex/writes.py): the invitation keeps; accepting it is a
        # write (a membership), refused with 402 and nothing written.
        status = 402 if request.method == "POST" else 200
        context = {"invited_org": org, "read_only_message": INVITATION_READ_ONLY}
        return render(request, "credex/invitation.html", context, status=status)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?next={request.path}")
        try:
            membership = services.invitation_accept(token=token, user=request.user)
        except services.InvitationInvalid as exc:
            return render(
                request,
                "credex/invitation.html",
                {"error": exc.message, "invited_org": org},
                status=400,
            )
        messages.success(request, f"Welcome to {org.name}.")
        return redirect("dashboard", org_slug=membership.organization.slug)
    return render(request, "credex/invitation.html", {"invited_org": org, "token": token})


@require_http_methods(["GET", "POST"])
@capability_required(cap.MANAGE_API_KEYS)
def api_keys(request, org_slug):
    org = request.org
    new_key, errors = None, {}
    form = {"name": "", "role": Role.COORDINATOR}
    if request.method == "POST":
        key_form = ApiKeyForm(request.POST)
        form = key_form.typed()
        try:
            key, new_key = services.api_key_create(
                org=org, actor=request.membership, **key_form.validated()
            )
        except DomainError as exc:
            errors = dict.fromkeys(exc.details, exc.message) | {"__all__": exc.message}
        else:
            form = {"name": "", "role": Role.COORDINATOR}
    context = {
        "keys": selectors.api_key_list(org=org),
        "new_key": new_key,
        "errors": errors,
        "form": form,
        "roles": [r for r in Role.choices if r[0] != Role.OWNER],
    }
    return render(request, "credex/api_keys.html", context, status=400 if errors else 200)


@require_POST
@capability_required(cap.MANAGE_API_KEYS)
def api_key_revoke(request, org_slug, key_id):
    key = services.get_or_404(selectors.api_key_list(org=request.org), pk=key_id)
    services.api_key_revoke(org=request.org, actor=request.membership, key=key)
    messages.success(request, f"Key “{key.name}” revoked.")
    return redirect("api_keys", org_slug=request.org.slug)


@require_GET
def healthz(request):
    """Database and Redis reachability, by component; no secrets, no versions.

    The tenant middleware lets this view through without a transaction or a session, so it
    answers 503 naming the component that is down instead of failing itself.
    """
    components = {"database": _database_status(), "redis": _redis_status()}
    healthy = all(v == "ok" for v in components.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "components": components},
        status=200 if healthy else 503,
    )


def _database_status() -> str:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        connection.close()  # the next request opens a new connection
        return "down"
    return "ok"


def _redis_status() -> str:
    try:
        from credex.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        return "down"
    return "ok"
