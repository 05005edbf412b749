"""The billing page (/o/<slug>/billing/): plan, status, seats and exactly what the organization
pays and why; the trial, past-due and read-only states; choosing monthly or annual billing,
adding a card (Stripe Checkout) and managing it (the customer portal); billing settings;
exchange payouts and the seller's payout account (Stripe Connect Express onboarding, which
comes back here with ?connect=done or ?connect=refresh).

Owners, admins and auditors read it; owners and admins change it (POST billing/change/).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from billing import gateway
from billing.models import ChargeMode, Payout, PayoutSchedule
from billing.selectors import billing_summary, membership_fee_for
from billing.services import accounts as account_services
from billing.services import subscriptions
from billing.services.payouts import (
    payout_account_link,
    payout_account_state,
    payout_request,
    proceeds_available,
    proceeds_reserved,
)
from credex import capabilities as cap
from credex import interface as ui
from credex.actors import audit_actor
from credex.errors import DomainError, InvalidInput
from credex.money import format_cents
from credex.views import capability_required


def _page(request, *, error=None, status=200):
    summary = billing_summary(request.org)
    proceeds = proceeds_available(request.org)
    account_state = payout_account_state(summary.account)
    context = {
        "summary": summary,
        "account": summary.account,
        "can_manage": ui.can_change(request, cap.MANAGE_BILLING),
        "charge_modes": ChargeMode.choices,
        "payout_schedules": PayoutSchedule.choices,
        "error": error,
        "checkout": request.GET.get("checkout", ""),
        "proceeds_cents": proceeds,
        "payout_minimum_cents": settings.BILLING_PAYOUT_MINIMUM_CENTS,
        "payouts": list(Payout.objects.order_by("-created_at")[:10]),
        "proceeds_reserved_cents": proceeds_reserved(request.org),
        "payout_account_state": account_state,
        # Online, Stripe must have enabled payouts on the account first (payout_request).
        "can_pay_out": proceeds > 0
        and proceeds >= settings.BILLING_PAYOUT_MINIMUM_CENTS
        and (not summary.online or account_state == "enabled"),
        "connect": request.GET.get("connect", ""),
        "membership_fee": membership_fee_for(request.org),
    }
    response = render(request, "billing/overview.html", context, status=status)
    if summary.online:
        # Its forms redirect to Stripe's hosted pages (Checkout, the portal, onboarding).
        response._csp_update = {"form-action": gateway.hosted_origins()}
    return response


@require_GET
@capability_required(cap.VIEW_BILLING)
def billing_overview(request, org_slug):
    return _page(request)


@require_POST
@capability_required(cap.MANAGE_BILLING)
def billing_change(request, org_slug):
    org = request.org
    actor = audit_actor(request.membership)
    action = request.POST.get("action", "")
    here = request.build_absolute_uri(reverse("billing_overview", kwargs={"org_slug": org.slug}))
    try:
        if action == "plan":
            account_services.account_for(org)
            account = subscriptions.plan_choose(
                org=org, actor=actor, interval=request.POST.get("interval", "")
            )
            messages.success(
                request, f"Billing is now {account.plan.get_interval_display().lower()}."
            )
        elif action == "checkout":
            url = subscriptions.checkout_start(
                org=org,
                actor=actor,
                success_url=here + "?checkout=done",
                cancel_url=here + "?checkout=canceled",
            )
            return redirect(url)
        elif action == "portal":
            return redirect(subscriptions.portal_url(org=org, actor=actor, return_url=here))
        elif action == "connect":
            return redirect(
                payout_account_link(
                    org=org,
                    actor=actor,
                    return_url=here + "?connect=done",
                    refresh_url=here + "?connect=refresh",
                )
            )
        elif action == "payout":
            payout = payout_request(org=org, actor=request.membership)
            messages.success(
                request,
                f"Payout of {format_cents(payout.amount_cents)} "
                f"{'recorded' if payout.status == 'recorded' else 'requested'}.",
            )
        elif action == "settings":
            account_services.account_settings_update(
                org=org,
                actor=actor,
                charge_mode=request.POST.get("charge_mode", ""),
                payout_schedule=request.POST.get("payout_schedule", ""),
                billing_email=request.POST.get("billing_email", ""),
            )
            messages.success(request, "Billing settings saved.")
        else:
            raise InvalidInput("Choose what to do.", details={"action": ["unknown"]})
    except DomainError as exc:
        ui.raise_http(exc)
        return _page(request, error=exc, status=exc.status)
    return redirect("billing_overview", org_slug=org.slug)


urlpatterns = [
    path("", billing_overview, name="billing_overview"),
    path("change/", billing_change, name="billing_change"),
]
