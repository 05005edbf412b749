"""Billing tasks: seats.

- `billing.seats.sync`: a TenantTask: count the organization's seats and send the quantity to
  Stripe (billing.services.seats.seat_sync). Enqueued after a roster change by billing's
  receiver of roster.hooks.provider_seats_changed, at most once per organization per
  BILLING_SEAT_SYNC_DEBOUNCE_SECONDS (`seat_sync_request`), with the window as countdown, so
  a burst of changes is one update. The nightly run sends it with source="nightly".
- `billing.seats.reconcile` (beat, 03:30 UTC): one nightly `billing.seats.sync` per
  organization; Stripe's quantity is compared with what we sent and drift is corrected and
  recorded. A day lock in the cache keeps a second beat from fanning out twice.
"""

from __future__ import annotations

import stripe
from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from credex.celery import TenantTask

DAY_LOCK_SECONDS = 20 * 3600
SOURCES = ("sync", "nightly")


def debounce_key(org_id) -> str:
    return f"billing.seats.sync:{org_id}"


def seat_sync_request(*, org) -> None:
    """After the caller's transaction commits: enqueue `billing.seats.sync` for `org` unless
    one is already waiting (a Redis key, SET NX EX the window). Robust: a queue that refuses
    the message is logged and the roster change stands (the nightly run catches up)."""
    org_id = str(org.pk)
    window = settings.BILLING_SEAT_SYNC_DEBOUNCE_SECONDS

    def enqueue():
        key = debounce_key(org_id)
        if not cache.add(key, 1, window):
            return  # a sync is already waiting for this organization
        try:
            seat_sync_task.apply_async(kwargs={"org_id": org_id}, countdown=window)
        except Exception:
            cache.delete(key)  # the next change tries again
            raise

    enqueue.__qualname__ = enqueue.__name__ = f"enqueue {seat_sync_task.name}"
    transaction.on_commit(enqueue, robust=True)


@shared_task(
    bind=True,
    base=TenantTask,
    name="billing.seats.sync",
    # Billing's own work (credex/writes.py): the seat count the next invoice charges.
    runs_while_read_only=True,
    autoretry_for=(ConnectionError, TimeoutError, stripe.APIConnectionError),
)
def seat_sync_task(self, *, org_id: str, source: str = "sync") -> str:
    from billing.services.seats import seat_sync
    from credex.models import Organization

    if source not in SOURCES:
        raise ValueError(f"unknown seat sync source {source!r}")
    if source == "sync":
        # Changes from now on get a sync of their own (this one may count before them).
        cache.delete(debounce_key(org_id))
    sync = seat_sync(org=Organization.objects.get(pk=org_id), source=source)
    return "unchanged" if sync is None else f"{sync.seats} seats"


@shared_task(name="billing.seats.reconcile")
def seats_reconcile(force: bool = False) -> int:
    from credex.models import Organization

    today = timezone.localdate()
    if not force and not cache.add(f"billing.seats.reconcile:{today}", 1, DAY_LOCK_SECONDS):
        return 0
    ids = sorted(Organization.objects.values_list("pk", flat=True), key=str)
    for org_id in ids:
        seat_sync_task.apply_async(kwargs={"org_id": str(org_id), "source": "nightly"})
    return len(ids)
