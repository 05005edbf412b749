"""Demo billing (synthetic, offline): each organization's account in a state worth seeing.

- Riverbend: in the last week of its trial, no card (the trial banner).
- Lakeside: past its trial and billed (monthly invoices as records).
- Summit: a payment failed four days ago (the past-due banner, dunning), through the same
  webhook handler Stripe's event takes.
- Sellers on the exchange: one payout of the available proceeds recorded.

Idempotent: a second run changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.models import BillingAccount, BillingStatus, Payout
from billing.services.accounts import account_for
from billing.services.payouts import payout_request, proceeds_available
from billing.services.webhooks import event_process
from credex.models import Membership, Organization
from credex.tenancy import tenant_context


def _owner(org) -> Membership:
    return Membership.objects.select_related("user").filter(role="owner").order_by("created_at")[0]


def _trial_last_week(org) -> None:
    account = account_for(org)
    if account.status != BillingStatus.TRIALING or account.payment_method_on_file:
        return
    now = timezone.now()
    ends = now + timedelta(days=5) - timedelta(hours=1)
    BillingAccount.objects.filter(pk=account.pk).update(
        trial_started_at=ends - timedelta(days=account.plan.trial_days), trial_ends_at=ends
    )


def _billed(org) -> BillingAccount:
    """Subscribed since its trial ended 40 days ago (offline: billing recorded, not charged)."""
    account = account_for(org)
    if account.status == BillingStatus.TRIALING:
        now = timezone.now()
        BillingAccount.objects.filter(pk=account.pk).update(
            status=BillingStatus.ACTIVE,
            trial_started_at=now - timedelta(days=54),
            trial_ends_at=now - timedelta(days=40),
            payment_method_on_file=True,
            card_brand="visa",
        )
        account.refresh_from_db()
    return account


def _payment_failed(org) -> None:
    with transaction.atomic(), tenant_context(org):
        account = _billed(org)
    created = int((timezone.now() - timedelta(days=4)).timestamp())
    event_process(
        {
            "id": f"evt_demo_failed_{org.slug}",
            "object": "event",
            "type": "invoice.payment_failed",
            "created": created,
            "data": {
                "object": {
                    "id": f"in_demo_{org.slug}_failed",
                    "object": "invoice",
                    "number": f"DEMO-{org.slug.upper()}-0001",
                    "status": "open",
                    "metadata": {"org_id": str(org.pk)},
                    "currency": "usd",
                    "subtotal": account.plan.base_cents,
                    "total": account.plan.base_cents,
                    "amount_due": account.plan.base_cents,
                    "amount_paid": 0,
                    "period_start": created - 30 * 86400,
                    "period_end": created,
                    "lines": {
                        "data": [
                            {
                                "id": f"il_demo_{org.slug}_base",
                                "description": f"{account.plan.name}: base price",
                                "amount": account.plan.base_cents,
                                "quantity": 1,
                            }
                        ]
                    },
                }
            },
        }
    )


def _payout(org) -> None:
    if Payout.objects.exists():
        return
    if proceeds_available(org) >= settings.BILLING_PAYOUT_MINIMUM_CENTS:
        payout_request(org=org, actor=_owner(org))


def seed_demo_billing() -> None:
    orgs = {o.slug: o for o in Organization.objects.all()}
    for slug, step in (("riverbend", _trial_last_week), ("lakeside", _billed)):
        if slug in orgs:
            with transaction.atomic(), tenant_context(orgs[slug]):
                step(orgs[slug])
    if "summit" in orgs:
        _payment_failed(orgs["summit"])  # the webhook path owns its transaction and scope
    for org in orgs.values():
        with transaction.atomic(), tenant_context(org):
            _payout(org)
