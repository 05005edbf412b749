"""Reads: an organization's billing statement for a period, for both sides of the exchange.

- As a buyer: the exchange purchases due account (what the organization owes CredEx for what
  it bought, price plus facilitation fee): opening balance, purchases, refunds, collections
  and reversed collections, closing balance; and the charges of the period (purchases and
  the membership fee) with their state (collected, not collected, credited, ...).
- As a seller: the exchange proceeds account (what CredEx owes the organization for its
  sales, the available balance): opening balance, sales, refunds of sales, payouts, failed
  payouts reversed, closing balance. CredEx deducts no fee from the proceeds: the
  facilitation fee is charged to the buyer on top of the price.

Ledger figures come from the organization's own postings (RLS on billing_posting), in each
account's normal direction, as the balances are kept (billing/models.py). The period runs
from the start of `start` to the end of `end` (local dates, both included); the closing
balance of a period that ends today is the account's balance.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Sum
from django.utils import timezone

from billing.models import (
    DEBIT_NORMAL,
    AccountKind,
    Charge,
    ChargeKind,
    ChargeStatus,
    EntryKind,
    Posting,
)
from credex.errors import InvalidInput

MAX_DAYS = 5 * 366
SIDES = {AccountKind.EXCHANGE_DUE: "buyer", AccountKind.EXCHANGE_PROCEEDS: "seller"}
# The figure each entry kind adds to, per side.
FIGURES = {
    "buyer": {
        EntryKind.EXCHANGE_PURCHASE: "purchases",
        EntryKind.EXCHANGE_REFUND: "refunds",
        EntryKind.COLLECTION: "collected",
        EntryKind.COLLECTION_REVERSAL: "collections_reversed",
    },
    "seller": {
        EntryKind.EXCHANGE_PURCHASE: "sales",
        EntryKind.EXCHANGE_REFUND: "refunds",
        EntryKind.PAYOUT: "payouts",
        EntryKind.PAYOUT_REVERSAL: "payouts_reversed",
    },
}
CSV_COLUMNS = [
    "section",
    "date",
    "account",
    "item",
    "reference",
    "description",
    "amount_cents",
    "balance_cents",
]


@dataclass
class Row:
    """One posting: its effect on the account's balance (+ adds, - takes away) and the
    balance after it."""

    id: uuid.UUID
    created_at: datetime
    entry_kind: str
    entry_label: str
    reference: str
    memo: str
    amount_cents: int
    balance_cents: int

    @property
    def note(self) -> str:
        """The memo when it says more than the entry and its reference (for the page)."""
        parts = self.reference.split(":")
        return "" if len(parts) > 1 and parts[1] and parts[1] in self.memo else self.memo

    def as_dict(self) -> dict:
        return {
            "id": str(self.id),
            "created_at": self.created_at.isoformat(),
            "entry_kind": self.entry_kind,
            "reference": self.reference,
            "memo": self.memo,
            "amount_cents": self.amount_cents,
            "balance_cents": self.balance_cents,
        }


@dataclass
class Side:
    """One ledger account over the period. Every figure is positive: what it added to the
    balance or took away from it (`closing = opening + changes`, each with its sign)."""

    name: str  # "buyer" or "seller"
    account_label: str
    opening_cents: int = 0
    closing_cents: int = 0
    figures: dict = field(default_factory=dict)  # figure name -> cents (absolute)
    rows: list[Row] = field(default_factory=list)  # oldest first

    def figure(self, name: str) -> int:
        return self.figures.get(name, 0)

    def as_dict(self) -> dict:
        return {
            "opening_balance_cents": self.opening_cents,
            **{f"{name}_cents": self.figure(name) for name in FIGURES[self.name].values()},
            "closing_balance_cents": self.closing_cents,
            "postings": [row.as_dict() for row in self.rows],
        }


@dataclass
class Statement:
    start: date
    end: date
    buyer: Side
    seller: Side
    charges: list  # Charge rows created in the period, oldest first
    charge_totals: dict  # status -> cents

    @property
    def sides(self) -> tuple[Side, Side]:
        return self.buyer, self.seller

    @property
    def membership_fees_cents(self) -> int:
        return sum(c.amount_cents for c in self.charges if c.kind == ChargeKind.MEMBERSHIP_FEE)

    @property
    def not_collected_cents(self) -> int:
        return self.charge_totals.get(ChargeStatus.NOT_COLLECTED, 0)

    @property
    def collected_cents(self) -> int:
        return self.charge_totals.get(ChargeStatus.COLLECTED, 0)

    @property
    def is_empty(self) -> bool:
        return not (
            self.buyer.rows
            or self.seller.rows
            or self.charges
            or self.buyer.opening_cents
            or self.seller.opening_cents
        )

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "buyer": {
                **self.buyer.as_dict(),
                "charges": [_charge_dict(c) for c in self.charges],
                "charges_by_status_cents": dict(sorted(self.charge_totals.items())),
                "membership_fees_cents": self.membership_fees_cents,
            },
            "seller": self.seller.as_dict(),
        }

    def csv_rows(self):
        """Each side's opening balance, postings and closing balance, then the charges."""
        for side in (self.buyer, self.seller):
            opening = [side.name, self.start.isoformat(), side.account_label, "Opening balance"]
            yield opening + ["", "", "", side.opening_cents]
            yield from (
                [side.name, r.created_at.isoformat(), side.account_label, r.entry_label]
                + [r.reference, r.memo, r.amount_cents, r.balance_cents]
                for r in side.rows
            )
            closing = [side.name, self.end.isoformat(), side.account_label, "Closing balance"]
            yield closing + ["", "", "", side.closing_cents]
        for c in self.charges:
            yield [
                "charges",
                c.created_at.isoformat(),
                c.get_kind_display(),
                c.get_status_display(),
                c.invoice.number if c.invoice_id else "",
                c.description,
                c.amount_cents,
                "",
            ]


