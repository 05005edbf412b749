"""Offline invoices: without a Stripe key CredEx issues each organization's invoice itself, as a
record with the same lines Stripe would bill (online, invoices come from Stripe's webhooks:
billing/services/webhooks.py `invoice_mirror`).

`invoice_issue(org, period_start, period_end)` writes one invoice per organization and period:
its number is derived from the organization and the period (`invoice_number`) and unique per
organization, and the issue runs under a lock on the billing account, so issuing the same
period again returns the first invoice and writes nothing. The lines:

- the plan: a monthly plan's base price and its seats (the seat count at issuing ×
  the seat price) for the days of the period after the free trial, prorated by day when the
  trial ends inside the period; a yearly plan's base and seats once a year, in advance, on
  the first invoice with a day after the trial and again 12 months after the last one. A
  period wholly inside the trial has no plan lines, and a canceled account none either;
- every PENDING charge (exchange purchases, the membership fee) created before the period's
  end, each its own line, linked to the invoice and marked NOT_COLLECTED (nothing is charged
  offline);
- a credit for every charge refunded as a credit (CREDITED) by the exchange's dispute
  refunds: a charge already billed gets its credit line on the next invoice; one refunded
  before it was ever billed appears with its credit on the same invoice (they cancel out).

Nothing to bill (a period inside the trial without charges) issues no invoice. Read-only
organizations are invoiced like any other. The invoice's status is NOT_COLLECTED; its total is
the sum of its lines (credits larger than the charges make it negative; nothing is due then).
Audited as billing.invoice_issued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import Actor, audit_record
from billing import gateway
from billing.models import (
    BillingAccount,
    BillingStatus,
    Charge,
    ChargeKind,
    ChargeStatus,
    Interval,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
)
from billing.services.accounts import account_for
from billing.services.seats import seat_count
from credex.errors import Conflict, InvalidInput

ACTOR = Actor.system("billing-invoices")
MAX_PERIOD_DAYS = 366
CHARGE_LINE = {
    ChargeKind.EXCHANGE_PURCHASE: LineKind.EXCHANGE_PURCHASE,
    ChargeKind.MEMBERSHIP_FEE: LineKind.MEMBERSHIP_FEE,
}


class PaymentsConfigured(Conflict):
    code = "payments_configured"


@dataclass
class Line:
    kind: str
    description: str
    amount_cents: int
    quantity: int = 1
    unit_cents: int = 0
    reference: str = ""


def invoice_number(org, period_start: date) -> str:
    """CX-<the organization id's first 8 hex digits>-<YYYYMM of the period's start>: stable
    (a renamed organization keeps its numbers) and unique per organization and month."""
    return f"CX-{org.pk.hex[:8].upper()}-{period_start:%Y%m}"


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _check_period(period_start, period_end) -> None:
    problems = {}
    for name, value in (("period_start", period_start), ("period_end", period_end)):
        if not isinstance(value, date) or isinstance(value, datetime):
            problems[name] = ["A date."]
        elif not 2000 <= value.year <= 2100:
            problems[name] = ["A date between 2000 and 2100."]
    if not problems and period_end < period_start:
        problems["period_end"] = ["On or after the period's start."]
    elif not problems and (period_end - period_start).days >= MAX_PERIOD_DAYS:
        problems["period_end"] = [f"A period of at most {MAX_PERIOD_DAYS} days."]
    if problems:
        raise InvalidInput("The invoice period is not valid.", details=problems)


def _billable_days(account: BillingAccount, start: date, end: date) -> int:
    """Days of the period wholly after the free trial."""
    first = timezone.localdate(account.trial_ends_at)
    if _day_start(first) < account.trial_ends_at:
        first += timedelta(days=1)  # the trial's last (partial) day is free
    first = max(first, start)
    return max(0, (end - first).days + 1)


def _prorated(cents: int, days: int, period_days: int) -> int:
    """cents × days / period_days, rounded half up to the cent."""
    return (2 * cents * days + period_days) // (2 * period_days)


def _plan_lines(account: BillingAccount, start: date, end: date, seats: int) -> list[Line]:
    plan = account.plan
    if account.status == BillingStatus.CANCELED:
        return []
    days = _billable_days(account, start, end)
    if days == 0:
        return []  # the whole period is in the trial
    reference = f"plan:{plan.code}:v{plan.version}:{plan.interval}"
    if plan.interval == Interval.YEAR:
        year_ago = date(start.year - 1, start.month, min(start.day, 28))
        billed = InvoiceLine.objects.filter(
            kind=LineKind.BASE, reference__endswith=":year", invoice__period_start__gt=year_ago
        ).exists()
        if billed:
            return []  # paid for the year in advance
        base, seat, note = plan.base_cents, plan.seat_cents, " for 12 months, billed in advance"
    else:
        period_days = (end - start).days + 1
        base = _prorated(plan.base_cents, days, period_days)
        seat = _prorated(plan.seat_cents, days, period_days)
        note = "" if days == period_days else f", {days} of {period_days} days after the trial"
    return [
        Line(LineKind.BASE, f"{plan.name} base price{note}", base, 1, base, reference),
        Line(
            LineKind.SEATS,
            f"Provider seats (active providers, applicants from their first verification){note}",
            seats * seat,
            seats,
            seat,
            reference,
        ),
    ]


def _charge_lines(end: date):
    """(lines, charges to link and mark not collected, charges to link only): the pending
    charges and the credits owed for refunded ones."""
    boundary = _day_start(end + timedelta(days=1))
    pending = list(
        Charge.objects.select_for_update()
        .filter(status=ChargeStatus.PENDING, invoice__isnull=True, created_at__lt=boundary)
        .order_by("created_at", "id")
    )
    credited_already = set(
        InvoiceLine.objects.filter(kind=LineKind.CREDIT).values_list("reference", flat=True)
    )
    refunded = [
        c
        for c in Charge.objects.select_for_update()
        .filter(status=ChargeStatus.CREDITED, refunded_at__lt=boundary)
        .order_by("refunded_at", "id")
        if str(c.pk) not in credited_already
    ]
    never_billed = [c for c in refunded if c.invoice_id is None]
    lines = [_line_of(charge) for charge in pending + never_billed]
    for charge in refunded:
        lines.append(
            Line(
                LineKind.CREDIT,
                f"Credit: refunded — {charge.description}"[:300],
                -charge.amount_cents,
                1,
                -charge.amount_cents,
                str(charge.pk),
            )
        )
    return lines, pending, never_billed


def _line_of(charge: Charge) -> Line:
    return Line(
        CHARGE_LINE.get(charge.kind, LineKind.OTHER),
        charge.description,
        charge.amount_cents,
        1,
        charge.amount_cents,
        str(charge.pk),
    )


def invoice_issue(*, org, period_start: date, period_end: date, actor: Actor | None = None):
    """Issue `org`'s offline invoice for the period (in `org`'s tenant context): the Invoice,
    or None when there is nothing to bill. Idempotent: a period already invoiced returns its
    invoice and writes nothing. Refused (409) when payments are configured."""
    if gateway.online():
        raise PaymentsConfigured(
            "Payments are configured: invoices come from Stripe, not from CredEx."
        )
    _check_period(period_start, period_end)
    number = invoice_number(org, period_start)
    with transaction.atomic():
        account_for(org)  # opened for an organization created before billing existed
        account = (
            BillingAccount.objects.select_for_update()
            .select_related("plan")
            .get(organization_id=org.pk)
        )
        existing = Invoice.objects.filter(number=number).first()
        if existing is not None:
            if (existing.period_start, existing.period_end) != (period_start, period_end):
                raise Conflict(
                    f"Invoice {number} covers another period.",
                    code="invoice_period_conflict",
                    details={
                        "period_start": existing.period_start.isoformat(),
                        "period_end": existing.period_end.isoformat(),
                    },
                )
            return existing
        seats = seat_count()
        charge_lines, pending, never_billed = _charge_lines(period_end)
        lines = _plan_lines(account, period_start, period_end, seats) + charge_lines
        if not lines:
            return None
        invoice = _write(org, number, period_start, period_end, lines)
        now = timezone.now()
        for charge in pending:
            charge.invoice = invoice
            charge.status = ChargeStatus.NOT_COLLECTED
            charge.save(update_fields=["invoice", "status"])
        for charge in never_billed:
            charge.invoice = invoice
            charge.save(update_fields=["invoice"])
        audit_record(
            org=org,
            actor=actor or ACTOR,
            action="billing.invoice_issued",
            target=invoice,
            data={
                "number": number,
                "period_start": period_start.isoformat(),
                "period_end": period_end.isoformat(),
                "total_cents": invoice.total_cents,
                "lines": len(lines),
                "seats": seats,
                "plan": f"{account.plan.code} v{account.plan.version} {account.plan.interval}",
                "charges": [str(c.pk) for c in pending + never_billed],
                "status": invoice.status,
                "issued_at": now.isoformat(),
            },
        )
    return invoice


def _write(org, number: str, start: date, end: date, lines: list[Line]) -> Invoice:
    total = sum(line.amount_cents for line in lines)
    invoice = Invoice(
        number=number,
        status=InvoiceStatus.NOT_COLLECTED,
        period_start=start,
        period_end=end,
        currency="usd",
        subtotal_cents=total,
        total_cents=total,
        amount_paid_cents=0,
        amount_due_cents=max(total, 0),
    )
    invoice.organization_id = org.pk
    try:
        with transaction.atomic():
            invoice.save(force_insert=True)
    except IntegrityError as exc:  # the account lock makes this unreachable; the constraint holds
        raise Conflict(f"Invoice {number} already exists.", code="invoice_exists") from exc
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                organization_id=org.pk,
                invoice=invoice,
                kind=line.kind,
                description=line.description[:300],
                quantity=line.quantity,
                unit_cents=line.unit_cents,
                amount_cents=line.amount_cents,
                reference=line.reference[:100],
                position=i,
            )
            for i, line in enumerate(lines)
        ]
    )
    return invoice


def invoice_downloaded(*, org, actor, invoice: Invoice) -> None:
    """Record that an invoice's PDF was downloaded (a financial document leaving CredEx)."""
    audit_record(
        org=org,
        actor=actor,
        action="billing.invoice_downloaded",
        target=invoice,
        data={"number": invoice.number, "format": "pdf"},
    )


def statement_exported(*, org, actor, start: date, end: date, fmt: str, rows: int) -> None:
    """Record that the billing statement of a period was downloaded."""
    audit_record(
        org=org,
        actor=actor,
        action="billing.statement_exported",
        target=org,
        data={"start": start.isoformat(), "end": end.isoformat(), "format": fmt, "rows": rows},
    )


def period_of_month(month: date) -> tuple[date, date]:
    """The first and last day of the calendar month of `month`."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


__all__ = [
    "invoice_downloaded",
    "invoice_issue",
    "invoice_number",
    "period_of_month",
    "statement_exported",
]
