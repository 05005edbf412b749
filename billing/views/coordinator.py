"""The independent coordinator's per-client invoice (/clients/invoice/), its CSV and PDF, and
the rate card it is priced with (POST /clients/rates/).

These pages belong to a person who works for several organizations, not to one organization,
so they sit outside /o/<slug>/ (mounted by credex.urls from billing/client_urls.py), beside
the cross-organization expiring view. Anyone signed in who is not an independent coordinator
gets 403, as a role without a capability does on an organization's pages; anonymous visitors
are sent to sign in. The rules (who, what is billed, how each client is read) are in
billing/services/coordinator.py.
"""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, re_path, reverse
from django.views.decorators.http import require_GET, require_POST

from billing.models import RATE_MAX_CENTS, CoordinatorRate
from billing.services import coordinator as svc
from credex import interface as ui
from credex.csvsafe import safe_row
from credex.errors import DomainError, Forbidden, InvalidInput
from credex.money import format_cents

# Form field (typed in dollars) -> the rate it sets (integer cents).
RATE_INPUTS = {name.removesuffix("_cents"): name for name in CoordinatorRate.RATE_FIELDS}
DOLLARS = re.compile(r"(?P<whole>\d{1,9})(?:\.(?P<part>\d{1,2}))?")

CSV_COLUMNS = [
    "client",
    "period_start",
    "period_end",
    "kind",
    "item",
    "quantity",
    "months",
    "rate_cents",
    "rate",
    "amount_cents",
    "amount",
    "detail",
]


def _clients_or_403(request):
    try:
        return svc.require_independent(request.user)
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc


def _dollars(cents: int) -> str:
    """The value a rate input shows: 4500 -> "45.00"."""
    whole, part = divmod(int(cents), 100)
    return f"{whole}.{part:02d}"


def _parse_rates(post) -> tuple[dict, dict]:
    """({rate field: cents}, {input name: error}) from the rate form (dollars, blank = 0)."""
    rates, errors = {}, {}
    for name, rate_field in RATE_INPUTS.items():
        text = (post.get(name) or "").strip().replace(",", "").removeprefix("$").strip()
        if not text:
            rates[rate_field] = 0
            continue
        match = DOLLARS.fullmatch(text)
        if text.startswith("-"):
            errors[name] = "A rate cannot be negative."
        elif match is None:
            errors[name] = "Enter an amount in dollars, like 45 or 12.50."
        else:
            cents = int(match["whole"]) * 100 + int((match["part"] or "0").ljust(2, "0"))
            if cents > RATE_MAX_CENTS:
                errors[name] = f"A rate is at most {format_cents(RATE_MAX_CENTS)}."
            rates[rate_field] = cents
    return rates, errors


def _rate_forms(clients, card, submitted=None) -> list[dict]:
    """The default card's form, then one per client (its override or the default's values)."""
    forms = [{"client": None, "slug": "", "rates": card.default, "override": False}]
    for m in clients:
        row = card.overrides.get(m.organization_id)
        forms.append(
            {
                "client": m.organization,
                "slug": m.organization.slug,
                "rates": row.rates() if row else card.default,
                "override": row is not None,
            }
        )
    for form in forms:
        form["fields"] = [
            {
                "name": name,
                "label": svc.RATE_LABELS[rate_field],
                "value": _dollars(form["rates"][rate_field]),
                "error": "",
            }
            for name, rate_field in RATE_INPUTS.items()
        ]
        form["error"] = ""
        if submitted and submitted["slug"] == form["slug"]:
            form["open"] = True
            form["error"] = submitted["message"]
            for f in form["fields"]:
                f["value"] = submitted["values"].get(f["name"], "")
                f["error"] = submitted["errors"].get(f["name"], "")
    return forms


def _query(period) -> str:
    return urlencode({"start": period.start.isoformat(), "end": period.end.isoformat()})


def _page(request, clients, *, period=None, period_errors=None, submitted=None, status=200):
    params = request.POST if request.method == "POST" else request.GET
    card = svc.rate_card(request.user)
    invoice = None
    if period is not None:
        invoice = svc.client_invoice(user=request.user, period=period)
        svc.client_invoice_record_read(invoice=invoice, via="web")
    context = {
        "invoice": invoice,
        "period": period,
        # What was typed stays in the form, also when it is not a date.
        "start": params.get("start") or (period.start.isoformat() if period else ""),
        "end": params.get("end") or (period.end.isoformat() if period else ""),
        "period_errors": period_errors or {},
        "query": _query(period) if period else "",
        "presets": _presets(),
        "rate_forms": _rate_forms(clients, card, submitted),
        "card_set": card.default_row is not None or bool(card.overrides),
        "rate_max_cents": RATE_MAX_CENTS,
        # Where a rate form returns: this page with its period (a re-rendered POST keeps the
        # page it came from, never the POST-only URL).
        "here": request.get_full_path()
        if request.method == "GET"
        else ui.safe_next(request, reverse("client_invoice")),
    }
    return ui.vary_on_htmx(
        render(request, "billing/coordinator_invoice.html", context, status=status)
    )