def _charge_dict(c: Charge) -> dict:
    return {
        "id": str(c.pk),
        "created_at": c.created_at.isoformat(),
        "kind": c.kind,
        "description": c.description,
        "amount_cents": c.amount_cents,
        "status": c.status,
        "invoice_id": str(c.invoice_id) if c.invoice_id else None,
        "invoice_number": c.invoice.number if c.invoice_id else None,
    }


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def parse_period(start_text, end_text) -> tuple[date, date]:
    """The period from `?start=&end=` (YYYY-MM-DD; default: this month up to today). Raises
    InvalidInput naming the bad field."""
    today = timezone.localdate()
    problems: dict = {}
    values = {}
    for name, text, default in (
        ("start", start_text, today.replace(day=1)),
        ("end", end_text, today),
    ):
        text = "" if text is None else str(text).strip()
        if not text:
            values[name] = default
            continue
        try:
            if len(text) != 10:
                raise ValueError(text)
            values[name] = date.fromisoformat(text)
        except ValueError:
            problems[name] = ["A date as YYYY-MM-DD, e.g. 2026-03-31."]
            continue
        if not 2000 <= values[name].year <= 2100:
            problems[name] = ["A date between 2000 and 2100."]
    if not problems and values["end"] < values["start"]:
        problems["end"] = ["The end must be on or after the start."]
    elif not problems and (values["end"] - values["start"]).days >= MAX_DAYS:
        problems["end"] = ["A statement covers at most five years."]
    if problems:
        raise InvalidInput("The statement period is not valid.", details=problems)
    return values["start"], values["end"]


def _side(kind: str, opening: int, postings: list) -> Side:
    name = SIDES[kind]
    side = Side(name=name, account_label=AccountKind(kind).label, opening_cents=opening)
    sign = 1 if kind in DEBIT_NORMAL else -1
    labels = dict(EntryKind.choices)
    balance = opening
    for p in postings:
        effect = sign * p.amount_cents
        balance += effect
        figure = FIGURES[name].get(p.entry.kind)
        if figure:
            side.figures[figure] = side.figures.get(figure, 0) + abs(effect)
        side.rows.append(
            Row(
                id=p.pk,
                created_at=p.created_at,
                entry_kind=p.entry.kind,
                entry_label=labels.get(p.entry.kind, p.entry.kind),
                reference=f"{p.entry.reference_type}:{p.entry.reference_id}",
                memo=p.memo or p.entry.memo,
                amount_cents=effect,
                balance_cents=balance,
            )
        )
    side.closing_cents = balance
    return side


def statement_for_period(*, org, start: date, end: date) -> Statement:
    """`org`'s statement for the period, in `org`'s tenant context."""
    since, until = _day_start(start), _day_start(end + timedelta(days=1))
    mine = Posting.objects.filter(organization_id=org.pk, account__kind__in=list(SIDES))
    before = dict(
        mine.filter(created_at__lt=since)
        .values("account__kind")
        .annotate(total=Sum("amount_cents"))
        .order_by()
        .values_list("account__kind", "total")
    )
    during = list(
        mine.filter(created_at__gte=since, created_at__lt=until)
        .select_related("account", "entry")
        .order_by("created_at", "id")
    )
    sides = {
        kind: _side(
            kind,
            (1 if kind in DEBIT_NORMAL else -1) * (before.get(kind) or 0),
            [p for p in during if p.account.kind == kind],
        )
        for kind in SIDES
    }
    charges = list(
        Charge.objects.filter(created_at__gte=since, created_at__lt=until)
        .select_related("invoice")
        .order_by("created_at", "id")
    )
    totals: dict = {}
    for c in charges:
        totals[c.status] = totals.get(c.status, 0) + c.amount_cents
    return Statement(
        start=start,
        end=end,
        buyer=sides[AccountKind.EXCHANGE_DUE],
        seller=sides[AccountKind.EXCHANGE_PROCEEDS],
        charges=charges,
        charge_totals=totals,
    )
