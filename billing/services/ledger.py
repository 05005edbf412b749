"""Ledger writes: post one balanced journal entry, reverse one.

Each leg is written in the scope of the account it moves: an organization's leg under that
organization (the caller's own scope, or `second_scope` for the other party of a trade), a
platform leg on the platform path. Postgres enforces the rest (billing/migrations/0002): the
entry balances at commit, balances stay non-negative, nothing is updated or deleted.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from billing.models import (
    MAY_GO_NEGATIVE,
    PLATFORM_KINDS,
    AccountKind,
    EntryKind,
    JournalEntry,
    LedgerAccount,
    Posting,
)
from credex.errors import Conflict
from credex.tenancy import current_org_id, platform_path, second_scope


@dataclass(frozen=True)
class Leg:
    """One posting to make: +amount debits the account, -amount credits it."""

    kind: str
    amount_cents: int
    org_id: uuid.UUID | None = None  # None for the platform's accounts
    memo: str = ""


@contextmanager
def _scope_of(org_id):
    if org_id is None:
        with platform_path():
            yield
    elif org_id == current_org_id():
        yield
    else:
        with second_scope(org_id):
            yield


def _account(org_id, kind: str) -> LedgerAccount:
    """The organization's (or platform's) account of this kind, created on first use."""
    if (org_id is None) != (kind in PLATFORM_KINDS):
        raise ValueError(
            f"{kind} is not an account of {'the platform' if org_id is None else 'an organization'}"
        )
    account = LedgerAccount.objects.filter(organization_id=org_id, kind=kind).first()
    if account is not None:
        return account
    account = LedgerAccount(kind=kind, allow_negative=kind in MAY_GO_NEGATIVE)
    account.organization_id = org_id
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:  # created concurrently: use that one
        account = LedgerAccount.objects.get(organization_id=org_id, kind=kind)
    return account


def entry_post(
    *,
    kind: str,
    reference_type: str,
    reference_id: str,
    legs: list[Leg],
    memo: str = "",
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Write one journal entry with its legs, in the caller's transaction."""
    if sum(leg.amount_cents for leg in legs) != 0:
        raise ValueError("A journal entry must balance and have at least two legs.")
    # A leg of zero moves nothing (and the database refuses a zero posting): leave it out,
    # e.g. the seller's leg of a listing given away with only the fee charged.
    legs = [leg for leg in legs if leg.amount_cents != 0]
    if len(legs) < 2:
        raise ValueError("A journal entry must balance and have at least two legs.")
    entry = JournalEntry(
        kind=kind,
        reference_type=reference_type,
        reference_id=str(reference_id),
        memo=memo,
        reverses=reverses,
    )
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
    except IntegrityError as exc:
        raise Conflict(
            "This has already been posted to the ledger.", code="already_posted"
        ) from exc
    # Legs in a fixed order (platform accounts last): concurrent entries lock the shared
    # accounts in the same order, and the platform's hot rows are held for the shortest time.
    for leg in sorted(legs, key=lambda leg: (leg.org_id is None, str(leg.org_id or ""), leg.kind)):
        with _scope_of(leg.org_id):
            account = _account(leg.org_id, leg.kind)
            posting = Posting(
                entry=entry, account=account, amount_cents=leg.amount_cents, memo=leg.memo or memo
            )
            posting.organization_id = leg.org_id
            posting.save(force_insert=True)
    return entry


def entry_reverse(*, entry: JournalEntry, kind: str, memo: str = "") -> JournalEntry:
    """A reversing entry: every posting of `entry` negated (the caller must be able to read
    the entry's postings: on the platform path or as one of its organizations)."""
    with platform_path():
        postings = list(Posting.objects.filter(entry=entry).select_related("account"))
    legs = [
        Leg(kind=p.account.kind, amount_cents=-p.amount_cents, org_id=p.organization_id)
        for p in postings
    ]
    reversal = entry_post(
        kind=kind,
        reference_type=entry.reference_type,
        reference_id=entry.reference_id,
        legs=legs,
        memo=memo or f"Reversal of {entry.get_kind_display().lower()}",
        reverses=entry,
    )
    return reversal


def trial_balance() -> dict:
    """Every account's balance and the debit/credit totals (platform path: operator only)."""
    with transaction.atomic(), platform_path():
        accounts = list(LedgerAccount.objects.order_by("organization_id", "kind"))
        debits = sum(a.balance_cents for a in accounts if a.debit_normal)
        credits = sum(a.balance_cents for a in accounts if not a.debit_normal)
    return {"accounts": accounts, "debits_cents": debits, "credits_cents": credits}


__all__ = ["AccountKind", "EntryKind", "Leg", "entry_post", "entry_reverse", "trial_balance"]
