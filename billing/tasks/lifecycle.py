"""Billing tasks: lifecycle.

- `billing.lifecycle.daily` (beat, 06:00 UTC): one `billing.lifecycle.check` per organization
  whose account is trialing or past due. A day lock in the cache keeps a second beat from
  fanning out twice (the check is idempotent anyway).
- `billing.lifecycle.check`: a TenantTask: trial end, dunning e-mails, grace end.
"""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from credex.celery import TenantTask

DAY_LOCK_SECONDS = 20 * 3600


@shared_task(name="billing.lifecycle.daily")
def lifecycle_daily(force: bool = False) -> int:
    from billing.models import BillingAccount, BillingStatus
    from credex.models import Organization
    from credex.tenancy import platform_path

    today = timezone.localdate()
    if not force and not cache.add(f"billing.lifecycle.daily:{today}", 1, DAY_LOCK_SECONDS):
        return 0
    with transaction.atomic(), platform_path():
        due = set(
            BillingAccount.objects.filter(
                status__in=[BillingStatus.TRIALING, BillingStatus.PAST_DUE]
            ).values_list("organization_id", flat=True)
        )
        have = set(BillingAccount.objects.values_list("organization_id", flat=True))
    # Organizations created before billing existed open their account in the check.
    due |= set(Organization.objects.exclude(pk__in=have).values_list("pk", flat=True))
    for org_id in sorted(due, key=str):
        lifecycle_check_task.apply_async(kwargs={"org_id": str(org_id)})
    return len(due)


# Billing's own work runs for a read-only organization (credex/writes.py): it is how the
# organization pays, and what restores its writes.
@shared_task(bind=True, base=TenantTask, name="billing.lifecycle.check", runs_while_read_only=True)
def lifecycle_check_task(self, *, org_id: str) -> str:
    from billing.services.dunning import lifecycle_check
    from credex.models import Organization

    return lifecycle_check(org=Organization.objects.get(pk=org_id))
