"""Permission-matrix part: the independent coordinator's client invoice and rate card.

Org A's coordinator is made an independent coordinator (the coordinator role in a second
organization too), so the signed-in coordinator is allowed (200 on the invoice, the PUT sets
her default rates); owner, admin and auditor hold no `clients.invoice` (403), and every API
key is refused (person_required, 403) because a key names no person. The rate card is the
coordinator's own row (RLS on its owner), read in the snapshot under her user context.
"""

from __future__ import annotations

BODIES: dict = {
    ("api_billing_rates", "PUT"): {
        "provider_month_cents": 4500,
        "verification_cents": 1200,
        "package_cents": 2500,
        "enrollment_cents": 15000,
        "recredentialing_cents": 9000,
    },
}
READS_BY_POST: set = set()

# org A's id -> its coordinator's user id (set by ids(), read by snapshot()).
_COORDINATORS: dict = {}


def ids(tenant, base: dict) -> dict:
    from credex.services import organization_create
    from tests.conftest import add_member, make_user

    second_owner = make_user("owner@second-client.example")
    second = organization_create(name="Second Client Practice", owner=second_owner)
    add_member(second, tenant.coordinator, "coordinator")
    _COORDINATORS[tenant.org.pk] = tenant.coordinator.pk
    return {}


def snapshot(org) -> dict:
    from billing.models import CoordinatorRate
    from credex.tenancy import user_context

    coordinator = _COORDINATORS.get(org.pk)
    if coordinator is None:
        return {}
    with user_context(coordinator):
        rows = CoordinatorRate.objects.filter(owner_id=coordinator)
        return {
            "coordinator_rates": sorted(
                (str(r.client_id), tuple(r.rates().values()), r.updated_at) for r in rows
            )
        }
