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

from credex.tenancy import TenantManager, TenantModel


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
    COLLECTION_REVERSAL = "collection_reversal", "Collection reversed"
    PAYOUT = "payout", "Paid out to the seller"
    PAYOUT_REVERSAL = "payout_reversal", "Payout failed and reversed"


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


# --- Plans and subscriptions -----------------------------------------------------------------
#
# Plans and membership tiers are data (seeded by billing/migrations/0004, edited in the Django
# admin). A price change is a new version: an existing subscription keeps the version it chose.


class Interval(models.TextChoices):
    MONTH = "month", "Monthly"
    YEAR = "year", "Yearly"


class Plan(models.Model):
    """One priced version of a plan at one billing interval. Global reference data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=40)  # e.g. "practices"
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=100)
    interval = models.CharField(max_length=5, choices=Interval.choices)
    base_cents = models.PositiveIntegerField(help_text="Base price per interval, in cents.")
    seat_cents = models.PositiveIntegerField(
        help_text="Price of one provider seat per interval, in cents."
    )
    trial_days = models.PositiveSmallIntegerField(default=14)
    # Offered to new subscriptions; an older version stays for those who have it.
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=300, blank=True)
    # Stripe Price ids for the base and the per-seat item (production: set in the admin).
    stripe_base_price_id = models.CharField(max_length=100, blank=True)
    stripe_seat_price_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code", "interval", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "interval", "version"], name="billing_plan_version_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_interval_display().lower()}, v{self.version})"


class MembershipTier(models.Model):
    """The exchange membership's yearly fee for organizations managing a number of clinicians
    (from min_clinicians to max_clinicians inclusive; no max = and up). Global reference data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=60)
    min_clinicians = models.PositiveIntegerField()
    max_clinicians = models.PositiveIntegerField(null=True, blank=True)
    annual_fee_cents = models.PositiveIntegerField()
    active = models.BooleanField(default=True)
    stripe_price_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["version", "min_clinicians"]
        constraints = [
            models.UniqueConstraint(fields=["version", "min_clinicians"], name="billing_tier_once")
        ]

    def __str__(self) -> str:
        return self.name


class BillingStatus(models.TextChoices):
    TRIALING = "trialing", "Free trial"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    READ_ONLY = "read_only", "Read-only (billing)"
    CANCELED = "canceled", "Canceled"


class ChargeMode(models.TextChoices):
    INVOICE = "invoice", "Add to the next invoice"
    IMMEDIATE = "immediate", "Charge at once"


