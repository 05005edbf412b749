"""Stripe webhook events, each processed once.

`event_receive(payload, signature)` checks the signature on the raw body
(`stripe.Webhook.construct_event`) and hands the event to `event_process`, which finds the
organization it concerns and, in ONE transaction in that organization's scope, records the
event id (unique: a duplicate or concurrent second delivery finds it and does nothing) with
its effect and its audit event. Events may arrive twice and out of order: subscription and
invoice states carry the Stripe `created` time of the state last applied, and an older state
never overwrites a newer one; a paid invoice never goes back to open.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import Actor, audit_record
from billing.models import (
    BillingAccount,
    BillingStatus,
    Charge,
    ChargeStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    StripeEvent,
)
from billing.services import dunning
from billing.services.accounts import writes_pause, writes_resume
from billing.services.charges import charges_collected
from billing.services.notify import billing_notify
from credex.errors import InvalidInput
from credex.models import Organization
from credex.tenancy import platform_path, tenant_context, unscoped

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 512 * 1024
ACTOR = Actor.system("stripe-webhook")

# Stripe subscription status -> ours
SUBSCRIPTION_STATUS = {
    "active": BillingStatus.ACTIVE,
    "trialing": BillingStatus.TRIALING,
    "past_due": BillingStatus.PAST_DUE,
    "unpaid": BillingStatus.PAST_DUE,
    "canceled": BillingStatus.CANCELED,
    "incomplete_expired": BillingStatus.CANCELED,
}
INVOICE_STATUS = {
    "draft": InvoiceStatus.DRAFT,
    "open": InvoiceStatus.OPEN,
    "paid": InvoiceStatus.PAID,
    "uncollectible": InvoiceStatus.UNCOLLECTIBLE,
    "void": InvoiceStatus.VOID,
}
# A final invoice state is never replaced by an earlier one, whatever the arrival order.
INVOICE_FINAL = {InvoiceStatus.PAID, InvoiceStatus.VOID}


class SignatureRefused(InvalidInput):
    code = "invalid_signature"


def event_receive(payload: bytes, signature: str) -> dict:
    """Verify and process one delivery. Raises InvalidInput (400) and changes nothing when the
    body is too large, the signature is missing or wrong, or no secret is configured."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise InvalidInput("The webhook body is too large.", code="too_large")
    # The platform's endpoint and, for sellers' account events, the Connect endpoint: Stripe
    # signs each with its own secret; both may deliver to this one URL.
    secrets = [
        secret
        for secret in (settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_CONNECT_WEBHOOK_SECRET)
        if secret
    ]
    if not secrets:
        raise SignatureRefused("Stripe webhooks are not configured on this installation.")
    if not signature:
        raise SignatureRefused("The Stripe-Signature header is missing.")
    try:
        text = payload.decode("utf-8")
        if "\x00" in text or "\\u0000" in text:
            # Stripe never sends NUL; Postgres text refuses it, so it is refused here.
            raise ValueError("NUL in the body")
        event = _construct(text, signature, secrets)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidInput("The webhook body is not a Stripe event.") from exc
    except stripe.SignatureVerificationError as exc:
        raise SignatureRefused("The Stripe signature does not match.") from exc
    return event_process(event.to_dict() if hasattr(event, "to_dict") else dict(event))


def _construct(text: str, signature: str, secrets: list[str]):
    """The event, verified with the first secret that matches (SignatureVerificationError
    when none does)."""
    for secret in secrets[:-1]:
        try:
            return stripe.Webhook.construct_event(text, signature, secret)
        except stripe.SignatureVerificationError:
            continue
    return stripe.Webhook.construct_event(text, signature, secrets[-1])


