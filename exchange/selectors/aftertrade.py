"""After the trade: an order as one of its two parties sees it, the organization's disputes,
and the operator's dispute queue.

An order (and its rating and disputes) is the buyer's row that the seller may read (RLS
policy in exchange/migrations/0002). The scoped manager filters on the buyer's organization,
so the seller's reads lift the ORM scope and filter on `seller_organization` explicitly; the
database policy still admits only the two parties' rows.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from credex.errors import NotFound
from credex.tenancy import platform_path, unscoped
from exchange.models import Dispute, DisputeStatus, MemberDirectory, Order

BUYER = "buyer"
SELLER = "seller"


def order_for_party(*, org, order_id) -> tuple[Order, str]:
    """The order and the organization's side of it ("buyer" or "seller"); 404 otherwise."""
    org_id = getattr(org, "pk", org)
    order = Order.objects.filter(organization_id=org_id, pk=order_id).first()
    if order is not None:
        return order, BUYER
    with unscoped():
        order = Order.objects.filter(seller_organization_id=org_id, pk=order_id).first()
    if order is not None:
        return order, SELLER
    raise NotFound("Not found.")


def member_names(org_ids) -> dict:
    """{organization id: the name members see} from the global member directory."""
    ids = {i for i in org_ids if i}
    if not ids:
        return {}
    return dict(
        MemberDirectory.objects.filter(member_id__in=ids).values_list("member_id", "display_name")
    )


def disputes_for(*, org, status: str | None = None) -> list[Dispute]:
    """The organization's disputes as buyer and as seller, newest first, each with `side`
    ("buyer"/"seller") and `counterparty` (the other organization's member name)."""
    org_id = getattr(org, "pk", org)
    with unscoped():
        qs = Dispute.objects.filter(Q(organization_id=org_id) | Q(seller_organization_id=org_id))
        if status == "open":
            qs = qs.filter(status=DisputeStatus.OPEN)
        elif status == "resolved":
            qs = qs.exclude(status=DisputeStatus.OPEN)
        disputes = list(qs.select_related("order").order_by("-opened_at", "-id")[:500])
    names = member_names(d.organization_id for d in disputes)
    for d in disputes:
        if d.organization_id == org_id:
            d.side, d.counterparty = BUYER, d.order.seller_name
        else:
            d.side, d.counterparty = SELLER, names.get(d.organization_id, "A member")
    return disputes


def operator_disputes(*, status: str = "open") -> list[Dispute]:
    """Every dispute on the exchange (platform path: the operator's console only)."""
    with transaction.atomic(), platform_path():
        qs = Dispute.objects.select_related("order").order_by("opened_at", "id")
        if status == "open":
            qs = qs.filter(status=DisputeStatus.OPEN)
        elif status == "resolved":
            qs = qs.exclude(status=DisputeStatus.OPEN).order_by("-resolved_at", "-id")
        disputes = list(qs[:500])
    names = member_names(d.organization_id for d in disputes)
    for d in disputes:
        d.buyer_name = names.get(d.organization_id, "A member")
        d.seller_name = d.order.seller_name
    return disputes


def order_actions(*, org, order) -> dict:
    """What templates/exchange/aftertrade/_order_actions.html needs for one order: the side,
    the rating given (or None), the open dispute (or None), and whether a dispute may still
    be opened (with the day the window closes)."""
    from datetime import timedelta

    from django.utils import timezone

    from exchange.models import DisputeReason, ExchangeSettings, OrderStatus, Rating

    org_id = getattr(org, "pk", org)
    side = BUYER if order.organization_id == org_id else SELLER
    with unscoped():
        rating = Rating.objects.filter(order_id=order.pk).first()
        open_dispute = Dispute.objects.filter(order_id=order.pk, status=DisputeStatus.OPEN).first()
    closes = order.created_at + timedelta(days=ExchangeSettings.current().dispute_window_days)
    return {
        "order": order,
        "side": side,
        "rating": rating,
        "open_dispute": open_dispute,
        "dispute_closes": closes,
        "can_dispute": side == BUYER
        and open_dispute is None
        and order.status != OrderStatus.REFUNDED
        and timezone.now() <= closes,
        "reasons": DisputeReason.choices,
    }
