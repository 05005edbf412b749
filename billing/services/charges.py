"""Billing services: charges for exchange purchases.

- `purchase_charge`: called by the exchange in the purchase's transaction. One Charge per order
  (unique kind + reference: a replayed purchase finds it and makes none). Invoice mode: PENDING,
  a line of the next invoice (online: a Stripe invoice item, on commit). Immediate mode: online a
  Stripe PaymentIntent confirmed at once, COLLECTED with a COLLECTION entry; offline
  NOT_COLLECTED.
- `charges_collected`: an invoice was paid; its charges become COLLECTED (idempotent).
- `charge_refund`: a dispute refund; a charge not yet collected is CREDITED, a collected one
  REFUNDED (online: a Stripe refund) with a COLLECTION_REVERSAL entry.
- `membership_fee_charge`: the yearly exchange membership fee at the tier of the clinicians
  the organization manages, once per organization and membership year (charged when the
  exchange approves the member, and on renewal by `membership_fee_renew_due`, which the
  exchange's daily job calls for every approved member). Not exchange money: no ledger entry.

Every Stripe write carries an idempotency key from the charge id.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import stripe
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import Actor, audit_record
from billing import gateway
from billing.models import (
    AccountKind,
    BillingAccount,
    Charge,
    ChargeKind,
    ChargeMode,
    ChargeStatus,
    EntryKind,
)
from billing.services.accounts import account_for
from billing.services.ledger import Leg, entry_post
from billing.services.seats import seat_count
from credex.errors import Conflict, InvalidInput
from credex.templatetags.credex_ui import format_date

log = logging.getLogger(__name__)

ORDER_REF = "exchange.order"
CHARGE_REF = "billing.charge"


def _collection_post(charge: Charge):
    """Debit the platform's clearing, credit the buyer's exchange purchases due. Only for
    exchange purchases: the membership fee is not exchange money and has no ledger entry."""
    if charge.kind != ChargeKind.EXCHANGE_PURCHASE:
        return None
    return entry_post(
        kind=EntryKind.COLLECTION,
        reference_type=CHARGE_REF,
        reference_id=str(charge.pk),
        memo=f"Collected: {charge.description}"[:300],
        legs=[
            Leg(kind=AccountKind.PLATFORM_CLEARING, amount_cents=charge.amount_cents),
            Leg(
                kind=AccountKind.EXCHANGE_DUE,
                amount_cents=-charge.amount_cents,
                org_id=charge.organization_id,
            ),
        ],
    )


def _collection_reverse(charge: Charge):
    if charge.kind != ChargeKind.EXCHANGE_PURCHASE:
        return None  # see _collection_post
    return entry_post(
        kind=EntryKind.COLLECTION_REVERSAL,
        reference_type=CHARGE_REF,
        reference_id=str(charge.pk),
        memo=f"Refunded: {charge.description}"[:300],
        legs=[
            Leg(kind=AccountKind.PLATFORM_CLEARING, amount_cents=-charge.amount_cents),
            Leg(
                kind=AccountKind.EXCHANGE_DUE,
                amount_cents=charge.amount_cents,
                org_id=charge.organization_id,
            ),
        ],
    )


def _invoice_item_on_commit(charge_id, org_id, customer: str) -> None:
    def send():
        client = gateway.client()
        if client is None or not customer:
            return
        from credex.tenancy import tenant_context

        with tenant_context(org_id):
            charge = Charge.objects.get(pk=charge_id)
            try:
                item = client.v1.invoice_items.create(
                    {
                        "customer": customer,
                        "amount": charge.amount_cents,
                        "currency": "usd",
                        "description": charge.description,
                        "metadata": {"org_id": str(org_id), "charge_id": str(charge.pk)},
                    },
                    {"idempotency_key": gateway.idempotency_key("charge", charge.pk, "item")},
                )
            except stripe.StripeError:
                log.exception("invoice item for charge %s failed", charge_id)
                return
            Charge.objects.filter(pk=charge.pk).update(stripe_invoice_item_id=item.id[:100])

    transaction.on_commit(send)


def purchase_charge(*, org, order_id, amount_cents: int, description: str, journal_entry, actor):
    """The buyer's charge for one exchange order (in the caller's transaction and `org`'s
    scope). Returns (charge, created)."""
    amount_cents = int(amount_cents)
    with transaction.atomic():
        existing = Charge.objects.filter(
            kind=ChargeKind.EXCHANGE_PURCHASE, reference_type=ORDER_REF, reference_id=str(order_id)
        ).first()
        if existing is not None:
            return existing, False
        account = account_for(org)
        charge = Charge(
            kind=ChargeKind.EXCHANGE_PURCHASE,
            description=str(description)[:300],
            amount_cents=amount_cents,
            status=ChargeStatus.PENDING,
            reference_type=ORDER_REF,
            reference_id=str(order_id),
            journal_entry=journal_entry,
        )
        charge.organization_id = org.pk
        try:
            with transaction.atomic():
                charge.save(force_insert=True)
        except IntegrityError:  # a concurrent replay won
            return Charge.objects.get(
                kind=ChargeKind.EXCHANGE_PURCHASE,
                reference_type=ORDER_REF,
                reference_id=str(order_id),
            ), False
        _charge_by_mode(org, account, charge)
        audit_record(
            org=org,
            actor=actor,
            action="billing.charge_created",
            target=charge,
            data={
                "order": str(order_id),
                "amount_cents": amount_cents,
                "mode": account.charge_mode,
                "status": charge.status,
            },
        )
    return charge, True


def _charge_by_mode(org, account, charge: Charge) -> None:
    """A new charge as the account's charge mode says: invoice mode stays PENDING (online, a
    Stripe invoice item on commit), immediate mode is charged at once (offline: NOT_COLLECTED);
    nothing to collect is COLLECTED."""
    client = gateway.client()
    if charge.amount_cents <= 0:
        charge.status = ChargeStatus.COLLECTED  # nothing to collect
        charge.collected_at = timezone.now()
        charge.save(update_fields=["status", "collected_at"])
    elif account.charge_mode == ChargeMode.IMMEDIATE:
        if client is None or not account.stripe_customer_id:
            charge.status = ChargeStatus.NOT_COLLECTED
            charge.save(update_fields=["status"])
        else:
            _pay_now(client, account, charge)
    elif client is not None and account.stripe_customer_id:
        _invoice_item_on_commit(charge.pk, org.pk, account.stripe_customer_id)


def _pay_now(client, account, charge: Charge) -> None:
    try:
        intent = client.v1.payment_intents.create(
            {
                "amount": charge.amount_cents,
                "currency": "usd",
                "customer": account.stripe_customer_id,
                "confirm": True,
                "off_session": True,
                "description": charge.description,
                "metadata": {"org_id": str(charge.organization_id), "charge_id": str(charge.pk)},
            },
            {"idempotency_key": gateway.idempotency_key("charge", charge.pk, "pay")},
        )
    except stripe.StripeError as exc:
        log.warning("immediate charge %s failed: %s", charge.pk, exc)
        charge.status = ChargeStatus.FAILED
        charge.save(update_fields=["status"])
        return
    charge.stripe_payment_intent_id = str(intent.id)[:100]
    if getattr(intent, "status", "") == "succeeded":
        charge.status = ChargeStatus.COLLECTED
        charge.collected_at = timezone.now()
        _collection_post(charge)
    else:
        charge.status = ChargeStatus.FAILED
    charge.save(update_fields=["status", "collected_at", "stripe_payment_intent_id"])


def charges_collected(*, org, invoice) -> int:
    """The paid invoice's charges become COLLECTED, each with its COLLECTION entry (once)."""
    done = 0
    with transaction.atomic():
        charges = Charge.objects.select_for_update().filter(
            invoice=invoice, status__in=[ChargeStatus.PENDING, ChargeStatus.INVOICED]
        )
        for charge in charges:
            charge.status = ChargeStatus.COLLECTED
            charge.collected_at = timezone.now()
            charge.save(update_fields=["status", "collected_at"])
            _collection_post(charge)
            audit_record(
                org=org,
                actor=Actor.system("billing"),
                action="billing.charge_collected",
                target=charge,
                data={"invoice": str(invoice.pk), "amount_cents": charge.amount_cents},
            )
            done += 1
    return done


