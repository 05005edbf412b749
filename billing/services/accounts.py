"""An organization's billing account: opened with the organization (the 14-day trial of the
Practices plan, no card and no Stripe call), its plan, and read-only on and off.

Every change is audited in the organization's chain (`billing.*` actions).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import Actor, audit_record
from billing.models import BillingAccount, BillingStatus, Interval, Plan
from credex import services as credex_services
from credex.errors import NotFound

DEFAULT_PLAN = "practices"


def plan_current(code: str = DEFAULT_PLAN, interval: str = Interval.MONTH) -> Plan:
    """The newest active version of a plan at an interval (what a new subscription gets)."""
    plan = (
        Plan.objects.filter(code=code, interval=interval, active=True).order_by("-version").first()
    )
    if plan is None:
        raise NotFound("No such plan.", details={"plan": code, "interval": interval})
    return plan


def account_open(*, org, actor: Actor | None = None) -> BillingAccount:
    """Open `org`'s billing account with the trial (in `org`'s tenant context). Idempotent."""
    existing = BillingAccount.objects.filter(organization_id=org.pk).first()
    if existing is not None:
        return existing
    plan = plan_current()
    started = timezone.now()
    account = BillingAccount(
        plan=plan,
        status=BillingStatus.TRIALING,
        trial_started_at=started,
        trial_ends_at=started + timedelta(days=plan.trial_days),
    )
    account.organization_id = org.pk
    try:
        with transaction.atomic():
            account.save(force_insert=True)
    except IntegrityError:  # opened concurrently
        return BillingAccount.objects.get(organization_id=org.pk)
    audit_record(
        org=org,
        actor=actor or Actor.system("billing"),
        action="billing.trial_started",
        target=account,
        data={
            "plan": plan.code,
            "plan_version": plan.version,
            "interval": plan.interval,
            "trial_ends_at": account.trial_ends_at.isoformat(),
        },
    )
    return account


def account_for(org) -> BillingAccount:
    """`org`'s billing account (opened on first use for an organization created before
    billing existed). Call inside `org`'s tenant context."""
    account = BillingAccount.objects.select_related("plan").filter(organization_id=org.pk).first()
    if account is None:
        account = account_open(org=org)
    return account


def writes_pause(*, org, account: BillingAccount, reason: str, actor: Actor | None = None) -> bool:
    """The organization becomes read-only for billing (audited once, when it changes)."""
    if not credex_services.organization_pause_writes(org=org, reason=reason):
        return False
    account.status = BillingStatus.READ_ONLY
    account.read_only_since = org.writes_paused_at
    account.updated_at = timezone.now()
    account.save(update_fields=["status", "read_only_since", "updated_at"])
    audit_record(
        org=org,
        actor=actor or Actor.system("billing"),
        action="billing.read_only_on",
        target=account,
        data={"reason": reason},
    )
    return True


def writes_resume(
    *, org, account: BillingAccount, status: str, reason: str, actor: Actor | None = None
) -> bool:
    """Writes restored at once (payment went through): audited once, when it changes."""
    changed = credex_services.organization_resume_writes(org=org)
    account.status = status
    account.read_only_since = None
    account.updated_at = timezone.now()
    account.save(update_fields=["status", "read_only_since", "updated_at"])
    if changed:
        audit_record(
            org=org,
            actor=actor or Actor.system("billing"),
            action="billing.read_only_off",
            target=account,
            data={"reason": reason, "status": status},
        )
    return changed


def account_settings_update(
    *, org, actor: Actor, charge_mode: str, payout_schedule: str, billing_email: str
) -> BillingAccount:
    """How exchange purchases are charged, when payouts go out, where invoices are sent."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from billing.models import ChargeMode, PayoutSchedule

    errors: dict = {}
    if charge_mode not in ChargeMode.values:
        errors["charge_mode"] = ["Choose 'invoice' or 'immediate'."]
    if payout_schedule not in PayoutSchedule.values:
        errors["payout_schedule"] = ["Choose 'weekly', 'monthly' or 'manual'."]
    billing_email = (billing_email or "").strip()
    if billing_email:
        try:
            validate_email(billing_email)
        except ValidationError:
            errors["billing_email"] = ["Enter a valid e-mail address."]
        if len(billing_email) > 254:
            errors["billing_email"] = ["At most 254 characters."]
    if errors:
        from credex.errors import InvalidInput

        raise InvalidInput("Some billing settings are not valid.", details=errors)
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(organization_id=org.pk)
        changed = {
            name: {"from": getattr(account, name), "to": value}
            for name, value in (
                ("charge_mode", charge_mode),
                ("payout_schedule", payout_schedule),
                ("billing_email", billing_email),
            )
            if getattr(account, name) != value
        }
        if not changed:
            return account
        for name, value in changed.items():
            setattr(account, name, value["to"])
        account.updated_at = timezone.now()
        account.save(update_fields=[*changed, "updated_at"])
        audit_record(
            org=org,
            actor=actor,
            action="billing.settings_changed",
            target=account,
            data={"changed": changed},
        )
    return account
