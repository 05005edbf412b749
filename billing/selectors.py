"""Reads for the billing pages and API: what the organization pays and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Sum

from billing import gateway
from billing.models import (
    BillingAccount,
    BillingStatus,
    Charge,
    ChargeStatus,
    Interval,
    Invoice,
    MembershipTier,
    Plan,
)
from billing.services.accounts import account_for, plan_current
from billing.services.dunning import grace_ends, trial_days_left
from billing.services.seats import seat_count

# The trial banner shows in the last week; it grows louder at 3 days and at the last day.
TRIAL_BANNER_DAYS = 7


@dataclass
class Summary:
    account: BillingAccount
    plan: Plan
    seats: int
    base_cents: int
    seats_cents: int
    total_cents: int
    pending_charges_cents: int
    trial_days_left: int | None
    grace_ends_at: object
    online: bool
    alternative: Plan | None = None
    alternative_total_cents: int = 0
    invoices: list = field(default_factory=list)

    def as_dict(self) -> dict:
        a = self.account
        return {
            "status": a.status,
            "plan": {
                "code": self.plan.code,
                "name": self.plan.name,
                "version": self.plan.version,
                "interval": self.plan.interval,
                "base_cents": self.plan.base_cents,
                "seat_cents": self.plan.seat_cents,
            },
            "seats": self.seats,
            "seats_billed": a.seats_billed,
            "amount_per_interval_cents": self.total_cents,
            "base_cents": self.base_cents,
            "seats_cents": self.seats_cents,
            "pending_charges_cents": self.pending_charges_cents,
            "trial_ends_at": a.trial_ends_at.isoformat(),
            "trial_days_left": self.trial_days_left,
            "payment_method_on_file": a.payment_method_on_file,
            "past_due_since": a.past_due_since.isoformat() if a.past_due_since else None,
            "grace_ends_at": self.grace_ends_at.isoformat() if self.grace_ends_at else None,
            "read_only_since": a.read_only_since.isoformat() if a.read_only_since else None,
            "charge_mode": a.charge_mode,
            "payout_schedule": a.payout_schedule,
            "payments_configured": self.online,
        }


def billing_summary(org) -> Summary:
    """In `org`'s tenant context."""
    account = account_for(org)
    plan = account.plan
    seats = seat_count()
    seats_cents = seats * plan.seat_cents
    pending = (
        Charge.objects.filter(status=ChargeStatus.PENDING).aggregate(s=Sum("amount_cents"))["s"]
        or 0
    )
    other = Interval.YEAR if plan.interval == Interval.MONTH else Interval.MONTH
    try:
        alternative = plan_current(code=plan.code, interval=other)
    except Exception:  # noqa: BLE001 — no such plan: nothing to compare
        alternative = None
    return Summary(
        account=account,
        plan=plan,
        seats=seats,
        base_cents=plan.base_cents,
        seats_cents=seats_cents,
        total_cents=plan.base_cents + seats_cents,
        pending_charges_cents=pending,
        trial_days_left=trial_days_left(account),
        grace_ends_at=grace_ends(account) if account.status == BillingStatus.PAST_DUE else None,
        online=gateway.online(),
        alternative=alternative,
        alternative_total_cents=(
            alternative.base_cents + seats * alternative.seat_cents if alternative else 0
        ),
        invoices=list(Invoice.objects.order_by("-issued_at")[:12]),
    )


@dataclass
class MembershipFee:
    tier: MembershipTier | None  # None: no tiers are defined
    clinicians: int
    current_tier: MembershipTier | None  # what the account was last charged at
    paid_through: object  # a date, or None


def membership_tier_for(clinicians: int) -> MembershipTier | None:
    """The active membership tier (newest version) for a number of clinicians; below the
    lowest tier's minimum (no clinicians yet) the lowest tier."""
    tiers = list(MembershipTier.objects.filter(active=True).order_by("-version", "min_clinicians"))
    if not tiers:
        return None
    newest = [t for t in tiers if t.version == tiers[0].version]
    # The highest tier the count reaches (tiers are contiguous ranges; a gap in the data
    # falls to the tier below it).
    reached = [t for t in newest if t.min_clinicians <= clinicians]
    return reached[-1] if reached else newest[0]


def membership_fee_for(org) -> MembershipFee:
    """The organization's exchange membership tier by the clinicians it manages (its seats:
    active providers, and applicants from their first verification), in `org`'s context."""
    account = account_for(org)
    clinicians = seat_count()
    return MembershipFee(
        tier=membership_tier_for(clinicians),
        clinicians=clinicians,
        current_tier=account.membership_tier,
        paid_through=account.membership_paid_through,
    )


def invoice_for(invoice_id) -> Invoice | None:
    """One of the active organization's invoices with its lines, or None (not its own, or no
    such invoice: the caller answers 404 either way)."""
    return Invoice.objects.prefetch_related("lines").filter(pk=invoice_id).first()


def banner_for(org, *, sees_billing: bool) -> dict | None:
    """The billing banner of a page, or None: read-only (everyone), past due and the last
    week of the trial (members who see billing). One query."""
    if org.writes_paused_at is not None:
        return {"level": "danger", "kind": "read_only"}
    if not sees_billing:
        return None
    account = (
        BillingAccount.objects.filter(organization_id=org.pk)
        .only("status", "trial_ends_at", "past_due_since", "payment_method_on_file")
        .first()
    )
    if account is None:
        return None
    if account.status == BillingStatus.PAST_DUE:
        return {"level": "danger", "kind": "past_due", "grace_ends_at": grace_ends(account)}
    days = trial_days_left(account)
    if days is not None and days <= TRIAL_BANNER_DAYS and not account.payment_method_on_file:
        return {
            "level": "warning" if days > 3 else "danger",
            "kind": "trial",
            "days": days,
            "ends_at": account.trial_ends_at,
        }
    return None


# --- the public pricing page ----------------------------------------------------------------


@dataclass
class Pricing:
    monthly: Plan | None
    annual: Plan | None
    tiers: list
    fee: object  # billing.hooks.FeeRule, or None when no app answers
    trial_days: int

    @property
    def annual_seat_per_month_cents(self) -> int | None:
        """The annual plan's seat price per month, when it divides into whole cents."""
        if self.annual is None or self.annual.seat_cents % 12:
            return None
        return self.annual.seat_cents // 12

    @property
    def fee_percent(self) -> str:
        """The fee's basis points as a percentage in words ("10", "2.5")."""
        if self.fee is None:
            return ""
        whole, part = divmod(self.fee.basis_points, 100)
        return f"{whole}" if not part else f"{whole}.{part:02d}".rstrip("0")


def pricing() -> Pricing:
    """What the public pricing page shows, read from the data: the current (newest active)
    Practices plan versions, the current membership tiers and the exchange's fee rule."""
    from billing.hooks import exchange_fee_rule
    from billing.models import MembershipTier
    from credex.errors import NotFound

    plans = {}
    for interval in (Interval.MONTH, Interval.YEAR):
        try:
            plans[interval] = plan_current(interval=interval)
        except NotFound:
            plans[interval] = None
    active = MembershipTier.objects.filter(active=True)
    version = active.order_by("-version").values_list("version", flat=True).first()
    tiers = list(active.filter(version=version).order_by("min_clinicians")) if version else []
    fees = exchange_fee_rule.collect()
    shown = plans[Interval.MONTH] or plans[Interval.YEAR]
    return Pricing(
        monthly=plans[Interval.MONTH],
        annual=plans[Interval.YEAR],
        tiers=tiers,
        fee=fees[0] if fees else None,
        trial_days=shown.trial_days if shown else 14,
    )