class PayoutSchedule(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    MANUAL = "manual", "Only when requested"


class BillingAccount(TenantModel):
    """An organization's billing: its plan, trial, Stripe customer and subscription, seats,
    dunning state and exchange money settings. One per organization, created with it."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=12, choices=BillingStatus.choices, default=BillingStatus.TRIALING
    )
    trial_started_at = models.DateTimeField(default=timezone.now)
    trial_ends_at = models.DateTimeField()
    billing_email = models.EmailField(blank=True)
    # Stripe (blank offline)
    stripe_customer_id = models.CharField(max_length=100, blank=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    stripe_base_item_id = models.CharField(max_length=100, blank=True)
    stripe_seat_item_id = models.CharField(max_length=100, blank=True)
    stripe_subscription_status = models.CharField(max_length=30, blank=True)
    # The Stripe `created` (or event time) of the subscription state last applied: an older
    # event arriving later is not applied over a newer state.
    stripe_state_at = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    payment_method_on_file = models.BooleanField(default=False)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    # Seats: the count last computed and the quantity last sent to Stripe
    seats = models.PositiveIntegerField(default=0)
    seats_billed = models.PositiveIntegerField(default=0)
    seats_counted_at = models.DateTimeField(null=True, blank=True)
    # Dunning
    past_due_since = models.DateTimeField(null=True, blank=True)
    read_only_since = models.DateTimeField(null=True, blank=True)
    # Exchange money
    charge_mode = models.CharField(
        max_length=10, choices=ChargeMode.choices, default=ChargeMode.INVOICE
    )
    payout_schedule = models.CharField(
        max_length=10, choices=PayoutSchedule.choices, default=PayoutSchedule.MONTHLY
    )
    stripe_connect_account_id = models.CharField(max_length=100, blank=True)
    payouts_enabled = models.BooleanField(default=False)
    # The Stripe `created` of the Connect account state last applied (account.updated): an
    # older event arriving later does not undo a newer state.
    connect_state_at = models.DateTimeField(null=True, blank=True)
    membership_tier = models.ForeignKey(
        MembershipTier, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    membership_paid_through = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="billing_account_one_per_org")
        ]
        indexes = [
            models.Index(fields=["stripe_customer_id"], name="billing_acct_customer_idx"),
            models.Index(fields=["status", "trial_ends_at"], name="billing_acct_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Billing of {self.organization_id}"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    UNCOLLECTIBLE = "uncollectible", "Uncollectible"
    VOID = "void", "Void"
    NOT_COLLECTED = "not_collected", "Not collected (payments not configured)"


class Invoice(TenantModel):
    """An invoice as a record: mirrored from Stripe (`stripe_invoice_id`) or, offline, issued
    by CredEx itself with the same lines."""

    number = models.CharField(max_length=40)
    status = models.CharField(max_length=15, choices=InvoiceStatus.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    currency = models.CharField(max_length=3, default="usd")
    subtotal_cents = models.BigIntegerField(default=0)
    total_cents = models.BigIntegerField(default=0)
    amount_paid_cents = models.BigIntegerField(default=0)
    amount_due_cents = models.BigIntegerField(default=0)
    stripe_invoice_id = models.CharField(max_length=100, null=True, blank=True)
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    # The Stripe `created` of the invoice state last applied (out-of-order events)
    stripe_state_at = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta(TenantModel.Meta):
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_invoice_id"], name="billing_invoice_stripe_once"
            ),
            models.UniqueConstraint(
                fields=["organization", "number"], name="billing_invoice_number_once"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class LineKind(models.TextChoices):
    BASE = "base", "Plan base price"
    SEATS = "seats", "Provider seats"
    PRORATION = "proration", "Seat change (prorated)"
    EXCHANGE_PURCHASE = "exchange_purchase", "Exchange purchase"
    MEMBERSHIP_FEE = "membership_fee", "Exchange membership fee"
    CREDIT = "credit", "Credit"
    OTHER = "other", "Other"


class InvoiceLine(TenantModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=20, choices=LineKind.choices)
    description = models.CharField(max_length=300)
    quantity = models.IntegerField(default=1)
    unit_cents = models.BigIntegerField(default=0)
    amount_cents = models.BigIntegerField()
    reference = models.CharField(max_length=100, blank=True)  # e.g. a charge id
    position = models.PositiveSmallIntegerField(default=0)

    class Meta(TenantModel.Meta):
        ordering = ["position", "id"]


class ChargeKind(models.TextChoices):
    EXCHANGE_PURCHASE = "exchange_purchase", "Exchange purchase"
    MEMBERSHIP_FEE = "membership_fee", "Exchange membership fee"


class ChargeStatus(models.TextChoices):
    PENDING = "pending", "Due on the next invoice"
    INVOICED = "invoiced", "On an invoice"
    COLLECTED = "collected", "Collected"
    NOT_COLLECTED = "not_collected", "Not collected (payments not configured)"
    FAILED = "failed", "Payment failed"
    REFUNDED = "refunded", "Refunded"
    CREDITED = "credited", "Credited on the next invoice"


class Charge(TenantModel):
    """Money the organization owes outside its subscription: an exchange purchase (price plus
    facilitation fee, from the ledger entry) or the yearly exchange membership fee. Becomes an
    invoice item on the next invoice, or an immediate charge (BillingAccount.charge_mode)."""

    kind = models.CharField(max_length=20, choices=ChargeKind.choices)
    description = models.CharField(max_length=300)
    amount_cents = models.BigIntegerField()
    status = models.CharField(
        max_length=15, choices=ChargeStatus.choices, default=ChargeStatus.PENDING
    )
    # What it charges for: ("exchange.order", order id) or ("billing.membership", "<org>:<year>")
    reference_type = models.CharField(max_length=60)
    reference_id = models.CharField(max_length=64)
    journal_entry = models.ForeignKey(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="charges"
    )
    stripe_invoice_item_id = models.CharField(max_length=100, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=100, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "reference_type", "reference_id"], name="billing_charge_once"
            )
        ]


class PayoutStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed (reversed; will retry)"
    RECORDED = "recorded", "Recorded (payments not configured)"
    CANCELED = "canceled", "Canceled"


class Payout(TenantModel):
    """The seller's available exchange proceeds paid out as one Stripe Transfer
    (transfer_group per payout; idempotency key from the payout id and attempt)."""

    amount_cents = models.BigIntegerField()
    status = models.CharField(
        max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    requested_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scheduled = models.BooleanField(default=False)
    # The pay day (UTC) of a scheduled payout: unique per organization, so the daily run
    # repeated on the same day cannot pay twice. Null for payouts on request.
    scheduled_for = models.DateField(null=True, blank=True)
    transfer_group = models.CharField(max_length=100)
    stripe_transfer_id = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    journal_entry = models.ForeignKey(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="payout_positive"),
            models.UniqueConstraint(
                fields=["organization", "scheduled_for"], name="payout_scheduled_once"
            ),
        ]


class StripeEvent(models.Model):
    """Each Stripe webhook event processed once: the row is written in the same transaction as
    the event's effect, so a duplicate delivery finds it (unique event_id) and does nothing.
    Global table (events arrive before an organization is known): RLS admits the platform path
    and the organization it concerns."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=100, blank=True)
    organization = models.ForeignKey(
        "credex.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    stripe_created = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class DunningNotice(TenantModel):
    """One dunning e-mail sent for a failed invoice (day 0, 3 or 7 after the failure)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="dunning")
    day = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["invoice", "day"], name="billing_dunning_once")
        ]


class SeatSync(TenantModel):
    """A seat count sent to (or checked against) Stripe: the debounced sync after a roster
    change, or the nightly reconciliation (drift = Stripe's quantity differed and was fixed)."""

    class Source(models.TextChoices):
        SYNC = "sync", "Roster change"
        NIGHTLY = "nightly", "Nightly reconciliation"

    source = models.CharField(max_length=10, choices=Source.choices)
    seats = models.PositiveIntegerField()
    previous_seats = models.PositiveIntegerField()
    stripe_quantity_before = models.PositiveIntegerField(null=True, blank=True)
    drift = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]


# --- The independent coordinator's rate card ---------------------------------------------------
#
# An independent coordinator is one person with the coordinator role in several client
# organizations (DESIGN.md); they have no organization of their own. Their rate card is theirs,
# not any client's: a global table keyed by the person, whose RLS admits only its owner
# (`app.current_user`, set by every request of a signed-in user). The client a row overrides is
# named, not owned: no client sees another client's rates, or the default card.

# The highest rate per unit: $10,000.00. A rate is a price per item of work, not a salary.
RATE_MAX_CENTS = 1_000_000


class CoordinatorRate(models.Model):
    """One rate card of a coordinator: `client` null is the default card; a row with a client
    replaces the default for that client organization. Rates are integer cents per unit."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        "credex.User", on_delete=models.CASCADE, related_name="+", editable=False
    )
    client = models.ForeignKey(
        "credex.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        editable=False,
    )
    provider_month_cents = models.PositiveIntegerField(
        default=0, help_text="Per provider managed, per month."
    )
    verification_cents = models.PositiveIntegerField(
        default=0, help_text="Per primary-source verification recorded."
    )
    package_cents = models.PositiveIntegerField(
        default=0, help_text="Per credential package built."
    )
    enrollment_cents = models.PositiveIntegerField(
        default=0, help_text="Per payer enrollment submitted (or resubmitted)."
    )
    recredentialing_cents = models.PositiveIntegerField(
        default=0, help_text="Per re-credentialing completed (the committee's decision)."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    RATE_FIELDS = (
        "provider_month_cents",
        "verification_cents",
        "package_cents",
        "enrollment_cents",
        "recredentialing_cents",
    )

    class Meta:
        ordering = ["owner", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "client"], nulls_distinct=False, name="coordinator_rate_once"
            ),
            models.CheckConstraint(
                condition=models.Q(provider_month_cents__lte=RATE_MAX_CENTS)
                & models.Q(verification_cents__lte=RATE_MAX_CENTS)
                & models.Q(package_cents__lte=RATE_MAX_CENTS)
                & models.Q(enrollment_cents__lte=RATE_MAX_CENTS)
                & models.Q(recredentialing_cents__lte=RATE_MAX_CENTS),
                name="coordinator_rate_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"Rates of {self.owner_id} ({self.client_id or 'default'})"

    def rates(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.RATE_FIELDS}
