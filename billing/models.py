"""The double-entry ledger: accounts, journal entries and their postings (integer cents).

Every journal entry balances to zero (a deferred constraint trigger checks it at commit), an
account's balance never goes negative unless the account allows it (a CHECK constraint), and
entries and postings are immutable (triggers refuse UPDATE and DELETE): a correction is a
reversing entry. Organizations' accounts and postings are tenant data under RLS; the
platform's accounts (fees earned, the clearing account) have no organization and are read
and written only on the platform path (`credex.tenancy.platform_path`).

Sign convention: a posting's `amount_cents` is positive for a debit and negative for a
credit; an account's `balance_cents` is kept in its normal direction (debit-normal accounts
add debits, credit-normal accounts add credits), so a seller's proceeds read as a positive
amount owed to the seller.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from credex.tenancy import TenantManager


class AccountKind(models.TextChoices):
    # Organization accounts
    EXCHANGE_DUE = "exchange_due", "Exchange purchases due"  # debit-normal: the buyer owes
    EXCHANGE_PROCEEDS = "exchange_proceeds", "Exchange proceeds"  # credit-normal: owed to seller
    # Platform accounts (organization is null)
    PLATFORM_FEES = "platform_fees", "Facilitation fees earned"  # credit-normal
    PLATFORM_CLEARING = "platform_clearing", "Clearing (collections and payouts)"  # may go negative


DEBIT_NORMAL = frozenset({AccountKind.EXCHANGE_DUE, AccountKind.PLATFORM_CLEARING})
PLATFORM_KINDS = frozenset({AccountKind.PLATFORM_FEES, AccountKind.PLATFORM_CLEARING})
MAY_GO_NEGATIVE = frozenset({AccountKind.PLATFORM_CLEARING})


class LedgerAccountManager(TenantManager):
    """Scoped like tenant data; the platform's accounts are reached only under `unscoped()`
    on the platform path (RLS shows them only there)."""


class LedgerAccount(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Null for the platform's own accounts.
    organization = models.ForeignKey(
        "credex.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    kind = models.CharField(max_length=30, choices=AccountKind.choices)
    allow_negative = models.BooleanField(default=False)
    balance_cents = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    objects = LedgerAccountManager()

    class Meta:
        base_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind"], nulls_distinct=False, name="ledger_one_account"
            ),
            models.CheckConstraint(
                condition=models.Q(allow_negative=True) | models.Q(balance_cents__gte=0),
                name="ledger_balance_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.organization_id or 'platform'})"

    @property
    def debit_normal(self) -> bool:
        return self.kind in DEBIT_NORMAL


class EntryKind(models.TextChoices):
    EXCHANGE_PURCHASE = "exchange_purchase", "Exchange purchase"
    EXCHANGE_REFUND = "exchange_refund", "Exchange refund"
    COLLECTION = "collection", "Collected from the buyer"
    PAYOUT = "payout", "Paid out to the seller"


class JournalEntry(models.Model):
    """One balanced set of postings. Global table: its RLS shows an entry to an organization
    that has a posting in it, and to the platform path."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=30, choices=EntryKind.choices)
    memo = models.CharField(max_length=300, blank=True)
    # What caused it: e.g. ("exchange.order", order id). Unique per kind, so a retried
    # purchase or refund cannot post twice.
    reference_type = models.CharField(max_length=60)
    reference_id = models.CharField(max_length=64)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "reference_type", "reference_id"], name="ledger_entry_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference_type} {self.reference_id}"


class Posting(models.Model):
    """One leg of an entry: debit (+) or credit (-) on one account, in cents."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings")
    # The account's organization, copied so RLS filters postings without a join (null for
    # platform accounts).
    organization = models.ForeignKey(
        "credex.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    amount_cents = models.BigIntegerField()
    memo = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        base_manager_name = "objects"
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="posting_org_time_idx"),
            models.Index(fields=["account", "created_at"], name="posting_account_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount_cents=0), name="posting_amount_nonzero"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount_cents:+d} on {self.account_id}"
