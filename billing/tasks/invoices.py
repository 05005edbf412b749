"""Billing tasks: offline invoices.

- `billing.invoices.issue_monthly` (beat, the 1st of each month, 07:00 UTC): when payments are
  not configured (online, Stripe issues the invoices), one `billing.invoices.issue` per
  organization for last month (or `month="YYYY-MM"`). A month lock in the cache keeps a second
  beat from fanning out twice (issuing is idempotent anyway); an organization whose task
  cannot be published is logged and the others still go.
- `billing.invoices.issue`: a TenantTask: `invoice_issue` for one organization and month, in
  its own scope, so one organization's failure (retried, then left failed) stops no other.
  Not gated by read-only (`runs_while_read_only`): a past-due organization is still invoiced
  for what it owes; the invoice is billing's own record, not a write on its data.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from credex.celery import TenantTask

log = logging.getLogger(__name__)
MONTH_LOCK_SECONDS = 27 * 24 * 3600


def _month(value: str | None) -> date:
    """The first day of the month named "YYYY-MM", or of last month."""
    if value:
        year, month = (int(part) for part in str(value).split("-", 1))
        return date(year, month, 1)
    last_of_previous = timezone.localdate().replace(day=1) - timedelta(days=1)
    return last_of_previous.replace(day=1)


@shared_task(name="billing.invoices.issue_monthly")
def issue_monthly(month: str | None = None, force: bool = False) -> int:
    """Fan out last month's invoice (or `month`'s) to every organization; returns how many
    tasks were published (0 when payments are configured or the month was done already)."""
    from billing import gateway
    from credex.models import Organization

    if gateway.online():
        return 0
    first = _month(month)
    key = f"billing.invoices.issue_monthly:{first:%Y-%m}"
    if not force and not cache.add(key, 1, MONTH_LOCK_SECONDS):
        return 0
    published = 0
    for org_id in sorted(Organization.objects.values_list("pk", flat=True), key=str):
        try:
            invoice_issue_task.apply_async(
                kwargs={"org_id": str(org_id), "month": f"{first:%Y-%m}"}
            )
        except Exception:  # the broker refused this one: log it, go on with the others
            log.exception("billing.invoices.issue for %s not published", org_id)
            continue
        published += 1
    return published


@shared_task(bind=True, base=TenantTask, name="billing.invoices.issue", runs_while_read_only=True)
def invoice_issue_task(self, *, org_id: str, month: str) -> str:
    from billing.services.invoices import invoice_issue, period_of_month
    from credex.models import Organization

    start, end = period_of_month(_month(month))
    invoice = invoice_issue(
        org=Organization.objects.get(pk=org_id), period_start=start, period_end=end
    )
    return invoice.number if invoice is not None else "nothing to bill"