def _ts(value) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _org_for(obj: dict) -> Organization | None:
    """The organization an event's object concerns: our metadata, the Checkout reference, or
    the Stripe customer of a billing account (read on the platform path)."""
    metadata = obj.get("metadata") or {}
    candidates = [
        metadata.get("org_id"),
        obj.get("client_reference_id"),
        ((obj.get("subscription_details") or {}).get("metadata") or {}).get("org_id"),
    ]
    for candidate in candidates:
        if candidate:
            try:
                org = Organization.objects.filter(pk=uuid.UUID(str(candidate))).first()
            except ValueError:  # not one of our ids
                org = None
            if org is not None:
                return org
    if obj.get("object") == "account" and obj.get("id"):
        # A Connect account event without our metadata: the seller whose account it is.
        org_id = _account_org_by_connect_account(str(obj["id"]))
        if org_id:
            return Organization.objects.filter(pk=org_id).first()
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    if not customer and obj.get("object") == "customer":
        customer = obj.get("id")
    if customer:
        org_id = _account_org_by_customer(str(customer))
        if org_id:
            return Organization.objects.filter(pk=org_id).first()
    return None


def _account_org_by_customer(customer: str):
    with transaction.atomic(), platform_path(), unscoped():
        return (
            BillingAccount.objects.filter(stripe_customer_id=customer)
            .values_list("organization_id", flat=True)
            .first()
        )


def _account_org_by_connect_account(connect_id: str):
    with transaction.atomic(), platform_path(), unscoped():
        return (
            BillingAccount.objects.filter(stripe_connect_account_id=connect_id)
            .values_list("organization_id", flat=True)
            .first()
        )


def event_process(event: dict) -> dict:
    event_id = str(event.get("id") or "")
    event_type = str(event.get("type") or "")
    obj = (event.get("data") or {}).get("object") or {}
    if not event_id.startswith("evt_") or not event_type or not isinstance(obj, dict):
        raise InvalidInput("The webhook body is not a Stripe event.")
    created = _ts(event.get("created")) or timezone.now()
    org = _org_for(obj)
    scope = tenant_context(org) if org is not None else platform_path()
    try:
        with transaction.atomic(), scope:
            row = StripeEvent(
                event_id=event_id[:100],
                type=event_type[:80],
                object_id=str(obj.get("id") or "")[:100],
                stripe_created=created,
            )
            row.organization_id = org.pk if org is not None else None
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
            except IntegrityError:
                return {"event": event_id, "outcome": "duplicate"}
            if org is None:
                outcome = "no organization"
            else:
                handler = HANDLERS.get(event_type)
                outcome = handler(org, obj, created) if handler else "ignored"
                audit_record(
                    org=org,
                    actor=ACTOR,
                    action="billing.webhook_received",
                    target_type="billing.stripeevent",
                    target_id=str(row.pk),
                    data={"event_id": event_id, "type": event_type, "outcome": outcome},
                )
            row.outcome = outcome[:200]
            row.save(update_fields=["outcome"])
    except IntegrityError:
        # Two deliveries of one event raced: the other one's row won; this one changed nothing.
        return {"event": event_id, "outcome": "duplicate"}
    return {"event": event_id, "outcome": outcome}


def _account(org) -> BillingAccount:
    from billing.services.accounts import account_for

    return BillingAccount.objects.select_for_update().get(pk=account_for(org).pk)


def _stale(account_or_invoice, created: datetime) -> bool:
    last = account_or_invoice.stripe_state_at
    return last is not None and created < last


def _restore_if_paid(org, account: BillingAccount, status: str, reason: str) -> None:
    org.refresh_from_db(fields=["writes_paused_at", "writes_paused_reason"])
    if org.writes_paused_at is not None:
        writes_resume(org=org, account=account, status=status, reason=reason, actor=ACTOR)


