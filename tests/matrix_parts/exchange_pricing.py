"""Permission-matrix part: exchange prices (price votes, market rates).

Org A is made an approved exchange member here (idempotently: a membership or directory row
another part built is left as it is), so an allowed vote is a real write: the org's PriceVote
row and the quarter's MarketRate change."""

from __future__ import annotations

BODIES: dict = {("api_exchange_price_votes", "POST"): {"source": "dea", "price_cents": 2100}}
READS_BY_POST: set = set()


def ids(tenant, base: dict) -> dict:
    from credex.tenancy import tenant_context
    from exchange.models import ExchangeMembership, MemberDirectory

    org = tenant.org
    with tenant_context(org):
        if not ExchangeMembership.objects.filter(organization=org).exists():
            ExchangeMembership.objects.create(
                organization=org,
                status="approved",
                display_name=org.name,
                contact_name="Casey Contact",
                contact_email="casey@example.com",
            )
    MemberDirectory.objects.get_or_create(
        member=org, defaults={"display_name": org.name, "status": "approved", "good_standing": True}
    )
    return {}


def snapshot(org) -> dict:
    from credex.tenancy import tenant_context
    from exchange.models import MarketRate, PriceVote

    with tenant_context(org):
        votes = sorted(PriceVote.objects.values_list("quarter", "source", "price_cents"))
    rates = sorted(MarketRate.objects.values_list("quarter", "source", "rate_cents", "vote_count"))
    return {"price_votes": votes, "market_rates": rates}
