"""Billing tasks: payouts.

- `billing.payouts.daily` (beat, 07:00 UTC): one `billing.payouts.run` per organization with
  exchange proceeds in the ledger (failed payouts' amounts are back in the proceeds, so their
  retries are found the same way), passing the UTC day the run is for. A day lock in the cache
  keeps a second beat from fanning out twice; the payout itself is once per organization and
  day anyway (a unique constraint on Payout.scheduled_for).
- `billing.payouts.run`: a TenantTask: retries due, then the scheduled payout on the
  organization's pay day (weekly: Mondays, monthly: the 1st; manual: never), above
  BILLING_PAYOUT_MINIMUM_CENTS (billing.services.payouts.payouts_scheduled_run).

Not gated by read-only (credex.writes.check_writes): paying a seller what it earned is not a
write on the organization's data, and holding its money because its own subscription is past
due would not be ours to do.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from celery import shared_task
from django.core.cache import cache
from django.db import transaction

from credex.celery import TenantTask

DAY_LOCK_SECONDS = 20 * 3600


def _utc_today() -> date:
    return datetime.now(UTC).date()


@shared_task(name="billing.payouts.daily")
def payouts_daily(force: bool = False) -> int:
    from billing.models import AccountKind, LedgerAccount
    from credex.tenancy import platform_path

    today = _utc_today()
    if not force and not cache.add(f"billing.payouts.daily:{today}", 1, DAY_LOCK_SECONDS):
        return 0
    with transaction.atomic(), platform_path():
        due = set(
            LedgerAccount.objects.filter(
                kind=AccountKind.EXCHANGE_PROCEEDS,
                organization__isnull=False,
                balance_cents__gt=0,
            ).values_list("organization_id", flat=True)
        )
    for org_id in sorted(due, key=str):
        payouts_run_task.apply_async(kwargs={"org_id": str(org_id), "day": today.isoformat()})
    return len(due)


@shared_task(bind=True, base=TenantTask, name="billing.payouts.run", runs_while_read_only=True)
def payouts_run_task(self, *, org_id: str, day: str) -> str:
    from billing.services.payouts import payouts_scheduled_run
    from credex.models import Organization

    return payouts_scheduled_run(
        org=Organization.objects.get(pk=org_id), day=date.fromisoformat(day)
    )
