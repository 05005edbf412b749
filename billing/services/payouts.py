"""Billing services: the seller's payout account and payouts of its exchange proceeds.

`payout_account_link`: online, the organization's Stripe Connect Express account (created
once, its id kept on the billing account) and an onboarding link to it; Stripe then tells us
through `account.updated` (billing.services.webhooks) when payouts are enabled.

`payout_request`: above BILLING_PAYOUT_MINIMUM_CENTS, one Payout row and its PAYOUT entry
(debit the seller's EXCHANGE_PROCEEDS, credit PLATFORM_CLEARING) in one transaction; offline
the payout is RECORDED; online (only once Stripe enabled payouts on the account) a Stripe
Transfer follows (transfer_group "payout_<id>", idempotency key from the payout id and
attempt): SENT, or on failure a PAYOUT_REVERSAL entry, FAILED and a next attempt with backoff.
A failed payout's amount is back in the proceeds but reserved for its retry: it is not
available to another payout.

`payouts_scheduled_run`: the daily run for one organization (billing.tasks.payouts): retries
due, then on its pay day (weekly: Mondays, monthly: the 1st, UTC; manual: never) a scheduled
payout of what is available, at most one per organization and day (a unique constraint).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from audit.services import Actor, audit_record
from billing import gateway
from billing.models import (
    AccountKind,
    BillingAccount,
    EntryKind,
    LedgerAccount,
    Payout,
    PayoutSchedule,
    PayoutStatus,
)
from billing.services.accounts import account_for
from billing.services.ledger import Leg, entry_post, entry_reverse
from billing.services.subscriptions import PaymentsNotConfigured
from credex.actors import audit_actor
from credex.errors import Conflict, InvalidInput
from credex.models import ApiKey, Membership, Role

log = logging.getLogger(__name__)

PAYOUT_REF = "billing.payout"
BACKOFF_MAX = timedelta(hours=24)
SYSTEM_ACTOR = Actor.system("billing-payouts")
# Connect accounts are created in this country (production: a setting when sellers abroad come).
CONNECT_COUNTRY = "US"


def proceeds_balance(org) -> int:
    """The seller's EXCHANGE_PROCEEDS balance in the ledger (in `org`'s tenant context)."""
    account = LedgerAccount.objects.filter(
        organization_id=org.pk, kind=AccountKind.EXCHANGE_PROCEEDS
    ).first()
    return account.balance_cents if account else 0


def proceeds_reserved(org) -> int:
    """What failed payouts waiting for their retry hold of the proceeds."""
    reserved = Payout.objects.filter(organization_id=org.pk, status=PayoutStatus.FAILED).aggregate(
        s=Sum("amount_cents")
    )["s"]
    return reserved or 0


def proceeds_available(org) -> int:
    """What a new payout may take: the proceeds balance less what failed payouts reserve."""
    return max(proceeds_balance(org) - proceeds_reserved(org), 0)


def payout_account_state(account: BillingAccount) -> str:
    """'not_set_up', 'incomplete' (onboarding not finished at Stripe) or 'enabled'."""
    if not account.stripe_connect_account_id:
        return "not_set_up"
    return "enabled" if account.payouts_enabled else "incomplete"


def _connect_email(org, account: BillingAccount) -> str | None:
    if account.billing_email:
        return account.billing_email
    owner = (
        Membership.objects.filter(organization_id=org.pk, role=Role.OWNER)
        .select_related("user")
        .order_by("created_at")
        .first()
    )
    return owner.user.email if owner else None


def _connect_account_ensure(client, org, actor: Actor) -> str:
    """The organization's Express account id: created at Stripe once (the row lock makes a
    second click wait and find it; the idempotency key makes a retried create the same
    account) and kept in the same transaction as its audit event."""
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(pk=account_for(org).pk)
        if account.stripe_connect_account_id:
            return account.stripe_connect_account_id
        try:
            created = client.v1.accounts.create(
                params={
                    "type": "express",
                    "country": CONNECT_COUNTRY,
                    "email": _connect_email(org, account),
                    "capabilities": {"transfers": {"requested": True}},
                    "business_profile": {"name": org.name[:100]},
                    "metadata": {"org_id": str(org.pk)},
                },
                options={"idempotency_key": gateway.idempotency_key("connect-account", org.pk)},
            )
        except stripe.StripeError as exc:
            log.warning("Stripe refused the Connect account of %s: %s", org.pk, exc)
            raise gateway.StripeFailed(
                "Stripe could not create the payout account just now; nothing was changed. "
                "Try again in a moment.",
                details={"stripe_error": type(exc).__name__, "http_status": exc.http_status},
            ) from exc
        account.stripe_connect_account_id = str(created.id)[:100]
        account.updated_at = timezone.now()
        account.save(update_fields=["stripe_connect_account_id", "updated_at"])
        audit_record(
            org=org,
            actor=actor,
            action="billing.payout_account_created",
            target=account,
            data={"connect_account": account.stripe_connect_account_id},
        )
        return account.stripe_connect_account_id


def payout_account_link(*, org, actor, return_url: str, refresh_url: str) -> str:
    """Stripe Connect Express onboarding for the seller: the account (created once) and a
    fresh onboarding link to send the member to. Offline: PaymentsNotConfigured (400)."""
    client = gateway.client()
    if client is None:
        raise PaymentsNotConfigured(
            "Payments are not configured on this installation: payouts are recorded here, "
            "no payout account can be connected."
        )
    actor = audit_actor(actor) if isinstance(actor, Membership | ApiKey) else actor
    connect_id = _connect_account_ensure(client, org, actor)
    try:
        # A link is single-use and expires within minutes: the key names the minute, so a
        # double submit gets the same link and a later click a new one.
        link = client.v1.account_links.create(
            params={
                "account": connect_id,
                "type": "account_onboarding",
                "return_url": return_url,
                "refresh_url": refresh_url,
            },
            options={
                "idempotency_key": gateway.idempotency_key(
                    "account-link", org.pk, connect_id, timezone.now().strftime("%Y%m%d%H%M")
                )
            },
        )
    except stripe.StripeError as exc:
        log.warning("Stripe refused an onboarding link for %s: %s", org.pk, exc)
        raise gateway.StripeFailed(
            "Stripe could not open the payout account setup just now. Try again in a moment.",
            details={"stripe_error": type(exc).__name__, "http_status": exc.http_status},
        ) from exc
    audit_record(
        org=org,
        actor=actor,
        action="billing.payout_onboarding_started",
        target=account_for(org),
        data={"connect_account": connect_id},
    )
    return link.url


def _post(payout: Payout):
    return entry_post(
        kind=EntryKind.PAYOUT,
        reference_type=PAYOUT_REF,
        reference_id=f"{payout.pk}:{payout.attempts}",
        memo=f"Payout {payout.pk}",
        legs=[
            Leg(
                kind=AccountKind.EXCHANGE_PROCEEDS,
                amount_cents=payout.amount_cents,
                org_id=payout.organization_id,
            ),
            Leg(kind=AccountKind.PLATFORM_CLEARING, amount_cents=-payout.amount_cents),
        ],
    )


def payout_request(
    *, org, actor, scheduled: bool = False, scheduled_for: date | None = None
) -> Payout:
    """Pay out the available proceeds now (on request, or the scheduled run of `scheduled_for`,
    at most one per organization and day). Refused, with nothing written: below the minimum
    (409), online without a payout account (400) or before Stripe enabled payouts (409)."""
    minimum = settings.BILLING_PAYOUT_MINIMUM_CENTS
    member = actor if isinstance(actor, Membership) else None
    actor = audit_actor(actor) if isinstance(actor, Membership | ApiKey) else actor
    client = gateway.client()
    with transaction.atomic():
        account = account_for(org)
        if client is not None and not account.stripe_connect_account_id:
            raise InvalidInput(
                "Set up payouts (the Stripe account) first.", code="payouts_not_set_up"
            )
        if client is not None and not account.payouts_enabled:
            raise Conflict(
                "Stripe has not enabled payouts on this organization's payout account yet: "
                "finish the setup at Stripe (Set up payouts on the billing page) first.",
                code="payouts_not_enabled",
            )
        LedgerAccount.objects.select_for_update().filter(
            organization_id=org.pk, kind=AccountKind.EXCHANGE_PROCEEDS
        ).first()
        available = proceeds_available(org)
        if available < minimum:
            raise Conflict(
                "The available proceeds are below the payout minimum.",
                code="below_payout_minimum",
                details={"available_cents": available, "minimum_cents": minimum},
            )
        payout = Payout(
            amount_cents=available,
            requested_by=member,
            scheduled=scheduled or scheduled_for is not None,
            scheduled_for=scheduled_for,
            attempts=1,
        )
        payout.organization_id = org.pk
        payout.transfer_group = f"payout_{payout.pk}"
        try:
            with transaction.atomic():
                payout.save(force_insert=True)
        except IntegrityError as exc:  # payout_scheduled_once
            raise Conflict(
                "This day's scheduled payout has been made already.",
                code="payout_already_scheduled",
                details={"scheduled_for": scheduled_for.isoformat() if scheduled_for else None},
            ) from exc
        payout.journal_entry = _post(payout)
        if client is None:
            payout.status = PayoutStatus.RECORDED
        payout.save(update_fields=["journal_entry", "status"])
        audit_record(
            org=org,
            actor=actor,
            action="billing.payout_requested",
            target=payout,
            data={
                "amount_cents": payout.amount_cents,
                "scheduled": payout.scheduled,
                "scheduled_for": scheduled_for.isoformat() if scheduled_for else None,
            },
        )
    if client is not None:
        _send(client, org, actor, account.stripe_connect_account_id, payout)
    return payout


def _send(client, org, actor, destination: str, payout: Payout) -> None:
    try:
        transfer = client.v1.transfers.create(
            {
                "amount": payout.amount_cents,
                "currency": "usd",
                "destination": destination,
                "transfer_group": payout.transfer_group,
                "metadata": {"org_id": str(org.pk), "payout_id": str(payout.pk)},
            },
            {"idempotency_key": gateway.idempotency_key("payout", payout.pk, payout.attempts)},
        )
    except stripe.StripeError as exc:
        with transaction.atomic():
            entry_reverse(entry=payout.journal_entry, kind=EntryKind.PAYOUT_REVERSAL)
            payout.status = PayoutStatus.FAILED
            payout.failure_reason = str(getattr(exc, "user_message", "") or exc)[:300]
            delay = min(timedelta(hours=2 ** (payout.attempts - 1)), BACKOFF_MAX)
            payout.next_attempt_at = timezone.now() + delay
            payout.save(update_fields=["status", "failure_reason", "next_attempt_at"])
            audit_record(
                org=org,
                actor=actor,
                action="billing.payout_failed",
                target=payout,
                data={"attempt": payout.attempts, "reason": payout.failure_reason},
            )
        return
    with transaction.atomic():
        payout.status = PayoutStatus.SENT
        payout.stripe_transfer_id = str(transfer.id)[:100]
        payout.sent_at = timezone.now()
        payout.next_attempt_at = None
        payout.save(update_fields=["status", "stripe_transfer_id", "sent_at", "next_attempt_at"])
        audit_record(
            org=org,
            actor=actor,
            action="billing.payout_sent",
            target=payout,
            data={"attempt": payout.attempts, "transfer": payout.stripe_transfer_id},
        )


def payouts_retry_due(*, org, now=None) -> int:
    """Retry `org`'s failed payouts whose next attempt is due: each retry re-posts the payout
    entry under a new attempt and sends the transfer again."""
    client = gateway.client()
    if client is None:
        return 0
    now = now or timezone.now()
    actor = SYSTEM_ACTOR
    account = account_for(org)
    retried = 0
    due = Payout.objects.filter(status=PayoutStatus.FAILED, next_attempt_at__lte=now)
    for payout_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            payout = Payout.objects.select_for_update().get(pk=payout_id)
            if payout.status != PayoutStatus.FAILED:
                continue
            payout.attempts += 1
            payout.status = PayoutStatus.PENDING
            payout.journal_entry = _post(payout)
            payout.save(update_fields=["attempts", "status", "journal_entry"])
            audit_record(
                org=org,
                actor=actor,
                action="billing.payout_retried",
                target=payout,
                data={"attempt": payout.attempts},
            )
        _send(client, org, actor, account.stripe_connect_account_id, payout)
        retried += 1
    return retried


def pay_day(schedule: str, day: date) -> bool:
    """Whether `day` (a UTC date) is a pay day of the schedule: weekly on Mondays, monthly on
    the 1st, manual never."""
    if schedule == PayoutSchedule.WEEKLY:
        return day.weekday() == 0
    if schedule == PayoutSchedule.MONTHLY:
        return day.day == 1
    return False


def payouts_scheduled_run(*, org, day: date, now=None) -> str:
    """The daily payout run of one organization (in its tenant context): failed payouts whose
    retry is due are sent again, then on a pay day of its schedule the available proceeds are
    paid out if they reach the minimum. Returns what happened, in words (for the task log).

    Read-only organizations (billing past due) are paid too: a seller's earned proceeds are
    its money, and paying them out changes none of its credentialing data."""
    retried = payouts_retry_due(org=org, now=now)
    parts = [f"{retried} retried"] if retried else []
    account = account_for(org)
    if not pay_day(account.payout_schedule, day):
        return ", ".join([*parts, "not a pay day"])
    try:
        payout = payout_request(org=org, actor=SYSTEM_ACTOR, scheduled_for=day)
    except (Conflict, InvalidInput) as exc:
        # Below the minimum, already paid today, no payout account yet: nothing to do today.
        return ", ".join([*parts, exc.code])
    return ", ".join([*parts, f"paid {payout.amount_cents} cents ({payout.status})"])
