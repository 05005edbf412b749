"""Exchange background work: membership standing.

- `exchange.standing.daily` (beat, 04:30 UTC): one `exchange.standing.refresh` per approved
  member (from the global member directory). A day lock in the cache keeps a second beat from
  fanning out twice (the refresh is idempotent anyway).
- `exchange.standing.refresh`: a TenantTask (takes `org_id`): standing_refresh(org).
- `exchange.membership.fees_daily` (beat, 04:50 UTC): one `exchange.membership.fee_renew` per
  approved member: billing's membership_fee_renew_due charges the next membership year once
  the paid-through date has passed (the first year is charged when the member is approved).
"""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from credex.celery import TenantTask

DAY_LOCK_SECONDS = 20 * 3600


@shared_task(name="exchange.standing.daily")
def standing_daily(force: bool = False) -> int:
    """Fan out one standing refresh per approved member; returns how many were enqueued."""
    from exchange.models import MemberDirectory, MembershipStatus

    today = timezone.localdate()
    if not force and not cache.add(f"exchange.standing.daily:{today}", 1, DAY_LOCK_SECONDS):
        return 0
    org_ids = [
        str(pk)
        for pk in MemberDirectory.objects.filter(status=MembershipStatus.APPROVED).values_list(
            "member_id", flat=True
        )
    ]
    for org_id in org_ids:
        standing_refresh_task.apply_async(kwargs={"org_id": org_id})
    return len(org_ids)


# Runs for a read-only organization too (credex/writes.py): pausing a lapsed member's listings
# is a market rule protecting the buyers, not a write the member makes; skipping it would
# keep an unaccredited seller's records on sale.
@shared_task(
    bind=True, base=TenantTask, name="exchange.standing.refresh", runs_while_read_only=True
)
def standing_refresh_task(self, *, org_id: str) -> dict:
    """Pause (lapsed) or resume (renewed) one member's listings."""
    from credex.models import Organization
    from exchange.services.standing import standing_refresh

    return standing_refresh(org=Organization.objects.get(pk=org_id))


@shared_task(name="exchange.membership.fees_daily")
def membership_fees_daily(force: bool = False) -> int:
    """Fan out one membership fee renewal per approved member; returns how many were sent."""
    from exchange.models import MemberDirectory, MembershipStatus

    today = timezone.localdate()
    if not force and not cache.add(f"exchange.membership.fees_daily:{today}", 1, DAY_LOCK_SECONDS):
        return 0
    org_ids = [
        str(pk)
        for pk in MemberDirectory.objects.filter(status=MembershipStatus.APPROVED).values_list(
            "member_id", flat=True
        )
    ]
    for org_id in org_ids:
        membership_fee_renew_task.apply_async(kwargs={"org_id": org_id})
    return len(org_ids)


# Runs for a read-only organization too: the membership year is billing's own record of what
# the member owes (it stays a member, its listings stay on sale), not a write on its data.
@shared_task(
    bind=True, base=TenantTask, name="exchange.membership.fee_renew", runs_while_read_only=True
)
def membership_fee_renew_task(self, *, org_id: str) -> str:
    """Charge an approved member's next membership year once its paid-through date passed."""
    from billing.services.charges import membership_fee_renew_due
    from credex.models import Organization
    from exchange.models import ExchangeMembership, MembershipStatus

    membership = ExchangeMembership.objects.filter(organization_id=org_id).first()
    if membership is None or membership.status != MembershipStatus.APPROVED:
        return "not a member"
    charge = membership_fee_renew_due(org=Organization.objects.get(pk=org_id))
    return "nothing due" if charge is None else f"charged {charge.amount_cents}"
