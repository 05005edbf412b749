"""The member's exchange statement: every posting on its ledger accounts, newest first, with
the account's running balance after each, the order it belongs to and the other party.

Postings are the organization's own rows (RLS on billing_posting). Amounts are shown in the
account's normal direction, as the balances are kept (billing/models.py): a sale adds to
"proceeds" (what CredEx owes the seller), a purchase adds to "purchases due" (what the buyer
owes CredEx); a refund takes them away again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from billing.models import (
    DEBIT_NORMAL,
    AccountKind,
    EntryKind,
    JournalEntry,
    LedgerAccount,
    Posting,
)
from credex.tenancy import unscoped
from exchange.models import Order
from exchange.selectors.aftertrade import member_names

CSV_COLUMNS = [
    "date",
    "account",
    "entry",
    "order",
    "clinician",
    "verification",
    "counterparty",
    "memo",
    "amount_cents",
    "balance_cents",
]


@dataclass
class StatementRow:
    posting_id: uuid.UUID
    created_at: datetime
    account_kind: str
    account_label: str
    entry_kind: str
    entry_label: str
    memo: str
    amount_cents: int  # effect on the account's balance (+ adds, - takes away)
    balance_cents: int  # the account's balance after this posting
    order_id: uuid.UUID | None = None
    clinician: str = ""
    verification: str = ""
    counterparty: str = ""

    def as_dict(self) -> dict:
        return {
            "id": str(self.posting_id),
            "created_at": self.created_at.isoformat(),
            "account": self.account_kind,
            "entry_kind": self.entry_kind,
            "memo": self.memo,
            "amount_cents": self.amount_cents,
            "balance_cents": self.balance_cents,
            "order_id": str(self.order_id) if self.order_id else None,
            "clinician": self.clinician,
            "verification": self.verification,
            "counterparty": self.counterparty,
        }

    def csv_values(self) -> list:
        return [
            self.created_at.isoformat(),
            self.account_label,
            self.entry_label,
            str(self.order_id or ""),
            self.clinician,
            self.verification,
            self.counterparty,
            self.memo,
            self.amount_cents,
            self.balance_cents,
        ]


@dataclass
class Statement:
    rows: list[StatementRow]  # newest first
    proceeds_cents: int  # what CredEx owes the organization for its sales
    purchases_due_cents: int  # what the organization owes CredEx for its purchases

    def as_dict(self) -> dict:
        return {
            "proceeds_balance_cents": self.proceeds_cents,
            "purchases_due_cents": self.purchases_due_cents,
            "postings": [row.as_dict() for row in self.rows],
        }


def _orders_by_entry(org_id, entries: dict) -> dict:
    """{journal entry id: Order} for the entries' orders that the organization is party to."""
    entry_ids = set(entries)
    # A refund's entry reverses the purchase's; the order names the purchase's.
    entry_ids |= {e["reverses_id"] for e in entries.values() if e["reverses_id"]}
    referenced = set()
    for e in entries.values():
        try:
            referenced.add(uuid.UUID(e["reference_id"]))
        except (TypeError, ValueError):
            continue
    wanted = Q(journal_entry_id__in=entry_ids) | Q(pk__in=referenced)
    with unscoped():  # the seller reads its sales (RLS admits the seller's and buyer's rows)
        orders = list(
            Order.objects.filter(Q(organization_id=org_id) | Q(seller_organization_id=org_id))
            .filter(wanted)
            .only(
                "id",
                "organization_id",
                "seller_name",
                "journal_entry_id",
                "clinician_name",
                "npi",
                "source",
                "source_state",
            )
        )
    by_journal = {o.journal_entry_id: o for o in orders if o.journal_entry_id}
    by_id = {o.pk: o for o in orders}
    found = {}
    for entry_id, e in entries.items():
        order = by_journal.get(entry_id) or by_journal.get(e["reverses_id"])
        if order is None:
            try:
                order = by_id.get(uuid.UUID(e["reference_id"]))
            except (TypeError, ValueError):
                order = None
        if order is not None:
            found[entry_id] = order
    return found


def statement_for(*, org, limit: int | None = None) -> Statement:
    """Every posting of the organization's ledger accounts, newest first, with running
    balances per account (`limit`: only the newest rows, balances still exact)."""
    org_id = getattr(org, "pk", org)
    accounts = {a.pk: a for a in LedgerAccount.objects.filter(organization_id=org_id)}
    postings = list(
        Posting.objects.filter(organization_id=org_id)
        .order_by("created_at", "id")
        .values("id", "entry_id", "account_id", "amount_cents", "memo", "created_at")
    )
    entries = {
        e["id"]: e
        for e in JournalEntry.objects.filter(id__in={p["entry_id"] for p in postings}).values(
            "id", "kind", "reverses_id", "reference_type", "reference_id", "memo"
        )
    }
    orders = _orders_by_entry(org_id, entries)
    names = member_names(o.organization_id for o in orders.values() if o.organization_id != org_id)
    entry_labels = dict(EntryKind.choices)
    account_labels = dict(AccountKind.choices)
    running: dict = {}
    rows = []
    for p in postings:
        account = accounts[p["account_id"]]
        effect = p["amount_cents"] if account.kind in DEBIT_NORMAL else -p["amount_cents"]
        running[account.pk] = running.get(account.pk, 0) + effect
        entry = entries.get(p["entry_id"], {})
        order = orders.get(p["entry_id"])
        row = StatementRow(
            posting_id=p["id"],
            created_at=p["created_at"],
            account_kind=account.kind,
            account_label=account_labels.get(account.kind, account.kind),
            entry_kind=entry.get("kind", ""),
            entry_label=entry_labels.get(entry.get("kind", ""), entry.get("kind", "")),
            memo=p["memo"] or entry.get("memo", ""),
            amount_cents=effect,
            balance_cents=running[account.pk],
        )
        if order is not None:
            row.order_id = order.pk
            row.clinician = f"{order.clinician_name} (NPI {order.npi})"
            row.verification = order.get_source_display() + (
                f" {order.source_state}" if order.source_state else ""
            )
            row.counterparty = (
                order.seller_name
                if order.organization_id == org_id
                else names.get(order.organization_id, "A member")
            )
        rows.append(row)
    rows.reverse()
    if limit is not None:
        rows = rows[:limit]
    balances = {a.kind: a.balance_cents for a in accounts.values()}
    return Statement(
        rows=rows,
        proceeds_cents=balances.get(AccountKind.EXCHANGE_PROCEEDS, 0),
        purchases_due_cents=balances.get(AccountKind.EXCHANGE_DUE, 0),
    )
