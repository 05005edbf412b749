"""The billing lifecycle: trial end, dunning after a failed payment, read-only and back.

- Trial: an organization in its 14-day trial with no payment method when the trial ends
  becomes read-only (never deleted). Banners at 7, 3 and 1 days left (billing/banners.py).
- Past due: `invoice.payment_failed` marks the account past due; owners and admins get
  dunning e-mails on day 0, 3 and 7 after the first failure (one DunningNotice per invoice and
  day, so a re-run sends none twice); after BILLING_GRACE_DAYS the organization becomes
  read-only. A payment (invoice.paid, an active subscription) restores writes at once.
- `lifecycle_check(org)` is the daily job's per-organization step (billing/tasks/lifecycle.py).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from audit.services import Actor, audit_record
from billing.models import BillingAccount, BillingStatus, DunningNotice, Invoice
from billing.services.accounts import account_for, writes_pause
from billing.services.notify import billing_notify

ACTOR = Actor.system("billing-lifecycle")

TRIAL_ENDED = "the free trial ended without a payment method"
PAST_DUE = "a payment is past due beyond the grace period"


def grace_ends(account: BillingAccount):
    if account.past_due_since is None:
        return None
    return account.past_due_since + timedelta(days=settings.BILLING_GRACE_DAYS)


def _failed_invoice(account: BillingAccount) -> Invoice | None:
    return (
        Invoice.objects.filter(failed_at__isnull=False, paid_at__isnull=True)
        .order_by("-failed_at")
        .first()
    )


def dunning_send_due(*, org, account: BillingAccount, now=None) -> list[int]:
    """Send the dunning e-mail that is due now (the latest of day 0/3/7 not yet sent for the
    failed invoice); returns the days sent."""
    now = now or timezone.now()
    if account.past_due_since is None:
        return []
    invoice = _failed_invoice(account)
    if invoice is None:
        return []
    elapsed = (now - account.past_due_since).days
    due = [d for d in settings.BILLING_DUNNING_DAYS if d <= elapsed]
    if not due:
        return []
    sent_days = set(DunningNotice.objects.filter(invoice=invoice).values_list("day", flat=True))
    day = max(due)
    if day in sent_days or any(d > day for d in sent_days):
        return []
    recipients = billing_notify(
        org=org,
        subject=f"Payment failed for {org.name} on CredEx"
        if day == 0
        else f"Reminder: a CredEx payment for {org.name} is past due",
        template="email/billing_payment_failed.txt",
        context={
            "day": day,
            "amount_cents": invoice.amount_due_cents,
            "grace_ends": grace_ends(account),
        },
    )
    notice = DunningNotice(invoice=invoice, day=day, recipients=recipients)
    notice.save(force_insert=True)
    audit_record(
        org=org,
        actor=ACTOR,
        action="billing.dunning_sent",
        target=invoice,
        data={"day": day, "recipients": recipients},
    )
    return [day]


def lifecycle_check(*, org, now=None) -> str:
    """The daily step for one organization: trial end, dunning, grace end. Idempotent."""
    now = now or timezone.now()
    account = BillingAccount.objects.select_for_update().get(pk=account_for(org).pk)
    if account.status == BillingStatus.TRIALING:
        if account.trial_ends_at <= now and not account.payment_method_on_file:
            if writes_pause(org=org, account=account, reason=TRIAL_ENDED, actor=ACTOR):
                audit_record(
                    org=org,
                    actor=ACTOR,
                    action="billing.trial_ended",
                    target=account,
                    data={"trial_ends_at": account.trial_ends_at.isoformat()},
                )
                _tell_read_only(org, TRIAL_ENDED)
            return "read_only"
        return "trialing"
    if account.status == BillingStatus.PAST_DUE:
        dunning_send_due(org=org, account=account, now=now)
        ends = grace_ends(account)
        if ends is not None and ends <= now:
            if writes_pause(org=org, account=account, reason=PAST_DUE, actor=ACTOR):
                _tell_read_only(org, PAST_DUE)
            return "read_only"
        return "past_due"
    return account.status


def _tell_read_only(org, reason: str) -> None:
    billing_notify(
        org=org,
        subject=f"{org.name} is read-only on CredEx",
        template="email/billing_read_only.txt",
        context={"reason": reason},
    )


def trial_days_left(account: BillingAccount, now=None) -> int | None:
    if account.status != BillingStatus.TRIALING:
        return None
    now = now or timezone.now()
    seconds = (account.trial_ends_at - now).total_seconds()
    return max(0, int(-(-seconds // 86400)))  # ceil: 6.2 days left reads "7 days"
