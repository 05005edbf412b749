"""Subscriptions: the plan an organization chooses, the Stripe customer, Checkout (subscription
mode: base price item + per-seat quantity item) and the customer portal.

Offline (no STRIPE_SECRET_KEY) a plan choice is a record and Checkout and the portal answer
`payments_not_configured` (400): nothing calls out. Online every Stripe write carries an
idempotency key from our ids (billing.gateway.idempotency_key).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.services import Actor, audit_record
from billing import gateway
from billing.models import BillingAccount, BillingStatus, Interval, Plan
from billing.services.accounts import account_for, plan_current
from billing.services.seats import seat_count
from credex.errors import InvalidInput


class PaymentsNotConfigured(InvalidInput):
    code = "payments_not_configured"


def _interval(value) -> str:
    if value not in (Interval.MONTH, Interval.YEAR):
        raise InvalidInput(
            "Choose monthly or annual billing.",
            details={"interval": ["Must be 'month' or 'year'."]},
        )
    return value


def plan_choose(*, org, actor: Actor, interval: str) -> BillingAccount:
    """Switch the organization to the newest Practices plan at `interval` (monthly or annual).
    A subscription already running keeps its price until Checkout or the portal changes it."""
    interval = _interval(interval)
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(organization_id=org.pk)
        plan = plan_current(interval=interval)
        if account.plan_id == plan.pk:
            return account
        before = account.plan
        account.plan = plan
        account.updated_at = timezone.now()
        account.save(update_fields=["plan", "updated_at"])
        audit_record(
            org=org,
            actor=actor,
            action="billing.plan_changed",
            target=account,
            data={
                "from": {
                    "plan": before.code,
                    "version": before.version,
                    "interval": before.interval,
                },
                "to": {"plan": plan.code, "version": plan.version, "interval": plan.interval},
            },
        )
    return account


def _require_online():
    stripe_client = gateway.client()
    if stripe_client is None:
        raise PaymentsNotConfigured(
            "Payments are not configured on this installation: billing is recorded here, "
            "no card can be added."
        )
    return stripe_client


def _prices(stripe_client, plan: Plan) -> tuple[str, str]:
    """The plan's Stripe prices (created once per plan version, then kept on the plan)."""
    if plan.stripe_base_price_id and plan.stripe_seat_price_id:
        return plan.stripe_base_price_id, plan.stripe_seat_price_id
    ids = []
    for part, amount in (("base", plan.base_cents), ("seat", plan.seat_cents)):
        price = stripe_client.v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": amount,
                "recurring": {"interval": plan.interval},
                "lookup_key": f"credex_{plan.code}_v{plan.version}_{plan.interval}_{part}",
                "product_data": {"name": f"{plan.name} ({part})"},
            },
            options={"idempotency_key": gateway.idempotency_key("price", plan.pk, part)},
        )
        ids.append(price.id)
    Plan.objects.filter(pk=plan.pk).update(stripe_base_price_id=ids[0], stripe_seat_price_id=ids[1])
    return ids[0], ids[1]


def customer_ensure(*, org, account: BillingAccount, stripe_client) -> str:
    if account.stripe_customer_id:
        return account.stripe_customer_id
    customer = stripe_client.v1.customers.create(
        params={
            "name": org.name,
            "email": account.billing_email or None,
            "metadata": {"org_id": str(org.pk)},
        },
        options={"idempotency_key": gateway.idempotency_key("customer", org.pk)},
    )
    BillingAccount.objects.filter(pk=account.pk).update(stripe_customer_id=customer.id)
    account.stripe_customer_id = customer.id
    return customer.id


def checkout_start(*, org, actor: Actor, success_url: str, cancel_url: str) -> str:
    """A Stripe Checkout session (subscription mode) for the account's plan: the base price
    and one seat item at today's seat count; what is left of the trial stays free. Returns
    the Checkout URL. Audited."""
    stripe_client = _require_online()
    account = account_for(org)
    if account.stripe_subscription_id and account.status in (
        BillingStatus.ACTIVE,
        BillingStatus.TRIALING,
    ):
        raise InvalidInput(
            "This organization is already subscribed: change cards in the billing portal.",
            code="already_subscribed",
        )
    with gateway.stripe_call("start Checkout"):
        base_price, seat_price = _prices(stripe_client, account.plan)
        customer = customer_ensure(org=org, account=account, stripe_client=stripe_client)
        seats = seat_count()
        subscription_data: dict = {"metadata": {"org_id": str(org.pk)}}
        now = timezone.now()
        if account.status == BillingStatus.TRIALING and account.trial_ends_at > now:
            subscription_data["trial_end"] = int(account.trial_ends_at.timestamp())
        line_items = [{"price": base_price, "quantity": 1}]
        if seats:
            line_items.append({"price": seat_price, "quantity": seats})
        session = stripe_client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": customer,
                "client_reference_id": str(org.pk),
                "line_items": line_items,
                "subscription_data": subscription_data,
                "metadata": {"org_id": str(org.pk)},
                "success_url": success_url,
                "cancel_url": cancel_url,
            },
            options={
                "idempotency_key": gateway.idempotency_key(
                    "checkout", org.pk, account.plan_id, seats, now.strftime("%Y%m%d%H%M")
                )
            },
        )
    audit_record(
        org=org,
        actor=actor,
        action="billing.checkout_started",
        target=account,
        data={"plan": account.plan.code, "interval": account.plan.interval, "seats": seats},
    )
    return session.url


def portal_url(*, org, actor: Actor, return_url: str) -> str:
    """Stripe's customer portal (cards, invoice history, cancel)."""
    stripe_client = _require_online()
    account = account_for(org)
    with gateway.stripe_call("open the billing portal"):
        customer = customer_ensure(org=org, account=account, stripe_client=stripe_client)
        session = stripe_client.v1.billing_portal.sessions.create(
            params={"customer": customer, "return_url": return_url}
        )
    audit_record(org=org, actor=actor, action="billing.portal_opened", target=account, data={})
    return session.url