def on_checkout_completed(org, session: dict, created: datetime) -> str:
    account = _account(org)
    customer = session.get("customer")
    subscription = session.get("subscription")
    if isinstance(subscription, dict):
        subscription = subscription.get("id")
    changed = []
    if customer and not account.stripe_customer_id:
        account.stripe_customer_id = str(customer)[:100]
        changed.append("stripe_customer_id")
    if subscription and account.stripe_subscription_id != subscription:
        account.stripe_subscription_id = str(subscription)[:100]
        changed.append("stripe_subscription_id")
    if session.get("status") == "complete" or session.get("payment_status") in (
        "paid",
        "no_payment_required",
    ):
        account.payment_method_on_file = True
        if account.status in (
            BillingStatus.TRIALING,
            BillingStatus.READ_ONLY,
            BillingStatus.PAST_DUE,
        ):
            account.status = BillingStatus.ACTIVE
        changed += ["payment_method_on_file", "status"]
    account.updated_at = timezone.now()
    account.save(update_fields=[*set(changed), "updated_at"])
    audit_record(
        org=org,
        actor=ACTOR,
        action="billing.checkout_completed",
        target=account,
        data={"session": str(session.get("id") or ""), "subscription": subscription or ""},
    )
    if account.payment_method_on_file:
        _restore_if_paid(org, account, BillingStatus.ACTIVE, "checkout completed")
    return "subscribed"


def _subscription_items(account: BillingAccount, subscription: dict) -> None:
    items = ((subscription.get("items") or {}).get("data")) or []
    seat_price = account.plan.stripe_seat_price_id
    base_price = account.plan.stripe_base_price_id
    for item in items:
        price = (item.get("price") or {}).get("id") or (item.get("plan") or {}).get("id") or ""
        if seat_price and price == seat_price:
            account.stripe_seat_item_id = str(item.get("id") or "")[:100]
            account.seats_billed = int(item.get("quantity") or 0)
        elif base_price and price == base_price:
            account.stripe_base_item_id = str(item.get("id") or "")[:100]


def on_subscription_changed(org, subscription: dict, created: datetime) -> str:
    account = _account(org)
    if _stale(account, created):
        return "stale"
    stripe_status = str(subscription.get("status") or "")
    account.stripe_subscription_id = str(subscription.get("id") or "")[:100]
    account.stripe_subscription_status = stripe_status[:30]
    account.stripe_state_at = created
    account.current_period_end = _ts(subscription.get("current_period_end"))
    _subscription_items(account, subscription)
    before = account.status
    status = SUBSCRIPTION_STATUS.get(stripe_status)
    if status == BillingStatus.PAST_DUE and account.status == BillingStatus.READ_ONLY:
        status = BillingStatus.READ_ONLY  # past the grace period already: stays read-only
    if status is not None:
        account.status = status
    if status == BillingStatus.PAST_DUE and account.past_due_since is None:
        account.past_due_since = created
    if status in (BillingStatus.ACTIVE, BillingStatus.TRIALING):
        account.past_due_since = None
        account.payment_method_on_file = account.payment_method_on_file or status == "active"
    account.updated_at = timezone.now()
    account.save()
    if before != account.status:
        audit_record(
            org=org,
            actor=ACTOR,
            action="billing.subscription_changed",
            target=account,
            data={"from": before, "to": account.status, "stripe_status": stripe_status},
        )
    if status == BillingStatus.ACTIVE:
        _restore_if_paid(org, account, BillingStatus.ACTIVE, "subscription active")
    if status == BillingStatus.CANCELED:
        writes_pause(org=org, account=account, reason="the subscription was canceled", actor=ACTOR)
        account.status = BillingStatus.CANCELED
        account.save(update_fields=["status"])
    return account.status


def on_trial_will_end(org, subscription: dict, created: datetime) -> str:
    account = _account(org)
    ends = _ts(subscription.get("trial_end")) or account.trial_ends_at
    sent = billing_notify(
        org=org,
        subject=f"Your CredEx trial for {org.name} ends soon",
        template="email/billing_trial_ending.txt",
        context={"trial_ends_at": ends},
    )
    audit_record(
        org=org,
        actor=ACTOR,
        action="billing.trial_ending_notified",
        target=account,
        data={"trial_ends_at": ends.isoformat() if ends else None, "recipients": sent},
    )
    return "notified"


