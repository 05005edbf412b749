"""Billing pages: invoices and the statement (mounted under /o/<slug>/billing/).

- invoices/<uuid>/      one invoice: period, status, every line, totals (a Stripe-mirrored
                        invoice also links to Stripe's hosted page)
- invoices/<uuid>.pdf   the same as a PDF (WeasyPrint, billing/invoice_pdf.py); audited
- statement/?start=&end=  the statement of a period for both sides of the exchange (buyer:
                        purchases, refunds, collected / not collected; seller: sales, payouts,
                        failed payouts, opening and closing available balance), `format=csv`
                        to download it (audited); bad dates are a 400 that says what to fix

Owners, admins and auditors read them (billing.view); coordinators see nothing of billing.
Another organization's invoice, or no such invoice, is a 404.
"""

from __future__ import annotations

import csv
import io

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from billing import gateway
from billing.invoice_pdf import build_invoice_pdf
from billing.selectors import invoice_for
from billing.services.invoices import invoice_downloaded, statement_exported
from billing.statements import CSV_COLUMNS, parse_period, statement_for_period
from credex import capabilities as cap
from credex.actors import audit_actor
from credex.csvsafe import safe_cell
from credex.errors import InvalidInput
from credex.views import capability_required


def _invoice(invoice_id):
    invoice = invoice_for(invoice_id)
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


def _download(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@capability_required(cap.VIEW_BILLING)
def billing_invoice(request, org_slug, invoice_id):
    invoice = _invoice(invoice_id)
    return render(
        request,
        "billing/invoice.html",
        {"invoice": invoice, "lines": list(invoice.lines.all()), "online": gateway.online()},
    )


@require_GET
@never_cache
@capability_required(cap.VIEW_BILLING)
def billing_invoice_pdf(request, org_slug, invoice_id):
    invoice = _invoice(invoice_id)
    pdf = build_invoice_pdf(
        org=request.org, invoice=invoice, lines=list(invoice.lines.all()), online=gateway.online()
    )
    invoice_downloaded(org=request.org, actor=audit_actor(request.membership), invoice=invoice)
    return _download(pdf, "application/pdf", f"invoice-{invoice.number}.pdf")


def statement_csv(statement) -> str:
    """The statement as CSV: text cells neutralized against formulas, amounts as integers."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in statement.csv_rows():
        writer.writerow([v if isinstance(v, int) else safe_cell(v) for v in row])
    return out.getvalue()


@require_GET
@never_cache
@capability_required(cap.VIEW_BILLING)
def billing_statement(request, org_slug):
    org = request.org
    start_text, end_text = request.GET.get("start", ""), request.GET.get("end", "")
    try:
        start, end = parse_period(start_text, end_text)
    except InvalidInput as exc:
        context = {"error": exc, "start": start_text[:10], "end": end_text[:10]}
        return render(request, "billing/statement.html", context, status=400)
    statement = statement_for_period(org=org, start=start, end=end)
    if request.GET.get("format") == "csv":
        body = statement_csv(statement)
        statement_exported(
            org=org,
            actor=audit_actor(request.membership),
            start=start,
            end=end,
            fmt="csv",
            rows=body.count("\n") - 1,
        )
        return _download(
            body.encode(),
            "text/csv; charset=utf-8",
            f"billing-statement-{org.slug}-{start.isoformat()}-{end.isoformat()}.csv",
        )
    context = {
        "statement": statement,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "online": gateway.online(),
    }
    return render(request, "billing/statement.html", context)


urlpatterns = [
    path("invoices/<uuid:invoice_id>/", billing_invoice, name="billing_invoice"),
    path("invoices/<uuid:invoice_id>.pdf", billing_invoice_pdf, name="billing_invoice_pdf"),
    path("statement/", billing_statement, name="billing_statement"),
]