def charge_refund(*, org, order_id, actor) -> Charge | None:
    """The order's charge refunded (in the caller's transaction, in the buyer's scope). Run it
    before the exchange reverses the purchase entry (the buyer's due must be restored first)."""
    with transaction.atomic():
        charge = (
            Charge.objects.select_for_update()
            .filter(
                kind=ChargeKind.EXCHANGE_PURCHASE,
                reference_type=ORDER_REF,
                reference_id=str(order_id),
            )
            .first()
        )
        if charge is None:
            return None
        before = charge.status
        now = timezone.now()
        if before in (ChargeStatus.PENDING, ChargeStatus.INVOICED):
            charge.status = ChargeStatus.CREDITED
        elif before == ChargeStatus.COLLECTED:
            client = gateway.client()
            if client is not None and charge.stripe_payment_intent_id:
                client.v1.refunds.create(
                    {
                        "payment_intent": charge.stripe_payment_intent_id,
                        "metadata": {"org_id": str(charge.organization_id)},
                    },
                    {"idempotency_key": gateway.idempotency_key("charge", charge.pk, "refund")},
                )
            if charge.amount_cents > 0:
                _collection_reverse(charge)
            charge.status = ChargeStatus.REFUNDED
        elif before in (ChargeStatus.NOT_COLLECTED, ChargeStatus.FAILED):
            charge.status = ChargeStatus.CREDITED
        else:
            return charge  # already refunded or credited
        charge.refunded_at = now
        charge.save(update_fields=["status", "refunded_at"])
        audit_record(
            org=org,
            actor=actor,
            action="billing.charge_refunded",
            target=charge,
            data={"order": str(order_id), "from": before, "to": charge.status},
        )
    return charge


