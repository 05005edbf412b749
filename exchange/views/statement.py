"""Exchange pages: the member's statement (every posting on its ledger accounts, running
balances, totals) and its CSV export (?format=csv).

Read by owners, admins and auditors (`audit.view`: the statement is a financial record
read like the audit log); coordinators trade but do not read the books."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from credex import capabilities as cap
from credex.csvsafe import safe_cell
from credex.views import capability_required
from exchange.selectors.statement import CSV_COLUMNS, statement_for
from exchange.services.aftertrade import statement_exported

PAGE_ROWS = 500


def statement_csv(statement) -> str:
    """The statement as CSV: text cells neutralized against formulas, amounts as integers."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in statement.rows:
        writer.writerow([v if isinstance(v, int) else safe_cell(v) for v in row.csv_values()])
    return out.getvalue()


@require_GET
@never_cache
@capability_required(cap.VIEW_AUDIT)
def exchange_statement(request, org_slug):
    org = request.org
    if request.GET.get("format") == "csv":
        statement = statement_for(org=org)
        statement_exported(org=org, actor=request.membership, rows=len(statement.rows))
        response = HttpResponse(statement_csv(statement), content_type="text/csv; charset=utf-8")
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = (
            f'attachment; filename="exchange-statement-{org.slug}-{stamp}.csv"'
        )
        return response
    statement = statement_for(org=org, limit=PAGE_ROWS)
    return render(
        request,
        "exchange/aftertrade/statement.html",
        {"tab": "statement", "statement": statement, "page_rows": PAGE_ROWS},
    )


urlpatterns = [
    path("statement/", exchange_statement, name="exchange_statement"),
]
