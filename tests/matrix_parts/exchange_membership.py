"""Permission-matrix part: the exchange membership (apply). An allowed POST (owner, admin)
creates the pending membership and its accreditation; the matrix rolls each case back."""

from __future__ import annotations

from datetime import date, timedelta

BODIES: dict = {
    ("api_exchange_membership", "POST"): {
        "display_name": "Acme Health",
        "contact_name": "Casey Contact",
        "contact_email": "casey@acme.example",
        "accrediting_body": "ncqa",
        "accreditation_status": "accredited",
        "accreditation_expires_on": (date.today() + timedelta(days=365)).isoformat(),
        "releases_attested": True,
    }
}
READS_BY_POST: set = set()


def ids(tenant, base: dict) -> dict:
    return {}


def snapshot(org) -> dict:
    from credex.tenancy import tenant_context
    from exchange.models import Accreditation, ExchangeMembership

    with tenant_context(org):
        return {
            "exchange_memberships": sorted(
                ExchangeMembership.objects.values_list("id", "status", "applied_at")
            ),
            "exchange_accreditations": sorted(Accreditation.objects.values_list("id")),
        }
