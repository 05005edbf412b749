"""Exchange pages: the organization's disputes (as buyer and as seller), and the two order
actions after a trade, posted from the order page's `_order_actions.html` include: rate the
seller (once) and open a dispute (within the window). Buyer only; coordinators and up."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from credex import capabilities as cap
from credex import interface as ui
from credex.errors import DomainError, InvalidInput
from credex.views import capability_required
from exchange.models import DisputeReason, ExchangeSettings
from exchange.selectors.aftertrade import disputes_for, order_actions, order_for_party
from exchange.services import aftertrade as svc

STATUSES = {"all": "All", "open": "Open", "resolved": "Resolved"}


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        choices=[(str(n), str(n)) for n in range(1, 6)],
        coerce=int,
        error_messages={"required": "Choose 1 to 5.", "invalid_choice": "Choose 1 to 5."},
    )
    comment = forms.CharField(required=False, max_length=svc.COMMENT_MAX)


class DisputeForm(forms.Form):
    reason = forms.ChoiceField(
        choices=DisputeReason.choices,
        error_messages={
            "required": "Choose why.",
            "invalid_choice": "Choose wrong clinician, stale, incomplete or other.",
        },
    )
    description = forms.CharField(
        max_length=svc.DESCRIPTION_MAX,
        error_messages={"required": "Say what is wrong with the record."},
    )


@require_GET
@capability_required(cap.VIEW_EXCHANGE)
def exchange_disputes(request, org_slug):
    status = request.GET.get("status", "all")
    if status not in STATUSES:
        status = "all"
    disputes = disputes_for(org=request.org, status=None if status == "all" else status)
    return render(
        request,
        "exchange/aftertrade/disputes.html",
        {
            "tab": "disputes",
            "disputes": disputes,
            "status": status,
            "statuses": STATUSES,
            "window_days": ExchangeSettings.current().dispute_window_days,
        },
    )


def _after_action(request, order, form, exc: DomainError | None, done: str):
    """Back to the order page with a message; a refusal shows the form again (with what was
    typed) and the reason, with the error's status."""
    fallback = reverse(
        "exchange_order", kwargs={"org_slug": request.org.slug, "order_id": order.pk}
    )
    if exc is None:
        messages.success(request, done)
        return redirect(ui.safe_next(request, fallback))
    ui.raise_http(exc, not_found=True)
    context = {
        **order_actions(org=request.org, order=order),
        "errors": ui.form_errors(exc, strings_only=True),
        "values": form.data,
        "back_url": ui.safe_next(request, fallback),
    }
    status = exc.status if exc.status in (400, 409) else 400
    template = (
        "exchange/aftertrade/_order_actions.html"
        if ui.is_partial(request)
        else ("exchange/aftertrade/action_refused.html")
    )
    return ui.vary_on_htmx(render(request, template, context, status=status))


@require_POST
@capability_required(cap.TRADE_EXCHANGE)
def exchange_order_rate(request, org_slug, order_id):
    order, _ = order_for_party(org=request.org, order_id=order_id)
    form = RatingForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidInput(
                "The rating was not saved: " + " ".join(ui.form_errors(form).values()),
                details=ui.form_errors(form),
            )
        svc.rating_record(
            org=request.org,
            actor=request.membership,
            order=order,
            score=form.cleaned_data["score"],
            comment=form.cleaned_data["comment"],
        )
    except DomainError as exc:
        return _after_action(request, order, form, exc, "")
    return _after_action(request, order, form, None, f"Thank you: {order.seller_name} rated.")


@require_POST
@capability_required(cap.TRADE_EXCHANGE)
def exchange_order_dispute(request, org_slug, order_id):
    order, _ = order_for_party(org=request.org, order_id=order_id)
    form = DisputeForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidInput(
                "The dispute was not opened: " + " ".join(ui.form_errors(form).values()),
                details=ui.form_errors(form),
            )
        svc.dispute_open(
            org=request.org,
            actor=request.membership,
            order=order,
            reason=form.cleaned_data["reason"],
            description=form.cleaned_data["description"],
        )
    except DomainError as exc:
        return _after_action(request, order, form, exc, "")
    return _after_action(
        request,
        order,
        form,
        None,
        "Dispute opened. The seller and the exchange operator have been told; you will hear "
        "when it is resolved.",
    )


urlpatterns = [
    path("disputes/", exchange_disputes, name="exchange_disputes"),
    path("orders/<uuid:order_id>/rate/", exchange_order_rate, name="exchange_order_rate"),
    path("orders/<uuid:order_id>/dispute/", exchange_order_dispute, name="exchange_order_dispute"),
]