def _presets() -> list[tuple[str, str]]:
    from django.utils import timezone

    today = timezone.localdate()
    last = svc.last_month(today)
    this = svc.Period(today.replace(day=1), today)
    return [("Last month", _query(last)), ("This month so far", _query(this))]


def _period_or_errors(params):
    try:
        return svc.period_parse(params.get("start"), params.get("end")), None
    except InvalidInput as exc:
        return None, exc.details


@require_GET
@login_required
def client_invoice_page(request):
    clients = _clients_or_403(request)
    period, errors = _period_or_errors(request.GET)
    return _page(
        request, clients, period=period, period_errors=errors, status=400 if errors else 200
    )


@require_GET
@login_required
def client_invoice_export(request, fmt):
    clients = _clients_or_403(request)
    period, errors = _period_or_errors(request.GET)
    if errors:
        return _page(request, clients, period_errors=errors, status=400)
    invoice = svc.client_invoice(user=request.user, period=period)
    svc.client_invoice_record_export(invoice=invoice, fmt=fmt)
    name = f"client-invoice-{period.start.isoformat()}-to-{period.end.isoformat()}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(invoice_csv(invoice), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@login_required
def client_rates(request):
    clients = _clients_or_403(request)
    slug = request.POST.get("client", "")
    back = ui.safe_next(request, reverse("client_invoice"))
    try:
        if request.POST.get("action") == "clear":
            svc.rates_clear(owner=request.user, client=slug)
            messages.success(request, "That client is priced with your default rates again.")
            return redirect(back)
        rates, errors = _parse_rates(request.POST)
        if errors:
            raise InvalidInput("Some rates need attention.", details=errors)
        row = svc.rates_update(owner=request.user, rates=rates, client=slug)
    except DomainError as exc:
        ui.raise_http(exc, not_found=True)
        submitted = {
            "slug": slug,
            "message": exc.message,
            "values": {name: request.POST.get(name, "") for name in RATE_INPUTS},
            "errors": {k.removesuffix("_cents"): v for k, v in (exc.details or {}).items()},
        }
        # The rate forms carry the period the page showed.
        period, period_errors = _period_or_errors(request.POST)
        return _page(
            request,
            clients,
            period=period,
            period_errors=period_errors,
            submitted=submitted,
            status=exc.status,
        )
    who = row.client.name if row.client_id else "all your clients"
    messages.success(request, f"Rates saved for {who}.")
    return redirect(back)


# --- the files ------------------------------------------------------------------------------------
def invoice_csv(invoice) -> str:
    """One row per line of each client, then the client's total; the grand total last."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    start, end = invoice.period.start.isoformat(), invoice.period.end.isoformat()

    def row(client, kind, item, quantity="", months="", rate=None, amount=None, detail=""):
        writer.writerow(
            safe_row(
                [
                    client,
                    start,
                    end,
                    kind,
                    item,
                    quantity,
                    months,
                    "" if rate is None else rate,
                    format_cents(rate),
                    "" if amount is None else amount,
                    format_cents(amount),
                    detail,
                ]
            )
        )

    for client in invoice.clients:
        name = client.org.name
        if client.blocked:
            row(name, "not_included", "Not included", detail=BLOCKED_NOTE)
            continue
        for line in client.lines:
            months = line.months_text if line.kind == "providers" else ""
            row(
                name,
                line.kind,
                line.label,
                line.quantity,
                months,
                line.rate_cents,
                line.amount_cents,
                line.detail,
            )
        row(name, "client_total", f"Total for {name}", amount=client.total_cents)
    row("All clients", "total", "Total", amount=invoice.total_cents)
    return out.getvalue()


BLOCKED_NOTE = "requires two-factor authentication: set it up to include this client"


def invoice_pdf(invoice) -> bytes:
    """The invoice as a PDF: one page per client, then the summary (WeasyPrint)."""
    from django.utils import timezone
    from django.utils.safestring import mark_safe
    from weasyprint import HTML

    from verifications.packages.builder import css_string

    html = render_to_string(
        "billing/coordinator_pdf/invoice.html",
        {
            "invoice": invoice,
            "generated_at": timezone.now(),
            "blocked_note": BLOCKED_NOTE,
            # Raw text inside <style>: css_string escapes quotes, backslashes and "<".
            "header_name": mark_safe(css_string(invoice.user.display_name)),  # noqa: S308
            "header_period": mark_safe(css_string(invoice.period.label())),  # noqa: S308
        },
    )
    return HTML(string=html, base_url=".").write_pdf()


# Pages under /o/<slug>/billing/: none (the client invoice spans organizations).
urlpatterns: list = []

# Mounted at /clients/ by credex.urls (billing/client_urls.py).
client_urlpatterns = [
    path("invoice/", client_invoice_page, name="client_invoice"),
    re_path(r"^invoice\.(?P<fmt>csv|pdf)$", client_invoice_export, name="client_invoice_export"),
    path("rates/", client_rates, name="client_rates"),
]
