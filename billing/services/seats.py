"""Seats: what the organization pays for per provider.

A seat is an active provider; an applicant counts from its first verification; inactive and
terminated providers do not count. Coordinator, admin and auditor seats are unlimited (members
are never seats).
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from audit.services import Actor, audit_record
from billing import gateway
from billing.models import BillingAccount, SeatSync
from roster.models import Provider, ProviderStatus
from verifications.models import Verification


def seat_queryset():
    """The providers that are seats, in the active organization (tenant scope)."""
    verified = Verification.objects.filter(provider_id=OuterRef("pk"))
    return Provider.objects.filter(
        Q(status=ProviderStatus.ACTIVE) | (Q(status=ProviderStatus.APPLICANT) & Exists(verified))
    )


def seat_count() -> int:
    return seat_queryset().count()


# --- the seat sync (debounced after roster changes, and nightly) ---------------------------


def seat_idempotency_key(org, account, seats: int, sync) -> str:
    """The seat update's key: our ids (hex, so the key fits SeatSync.idempotency_key)."""
    return gateway.idempotency_key("seats", org.pk.hex, account.pk.hex, seats, sync.pk.hex)


def seat_sync(*, org, source: str = SeatSync.Source.SYNC) -> SeatSync | None:
    """Count `org`'s seats and bring the account (and Stripe's seat item) to that count.

    In `org`'s tenant context. The account row is locked for the whole sync, so a debounced
    sync and the nightly run of one organization never interleave. Online, with a
    subscription and a seat item, Stripe's current quantity is read first: a quantity other
    than the one we last sent (`seats_billed`) is drift, corrected and recorded. The update
    prorates as Stripe does and carries an idempotency key from our ids (the sync row's
    among them). Offline nothing calls out: the count is recorded as billed.

    Writes a SeatSync row and audits `billing.seats_synced` (and
    `billing.seats_drift_corrected`) when something changed; an unchanged count with no
    drift writes nothing but the account's counted time (and, nightly, the SeatSync row
    that says the check ran). Returns the row, or None.
    """
    from billing.services.accounts import account_for

    with transaction.atomic():
        account_for(org)  # opened for an organization created before billing existed
        account = BillingAccount.objects.select_for_update().get(organization_id=org.pk)
        seats = seat_count()
        previous = account.seats
        believed = account.seats_billed
        now = timezone.now()
        stripe = gateway.client()
        linked = bool(stripe and account.stripe_subscription_id and account.stripe_seat_item_id)
        quantity_before = None
        if linked:
            item = stripe.v1.subscription_items.retrieve(account.stripe_seat_item_id)
            quantity_before = int(item.to_dict().get("quantity") or 0)
            drift = quantity_before != believed
            write = quantity_before != seats
        else:
            drift = False
            # Offline the count is what is billed; online without a subscription nothing is.
            write = stripe is None and believed != seats
        account.seats = seats
        account.seats_counted_at = now
        if seats == previous and not write and not drift:
            account.save(update_fields=["seats", "seats_counted_at"])
            if source != SeatSync.Source.NIGHTLY:
                return None
            return SeatSync.objects.create(
                organization_id=org.pk,
                source=source,
                seats=seats,
                previous_seats=previous,
                stripe_quantity_before=quantity_before,
                created_at=now,
            )
        sync = SeatSync(
            id=uuid.uuid4(),
            source=source,
            seats=seats,
            previous_seats=previous,
            stripe_quantity_before=quantity_before,
            drift=drift,
            created_at=now,
        )
        sync.organization_id = org.pk
        if linked and write:
            sync.idempotency_key = seat_idempotency_key(org, account, seats, sync)
            stripe.v1.subscription_items.update(
                account.stripe_seat_item_id,
                params={"quantity": seats, "proration_behavior": "create_prorations"},
                options={"idempotency_key": sync.idempotency_key},
            )
        if write or linked:
            account.seats_billed = seats
        account.updated_at = now
        account.save(update_fields=["seats", "seats_billed", "seats_counted_at", "updated_at"])
        sync.save(force_insert=True)
        actor = Actor.system("billing")
        audit_record(
            org=org,
            actor=actor,
            action="billing.seats_synced",
            target=account,
            data={
                "source": source,
                "seats": seats,
                "previous_seats": previous,
                "seats_billed_before": believed,
                "stripe_quantity_before": quantity_before,
                "sent_to_stripe": bool(linked and write),
                "offline": stripe is None,
                "seat_sync": str(sync.pk),
            },
        )
        if drift:
            audit_record(
                org=org,
                actor=actor,
                action="billing.seats_drift_corrected",
                target=account,
                data={
                    "source": source,
                    "stripe_quantity_before": quantity_before,
                    "seats_billed_before": believed,
                    "seats": seats,
                    "seat_sync": str(sync.pk),
                },
            )
    return sync