# --- the exchange membership fee -------------------------------------------------------------

MEMBERSHIP_REF = "billing.membership"
MEMBERSHIP_ACTOR = Actor.system("billing-membership")


def membership_year_end(start: date) -> date:
    """The last day of the membership year that begins on `start`."""
    try:
        return start.replace(year=start.year + 1) - timedelta(days=1)
    except ValueError:  # began on 29 February: runs to the last day of the next February
        return date(start.year + 1, 3, 1) - timedelta(days=1)


def _membership_start(year, start) -> date:
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise InvalidInput("Name the membership year.", details={"year": ["2000 to 2100."]})
    if start is None:
        today = timezone.localdate()
        return today if today.year == year else date(year, 1, 1)
    if not isinstance(start, date) or isinstance(start, datetime) or start.year != year:
        raise InvalidInput(
            "The membership year must begin in the year named.",
            details={"start": ["A date in the membership year."]},
        )
    return start


def membership_fee_charge(*, org, year: int, actor, start: date | None = None):
    """`org`'s exchange membership fee for the membership year that begins in `year` (on
    `start`; default today, or 1 January of another year): one MEMBERSHIP_FEE Charge per
    organization and year (unique reference ("billing.membership", "<org id>:<year>")), at the
    tier of the clinicians it manages now; the account records the tier and the paid-through
    date. Charged like an exchange purchase (the charge mode), without a ledger entry. In
    `org`'s scope; returns (charge, created). Audited as billing.membership_fee_charged."""
    from billing.selectors import membership_tier_for

    start = _membership_start(year, start)
    reference = f"{org.pk}:{year}"
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(pk=account_for(org).pk)
        mine = Charge.objects.filter(
            kind=ChargeKind.MEMBERSHIP_FEE, reference_type=MEMBERSHIP_REF, reference_id=reference
        )
        existing = mine.first()
        if existing is not None:
            return existing, False
        clinicians = seat_count()
        tier = membership_tier_for(clinicians)
        if tier is None:
            raise Conflict("No exchange membership tiers are defined.", code="no_membership_tiers")
        end = membership_year_end(start)
        charge = Charge(
            kind=ChargeKind.MEMBERSHIP_FEE,
            description=(
                f"Exchange membership {format_date(start)} – {format_date(end)}: {tier.name} "
                f"({clinicians} clinician{'' if clinicians == 1 else 's'})"
            )[:300],
            amount_cents=tier.annual_fee_cents,
            status=ChargeStatus.PENDING,
            reference_type=MEMBERSHIP_REF,
            reference_id=reference,
        )
        charge.organization_id = org.pk
        try:
            with transaction.atomic():
                charge.save(force_insert=True)
        except IntegrityError:  # charged concurrently
            return mine.get(), False
        _charge_by_mode(org, account, charge)
        account.membership_tier = tier
        if account.membership_paid_through is None or account.membership_paid_through < end:
            account.membership_paid_through = end
        account.updated_at = timezone.now()
        account.save(update_fields=["membership_tier", "membership_paid_through", "updated_at"])
        audit_record(
            org=org,
            actor=actor,
            action="billing.membership_fee_charged",
            target=charge,
            data={
                "year": year,
                "start": start.isoformat(),
                "paid_through": end.isoformat(),
                "tier": tier.name,
                "tier_version": tier.version,
                "clinicians": clinicians,
                "amount_cents": charge.amount_cents,
                "status": charge.status,
            },
        )
    return charge, True


def membership_fee_renew_due(*, org, actor=None, today: date | None = None) -> Charge | None:
    """The renewal of a member whose membership year has run out (or who never paid one): the
    next year's fee, from the day after the paid-through date (or today). Called daily for
    every approved member by the exchange; returns the new charge or None (nothing due)."""
    today = today or timezone.localdate()
    paid = account_for(org).membership_paid_through
    if paid is not None and paid >= today:
        return None
    start = paid + timedelta(days=1) if paid is not None else today
    charge, created = membership_fee_charge(
        org=org, year=start.year, actor=actor or MEMBERSHIP_ACTOR, start=start
    )
    return charge if created else None
