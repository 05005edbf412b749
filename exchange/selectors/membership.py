"""Membership reads: an organization's application, its accreditations and standing, and the
operator's views across members (on the platform path)."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from credex.tenancy import platform_path
from exchange.models import Accreditation, AccreditationStatus, ExchangeMembership

CURRENT_STATUSES = (AccreditationStatus.ACCREDITED, AccreditationStatus.PROVISIONAL)


def membership_get(*, org) -> ExchangeMembership | None:
    """The organization's exchange membership (None if it never applied)."""
    return ExchangeMembership.objects.filter(organization=org).first()


def accreditations_of(membership: ExchangeMembership) -> list[Accreditation]:
    """Every accreditation recorded for the membership, latest expiry first."""
    return list(
        Accreditation.objects.filter(
            organization_id=membership.organization_id, membership=membership
        ).order_by("-expires_on", "-recorded_at")
    )


def accreditation_current(membership: ExchangeMembership, *, on: date | None = None):
    """The accreditation that gives good standing (accredited or provisional, not expired on
    `on`), or None."""
    on = on or timezone.localdate()
    return (
        Accreditation.objects.filter(
            organization_id=membership.organization_id,
            membership=membership,
            status__in=CURRENT_STATUSES,
            expires_on__gte=on,
        )
        .order_by("-expires_on")
        .first()
    )


def in_good_standing(membership: ExchangeMembership, *, on: date | None = None) -> bool:
    """A current accreditation (the membership's status aside)."""
    return accreditation_current(membership, on=on) is not None


# --- the operator's reads (platform path) ----------------------------------------------------


def operator_applications() -> list[ExchangeMembership]:
    """Every membership, applications waiting first (operator only: the platform path)."""
    order = {"pending": 0, "info_requested": 1, "suspended": 2, "approved": 3, "rejected": 4}
    with transaction.atomic(), platform_path():
        rows = list(ExchangeMembership.objects.select_related("organization"))
    return sorted(rows, key=lambda m: (order.get(m.status, 9), m.applied_at))


def operator_application(org_id) -> tuple[ExchangeMembership | None, list[Accreditation]]:
    """One organization's membership and its accreditations (operator only)."""
    with transaction.atomic(), platform_path():
        membership = (
            ExchangeMembership.objects.select_related("organization", "attested_by__user")
            .filter(organization_id=org_id)
            .first()
        )
        if membership is None:
            return None, []
        return membership, accreditations_of(membership)


def operator_accreditation(org_id, accreditation_id) -> Accreditation | None:
    with transaction.atomic(), platform_path():
        return Accreditation.objects.filter(organization_id=org_id, pk=accreditation_id).first()


def operator_standing(*, on: date | None = None) -> list[dict]:
    """Accreditation standing of every approved or suspended member (operator only)."""
    on = on or timezone.localdate()
    with transaction.atomic(), platform_path():
        members = list(
            ExchangeMembership.objects.select_related("organization")
            .filter(status__in=["approved", "suspended"])
            .order_by("display_name")
        )
        accreditations: dict = {}
        for row in Accreditation.objects.filter(membership__in=[m.pk for m in members]).order_by(
            "-expires_on"
        ):
            accreditations.setdefault(row.membership_id, []).append(row)
    rows = []
    for m in members:
        mine = accreditations.get(m.pk, [])
        current = next(
            (a for a in mine if a.status in CURRENT_STATUSES and a.expires_on >= on), None
        )
        rows.append(
            {
                "membership": m,
                "accreditation": current or (mine[0] if mine else None),
                "good_standing": current is not None,
            }
        )
    return rows