def invoice_mirror(org, obj: dict, created: datetime) -> Invoice:
    """Create or update our record of a Stripe invoice (lines included), never moving a paid
    or void invoice back and never applying an older state over a newer one."""
    stripe_id = str(obj.get("id") or "")[:100]
    invoice = Invoice.objects.select_for_update().filter(stripe_invoice_id=stripe_id).first()
    status = INVOICE_STATUS.get(str(obj.get("status") or ""), InvoiceStatus.OPEN)
    start = _ts(obj.get("period_start")) or created
    end = _ts(obj.get("period_end")) or created
    if invoice is None:
        invoice = Invoice(
            stripe_invoice_id=stripe_id,
            number=str(obj.get("number") or stripe_id)[:40],
            status=status,
            period_start=start.date(),
            period_end=end.date(),
        )
    elif invoice.status in INVOICE_FINAL or _stale(invoice, created):
        return invoice
    invoice.status = status
    invoice.number = str(obj.get("number") or invoice.number)[:40]
    invoice.currency = str(obj.get("currency") or "usd")[:3]
    invoice.subtotal_cents = int(obj.get("subtotal") or 0)
    invoice.total_cents = int(obj.get("total") or 0)
    invoice.amount_paid_cents = int(obj.get("amount_paid") or 0)
    invoice.amount_due_cents = int(obj.get("amount_due") or 0)
    invoice.hosted_invoice_url = str(obj.get("hosted_invoice_url") or "")[:500]
    invoice.stripe_state_at = created
    invoice.save()
    lines = ((obj.get("lines") or {}).get("data")) or []
    if lines:
        InvoiceLine.objects.filter(invoice=invoice).delete()
        InvoiceLine.objects.bulk_create(
            [
                InvoiceLine(
                    organization_id=org.pk,
                    invoice=invoice,
                    kind=LineKind.PRORATION if line.get("proration") else LineKind.OTHER,
                    description=str(line.get("description") or "")[:300],
                    quantity=int(line.get("quantity") or 1),
                    amount_cents=int(line.get("amount") or 0),
                    unit_cents=int(((line.get("price") or {}).get("unit_amount")) or 0),
                    reference=str(line.get("id") or "")[:100],
                    position=i,
                )
                for i, line in enumerate(lines[:500])
            ]
        )
        # Exchange charges sent as invoice items are on this invoice now.
        items = [str(line.get("invoice_item") or "") for line in lines[:500]]
        items = [item for item in items if item]
        if items:
            Charge.objects.filter(
                stripe_invoice_item_id__in=items, status=ChargeStatus.PENDING
            ).update(invoice=invoice, status=ChargeStatus.INVOICED)
    return invoice


def on_invoice_finalized(org, obj: dict, created: datetime) -> str:
    invoice = invoice_mirror(org, obj, created)
    audit_record(
        org=org,
        actor=ACTOR,
        action="billing.invoice_finalized",
        target=invoice,
        data={"number": invoice.number, "total_cents": invoice.total_cents},
    )
    return invoice.status


def on_invoice_paid(org, obj: dict, created: datetime) -> str:
    invoice = invoice_mirror(org, {**obj, "status": "paid"}, created)
    if invoice.paid_at is None:
        invoice.paid_at = created
        invoice.save(update_fields=["paid_at"])
    account = _account(org)
    account.past_due_since = None
    account.payment_method_on_file = True
    if account.status in (BillingStatus.PAST_DUE, BillingStatus.TRIALING, BillingStatus.READ_ONLY):
        account.status = BillingStatus.ACTIVE
    account.updated_at = timezone.now()
    account.save(update_fields=["past_due_since", "payment_method_on_file", "status", "updated_at"])
    audit_record(
        org=org,
        actor=ACTOR,
        action="billing.payment_succeeded",
        target=invoice,
        data={"number": invoice.number, "amount_paid_cents": int(obj.get("amount_paid") or 0)},
    )
    charges_collected(org=org, invoice=invoice)
    _restore_if_paid(org, account, BillingStatus.ACTIVE, "invoice paid")
    return "paid"


