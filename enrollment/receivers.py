"""What enrollment answers on the hook points of the apps below it (registered in apps.py)."""

from __future__ import annotations

from datetime import date

from enrollment.models import PayerContact, PayerContract


def contract_renewals(*, org, due_by: date | None = None, ids=None) -> dict:
    """roster.hooks.contract_renewals: renewal dates by contract id (read only)."""
    qs = PayerContract.objects.filter(organization=org)
    if due_by is not None:
        qs = qs.filter(renewal_date__lte=due_by)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return dict(qs.values_list("id", "renewal_date"))


def payer_contacts(*, org):
    """verifications.hooks.payer_contacts: the organization's payer contacts, with their payer,
    by payer name then name (read only)."""
    return (
        PayerContact.objects.filter(organization=org)
        .select_related("payer")
        .order_by("payer__name", "name")
    )
