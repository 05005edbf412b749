"""Exchange background work: listings.

- `exchange.listings.bulk` (TenantTask): one bulk listing run (ListingBatch), started from the
  listings page or `POST exchange/listings/bulk`.
- `exchange.listings.expire_daily` (beat, 04:45 UTC): one `exchange.listings.expire` per
  organization in the member directory; each marks its listings past the maximum age expired.
  (Search never shows a listing past its expiry even before this runs.)
"""

from __future__ import annotations

from celery import shared_task

from credex.celery import TenantTask

__all__ = ["listing_batch_task", "listings_expire_daily", "listings_expire_task"]


@shared_task(bind=True, base=TenantTask, name="exchange.listings.bulk")
def listing_batch_task(self, *, org_id: str, batch_id: str) -> dict:
    from credex.models import Organization
    from exchange.services.listings import listing_batch_run

    batch = listing_batch_run(
        org=Organization.objects.get(pk=org_id), batch_id=batch_id, report_progress=True
    )
    return {"status": batch.status, "listed": batch.listed, "skipped": batch.skipped}


@shared_task(name="exchange.listings.expire_daily")
def listings_expire_daily() -> int:
    """Fan out one expiry task per organization that ever joined the exchange (the global
    member directory: only those can have listings)."""
    from credex.writes import writable_organizations
    from exchange.models import MemberDirectory

    members = MemberDirectory.objects.values_list("member_id", flat=True)
    # A read-only organization (billing past due, credex/writes.py) is left out: search and
    # purchases never offer a listing past its expiry anyway, and the next run after payment
    # marks them.
    org_ids = [
        str(pk)
        for pk in writable_organizations()
        .filter(pk__in=list(members))
        .order_by("created_at")
        .values_list("pk", flat=True)
    ]
    for org_id in org_ids:
        listings_expire_task.apply_async(kwargs={"org_id": org_id})
    return len(org_ids)


@shared_task(bind=True, base=TenantTask, name="exchange.listings.expire")
def listings_expire_task(self, *, org_id: str) -> int:
    from credex.models import Organization
    from exchange.services.listings import listings_expire

    return listings_expire(org=Organization.objects.get(pk=org_id))