def on_invoice_payment_failed(org, obj: dict, created: datetime) -> str:
    invoice = invoice_mirror(org, obj, created)
    if invoice.status == InvoiceStatus.PAID:
        return "already paid"  # a later success arrived first: nothing is due
    if invoice.failed_at is None:
        invoice.failed_at = created
        invoice.save(update_fields=["failed_at"])
    account = _account(org)
    if account.past_due_since is None:
        account.past_due_since = created
    if account.status != BillingStatus.READ_ONLY:
        account.status = BillingStatus.PAST_DUE
    account.updated_at = timezone.now()
    account.save(update_fields=["past_due_since", "status", "updated_at"])
    audit_record(
        org=org,
        actor=ACTOR,
        action="billing.payment_failed",
        target=invoice,
        data={"number": invoice.number, "amount_due_cents": invoice.amount_due_cents},
    )
    dunning.dunning_send_due(org=org, account=account)
    return "past due"


def _payouts_ready(account_obj: dict) -> bool:
    """Stripe can transfer to the account and pay it out: `payouts_enabled`, and the transfers
    capability active when the event lists capabilities. (`charges_enabled` stays false on
    these accounts: they request transfers only, CredEx charges nothing through them.)"""
    capabilities = account_obj.get("capabilities") or {}
    transfers = capabilities.get("transfers") if isinstance(capabilities, dict) else None
    return account_obj.get("payouts_enabled") is True and transfers in (None, "active")


def on_account_updated(org, account_obj: dict, created: datetime) -> str:
    """A seller's Connect account changed at Stripe (onboarding finished, details missing,
    payouts paused): payouts_enabled follows it, an older state never over a newer one."""
    account = _account(org)
    connect_id = str(account_obj.get("id") or "")[:100]
    if account.stripe_connect_account_id and account.stripe_connect_account_id != connect_id:
        return "not this organization's payout account"
    if account.connect_state_at is not None and created < account.connect_state_at:
        return "stale"
    before = (account.stripe_connect_account_id, account.payouts_enabled)
    # Our metadata names the organization: an account whose creation we did not get to record
    # (the answer was lost) is adopted here.
    account.stripe_connect_account_id = connect_id
    account.payouts_enabled = _payouts_ready(account_obj)
    account.connect_state_at = created
    account.updated_at = timezone.now()
    account.save(
        update_fields=[
            "stripe_connect_account_id",
            "payouts_enabled",
            "connect_state_at",
            "updated_at",
        ]
    )
    if before != (connect_id, account.payouts_enabled):
        audit_record(
            org=org,
            actor=ACTOR,
            action="billing.payout_account_updated",
            target=account,
            data={
                "connect_account": connect_id,
                "payouts_enabled": account.payouts_enabled,
                "was_enabled": before[1],
                "details_submitted": bool(account_obj.get("details_submitted")),
            },
        )
    return "payouts enabled" if account.payouts_enabled else "payouts not enabled"


HANDLERS = {
    "account.updated": on_account_updated,
    "checkout.session.completed": on_checkout_completed,
    "customer.subscription.created": on_subscription_changed,
    "customer.subscription.updated": on_subscription_changed,
    "customer.subscription.deleted": on_subscription_changed,
    "customer.subscription.trial_will_end": on_trial_will_end,
    "invoice.finalized": on_invoice_finalized,
    "invoice.paid": on_invoice_paid,
    # Stripe sends it beside invoice.paid for a paid invoice (localstripe sends only it); the
    # two are one state, applied once.
    "invoice.payment_succeeded": on_invoice_paid,
    "invoice.payment_failed": on_invoice_payment_failed,
}
