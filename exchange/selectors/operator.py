"""The operator console's reads across members (platform path): trade volume and fees over
time, and names for the ledger's accounts."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from credex.tenancy import platform_path
from exchange.models import MemberDirectory, Order

PERIODS = {"week": 12, "month": 12}


def _period_starts(by: str, count: int, today) -> list:
    if by == "week":
        monday = today - timedelta(days=today.weekday())
        return [monday - timedelta(weeks=i) for i in reversed(range(count))]
    first = today.replace(day=1)
    starts = []
    year, month = first.year, first.month
    for _ in range(count):
        starts.append(first.replace(year=year, month=month))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(starts))


def trade_volume(*, by: str = "week", today=None) -> list[dict]:
    """Per week (or month), oldest first, the last 12 periods: orders, price and fee totals
    in cents (refunded orders included; they were trades). Operator only."""
    by = by if by in PERIODS else "week"
    today = today or timezone.localdate()
    starts = _period_starts(by, PERIODS[by], today)
    since = timezone.make_aware(datetime.combine(starts[0], time.min))
    trunc = TruncWeek if by == "week" else TruncMonth
    with transaction.atomic(), platform_path():
        rows = (
            Order.objects.filter(created_at__gte=since)
            .annotate(period=trunc("created_at"))
            .values("period")
            .annotate(orders=Count("id"), price=Sum("price_cents"), fees=Sum("fee_cents"))
        )
        found = {timezone.localtime(r["period"]).date(): r for r in rows}
    out = []
    for start in starts:
        row = found.get(start, {})
        out.append(
            {
                "start": start,
                "orders": row.get("orders", 0),
                "price_cents": row.get("price") or 0,
                "fee_cents": row.get("fees") or 0,
            }
        )
    return out


def member_names() -> dict:
    """{organization id: display name} from the public directory."""
    return dict(MemberDirectory.objects.values_list("member_id", "display_name"))
