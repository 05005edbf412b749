"""Operator console: disputes. Every open dispute on the exchange (platform path), each with
its resolution: a refund (reversing entry, order refunded, the buyer's record withdrawn from
the verification window) or a rejection, both with a required note. Platform staff only."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from credex import interface as ui
from credex.errors import DomainError
from exchange.selectors.aftertrade import operator_disputes as disputes_list
from exchange.services import aftertrade as svc
from exchange.views._base import operator_required

STATUSES = {"open": "Open", "resolved": "Resolved", "all": "All"}


class ResolveForm(forms.Form):
    dispute_id = forms.UUIDField(error_messages={"invalid": "Choose a dispute."})
    action = forms.ChoiceField(choices=[("refund", "Refund"), ("reject", "Reject")])
    note = forms.CharField(required=False, strip=False, max_length=svc.NOTE_MAX)


@require_http_methods(["GET", "POST"])
@never_cache
@operator_required
def operator_disputes(request):
    status = request.GET.get("status", "open")
    if status not in STATUSES:
        status = "open"
    errors, failed_id, code = {}, None, 200
    if request.method == "POST":
        form = ResolveForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["action"] == "refund":
                    svc.dispute_refund(
                        operator=request.user, dispute_id=data["dispute_id"], note=data["note"]
                    )
                    messages.success(request, "Refunded: the buyer and the seller were told.")
                else:
                    svc.dispute_reject(
                        operator=request.user, dispute_id=data["dispute_id"], reason=data["note"]
                    )
                    messages.success(request, "Dispute rejected: both parties were told.")
                return redirect(reverse("operator_disputes"))
            except DomainError as exc:
                ui.raise_http(exc, not_found=True)
                errors, failed_id = ui.form_errors(exc), data["dispute_id"]
                code = exc.status if exc.status in (400, 409) else 400
        else:
            errors, code = {"__all__": "Choose a dispute and a resolution."}, 400
    return render(
        request,
        "exchange/aftertrade/operator_disputes.html",
        {
            "disputes": disputes_list(status=status),
            "status": status,
            "statuses": STATUSES,
            "errors": errors,
            "failed_id": failed_id,
            "values": request.POST,
        },
        status=code,
    )


urlpatterns = [
    path("disputes/", operator_disputes, name="operator_disputes"),
]
