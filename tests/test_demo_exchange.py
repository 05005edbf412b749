"""The demo exchange (demo/seeders/exchange.py), seeded through the services: approved members
with current NCQA accreditation, a pending application, shared clinicians with releases on
both sides, Riverbend's listings, market rates from a quorum of votes, a few trades, one open
dispute; and something worth buying on Lakeside's first screen."""

from __future__ import annotations

import pytest
from django.db import transaction

from credex.models import Membership, Organization, User
from credex.services import organization_create
from credex.tenancy import platform_path, tenant_context
from demo.seeders.exchange import MEMBERS, PENDING, seed_demo_exchange
from demo.seeders.roster import seed_demo_roster
from demo.seeders.verifications import seed_demo_verifications
from exchange.models import Dispute, Listing, MarketRate, MemberDirectory, Order
from tests.conftest import add_member, make_user

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def demo_orgs(db):
    orgs = {}
    for slug in (*MEMBERS, PENDING):
        owner = make_user(f"owner@{slug}.demo.example")
        org = organization_create(name=f"{slug.title()} Demo", owner=owner, slug=slug)
        orgs[slug] = org
    for slug in ("riverbend", "lakeside"):
        org = orgs[slug]
        with tenant_context(org):
            owner = Membership.objects.select_related("user").get(role="owner")
            seed_demo_roster(org, owner, count=60 if slug == "riverbend" else 10)
            if slug == "riverbend":
                seed_demo_verifications(org, owner)
    add_member(orgs["lakeside"], make_user("coordinator@lakeside.demo.example"), "coordinator")
    return orgs


def test_the_demo_exchange_is_seeded_through_the_services_and_only_once(demo_orgs, client):
    summary = seed_demo_exchange()
    assert summary["shared"] >= 10 and summary["listed"] > 0 and summary["orders"] >= 2
    assert seed_demo_exchange() == {"skipped": True}

    directory = {d.member_id: d for d in MemberDirectory.objects.all()}
    for slug in MEMBERS:
        entry = directory[demo_orgs[slug].pk]
        assert (entry.status, entry.good_standing) == ("approved", True)
    assert directory[demo_orgs[PENDING].pk].status == "pending"
    with transaction.atomic(), platform_path():
        assert Listing.objects.filter(organization=demo_orgs["riverbend"], status="live").exists()
        assert Order.objects.filter(organization=demo_orgs["lakeside"]).count() == summary["orders"]
        assert Dispute.objects.filter(status="open").count() == 1
    assert MarketRate.objects.filter(basis="median", vote_count__gte=5).exists()

    # Lakeside's coordinator finds something worth buying on the exchange's first screen.
    client.force_login(User.objects.get(email="coordinator@lakeside.demo.example"))
    response = client.get("/o/lakeside/exchange/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "On offer for clinicians on your roster" in page
    assert "fulfil" in page and "See and buy" in page
    assert Organization.objects.filter(slug__in=[*MEMBERS, PENDING]).count() == 6
