"""The exchange home's first screen for a buyer: verifications on offer for clinicians already
on the organization's own roster, that it has not bought yet."""

from __future__ import annotations

from django.utils import timezone

from credex.tenancy import unscoped
from exchange.models import Order
from exchange.selectors.directory import member_is_approved
from exchange.selectors.search import live_listings_for_others, search_listings
from roster.models import Provider, ProviderStatus

MAX_CLINICIANS = 6


def roster_offers(*, org, limit: int = MAX_CLINICIANS) -> list:
    """Clinician groups (as search returns them) for up to `limit` clinicians of the roster
    with live listings, those fulfilling the requirements first; [] for a non-member."""
    if not member_is_approved(org):
        return []
    now = timezone.now()
    roster_npis = (
        Provider.objects.filter(organization=org, npi__gt="")
        .exclude(status=ProviderStatus.TERMINATED)
        .values("npi")
    )
    bought = set(Order.objects.filter(organization=org).values_list("listing_id", flat=True))
    with unscoped():
        npis = list(
            live_listings_for_others(org=org, now=now)
            .filter(npi__in=roster_npis)
            .exclude(id__in=bought)
            .order_by("clinician_name", "npi")
            .values_list("npi", flat=True)
            .distinct()[: limit * 3]
        )
    groups = []
    for npi in dict.fromkeys(npis):
        for group in search_listings(org=org, npi=npi, now=now):
            group.listings = [f for f in group.listings if f.listing.pk not in bought]
            if group.listings:
                group.fulfilling = sum(1 for f in group.listings if not f.unmet)
                groups.append(group)
    groups.sort(key=lambda g: (not g.fulfilling, g.clinician_name))
    return groups[:limit]
