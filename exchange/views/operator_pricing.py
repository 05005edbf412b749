"""Operator console: market rates and every vote (with the voting member) per type and
quarter, the default price per type, and the exchange settings. Platform staff only."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from credex.errors import DomainError
from exchange.models import DefaultPrice, ExchangeSettings
from exchange.selectors import pricing as sel
from exchange.services.pricing import (
    SETTINGS_RANGES,
    default_price_set,
    exchange_settings_update,
    operator_rates_read_record,
)
from exchange.views._base import operator_required
from exchange.views.pricing_forms import PriceForm, SettingsForm
from verifications.models import VerificationSource

SETTING_LABELS = {
    "max_age_days": ("Maximum age of a listed verification", "days"),
    "vote_quorum": ("Votes needed for a median (quorum)", "members"),
    "price_band_percent": ("Price band around the market rate", "%"),
    "fee_basis_points": ("Facilitation fee", "basis points (100 = 1%)"),
    "fee_minimum_cents": ("Minimum fee", "cents"),
    "dispute_window_days": ("Dispute window", "days"),
}


def _context(*, errors=None, typed=None) -> dict:
    settings = ExchangeSettings.current()
    typed = typed or {}
    defaults = dict(DefaultPrice.objects.values_list("source", "price_cents"))
    labels = dict(VerificationSource.choices)
    return {
        "quarters": sel.operator_rates(),
        "defaults": [
            {"source": s, "label": labels[s], "price_cents": defaults.get(s)}
            for s in sel.PRICED_SOURCES
        ],
        "settings_fields": [
            {
                "name": name,
                "label": SETTING_LABELS[name][0],
                "unit": SETTING_LABELS[name][1],
                "low": low,
                "high": high,
                "value": typed.get(name, getattr(settings, name)),
                "error": (errors or {}).get(name, ""),
            }
            for name, (low, high) in SETTINGS_RANGES.items()
        ],
        "fee_rule": sel.fee_rule(settings),
        "errors": errors or {},
        "current_quarter": sel.quarter_of(),
    }


@require_http_methods(["GET", "POST"])
@operator_required
def operator_rates(request):
    if request.method == "GET":
        operator_rates_read_record(operator=request.user)
        return render(request, "exchange/operator/rates.html", _context())
    which = request.POST.get("form")
    try:
        if which == "default_price":
            data = PriceForm(request.POST).checked()
            row = default_price_set(operator=request.user, **data)
            notice = f"Default price for {row.get_source_display()} saved."
        elif which == "settings":
            exchange_settings_update(operator=request.user, **SettingsForm(request.POST).checked())
            notice = "Exchange settings saved."
        else:
            return render(
                request,
                "exchange/operator/rates.html",
                _context(errors={"message": "Choose a form to submit."}),
                status=400,
            )
    except DomainError as exc:
        errors = {**exc.details, "message": exc.message, "form": which}
        if which == "default_price":
            errors["source"] = request.POST.get("source", "")
        typed = {k: request.POST.get(k, "")[:20] for k in SETTINGS_RANGES}
        context = _context(errors=errors, typed=typed if which == "settings" else None)
        return render(request, "exchange/operator/rates.html", context, status=400)
    messages.success(request, notice)
    return redirect(reverse("operator_rates"))


urlpatterns = [
    path("rates/", operator_rates, name="operator_rates"),
]
