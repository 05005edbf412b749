"""Exchange search and the requirements profile: by NPI and by name, grouped by clinician,
only live unexpired listings of other approved members in good standing, the freshness
clock, seller record and price, "fulfils your requirements" or each unmet rule's message,
"on your roster", the Buy link, a constant query count, refusal to non-members, the
requirements page and API, and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from credex.tenancy import tenant_context
from exchange.models import Listing, MarketRate, RequirementsProfile
from exchange.selectors.pricing import quarter_of
from exchange.services.listings import listing_create
from tests.conftest import build_tenant
from tests.factories import make_provider, valid_npi
from tests.test_exchange_listings import (  # noqa: F401 (fixtures)
    _generous_throttle,
    add_release,
    api,
    events,
    key_for,
    make_member,
    record,
)


def list_record(tenant, provider, **extra):
    v = record(tenant, provider, **extra)
    with tenant_context(tenant.org):
        return listing_create(
            org=tenant.org, actor=tenant.membership(tenant.owner), verification_id=v.pk
        )


@pytest.fixture
def world(tenant_a):
    """Riverbend sells (tenant_a); Lakeside buys; both approved, in good standing."""
    seller = tenant_a
    make_member(seller.org, name="Riverbend Verified", trades=12, rating=4)
    buyer = build_tenant("Lakeside Health", "lakeside.example")
    make_member(buyer.org, name="Lakeside")
    npi = valid_npi(8101)
    provider = make_provider(seller.org, seed=8101, first_name="Avery", last_name="Stone", npi=npi)
    add_release(seller.org, provider)
    on_roster = make_provider(buyer.org, seed=8101, first_name="Avery", last_name="Stone", npi=npi)
    return seller, buyer, provider, on_roster


def search_url(tenant, **query):
    from urllib.parse import urlencode

    return f"/o/{tenant.org.slug}/exchange/search/?{urlencode(query)}"


def test_a_buyer_finds_a_clinicians_listings_by_npi_with_freshness_seller_price_and_buy_link(
    world, login
):
    seller, buyer, provider, on_roster = world
    board = list_record(seller, provider, days_ago=30)
    dea = list_record(seller, provider, source="dea", days_ago=10)
    client = login(buyer.coordinator)
    body = api(client, "GET", f"exchange/search?npi={provider.npi}").json()
    (group,) = body["results"]
    assert group["npi"] == provider.npi and group["clinician_name"] == "Avery Stone"
    assert group["on_roster"] is True and group["roster_provider_id"] == str(on_roster.pk)
    by_id = {x["id"]: x for x in group["listings"]}
    assert set(by_id) == {str(board.pk), str(dea.pk)}
    x = by_id[str(board.pk)]
    assert (x["source"], x["source_state"], x["method"]) == ("state_board", "CA", "web")
    assert x["days_left"] in (89, 90)  # 120 - 30
    assert x["seller_name"] == "Riverbend Verified"
    assert x["seller_rating"] == 4.0 and x["seller_trades"] == 12
    assert x["price_cents"] == 2500  # fallback market rate
    assert x["fulfils_requirements"] is True and x["unmet"] == []
    (read,) = events(buyer.org, "roster.provider.list_viewed")
    assert read.data["providers"] == [str(on_roster.pk)] and read.data["via"] == "api"
    page = client.get(search_url(buyer, npi=provider.npi)).content.decode()
    assert len(events(buyer.org, "roster.provider.list_viewed")) == 2
    assert "Avery Stone" in page and "On your roster" in page
    assert "Fulfils your requirements" in page
    assert f"/exchange/buy/{board.pk}/" in page
    assert "Riverbend Verified" in page and "12 trades" in page and "$25" in page


def test_the_market_rate_of_the_quarter_prices_a_listing_without_its_own_price(world, login):
    seller, buyer, provider, _ = world
    MarketRate.objects.create(
        quarter=quarter_of(), source="state_board", rate_cents=4000, vote_count=5, basis="median"
    )
    list_record(seller, provider)
    body = api(login(buyer.coordinator), "GET", f"exchange/search?npi={provider.npi}").json()
    assert body["results"][0]["listings"][0]["price_cents"] == 4000


def test_requirements_name_each_unmet_rule_in_words(world, login):
    seller, buyer, provider, _ = world
    old = list_record(seller, provider, days_ago=100, method="fax")
    texas = list_record(seller, provider, source="state_board", source_state="TX", days_ago=5)
    dea = list_record(seller, provider, source="dea", days_ago=5)
    client = login(buyer.admin)
    r = api(
        client,
        "PUT",
        "exchange/requirements",
        {
            "rules": [
                {
                    "source": "state_board",
                    "max_age_days": 90,
                    "methods": ["web", "api"],
                    "source_states": ["CA"],
                }
            ],
            "min_seller_rating": "4.5",
        },
    )
    assert r.status_code == 200, r.content
    assert r.json()["rules"][0]["max_age_days"] == 90
    (group,) = api(client, "GET", f"exchange/search?npi={provider.npi}").json()["results"]
    unmet = {x["id"]: [u["message"] for u in x["unmet"]] for x in group["listings"]}
    assert "older than your 90-day maximum" in unmet[str(old.pk)]
    assert "method fax not accepted" in unmet[str(old.pk)]
    assert "source state TX not accepted" in unmet[str(texas.pk)]
    assert any("not a type you accept" in m for m in unmet[str(dea.pk)])
    for listing in (old, texas):
        assert "seller rated 4.0, below your minimum 4.5" in unmet[str(listing.pk)]
    assert all(not x["fulfils_requirements"] for x in group["listings"])
    page = client.get(search_url(buyer, npi=provider.npi)).content.decode()
    assert "older than your 90-day maximum" in page and "method fax not accepted" in page
    assert len(events(buyer.org, "exchange.requirements.updated")) == 1


def test_search_never_shows_own_paused_expired_withdrawn_or_unsellable_sellers_listings(
    world, login
):
    seller, buyer, provider, on_roster = world
    live = list_record(seller, provider)
    paused = list_record(seller, provider, source="dea")
    expired = list_record(seller, provider, source="board")
    with tenant_context(seller.org):
        Listing.objects.filter(pk=paused.pk).update(status="paused")
        # past its expiry, still "live" until the daily task runs
        Listing.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(1))
    # the buyer's own listing of the same clinician
    add_release(buyer.org, on_roster)
    own = list_record(buyer, on_roster)
    client = login(buyer.coordinator)
    ids = lambda: {  # noqa: E731
        x["id"]
        for g in api(client, "GET", f"exchange/search?npi={provider.npi}").json()["results"]
        for x in g["listings"]
    }
    assert ids() == {str(live.pk)}
    assert str(own.pk) not in ids()
    make_member(seller.org, name="Riverbend Verified", good_standing=False)
    assert ids() == set()
    make_member(seller.org, name="Riverbend Verified", status="suspended")
    assert ids() == set()


def test_search_by_name_finds_clinicians_only_with_three_letters_and_caps_the_result(
    world, login, monkeypatch
):
    seller, buyer, provider, _ = world
    list_record(seller, provider)
    for n in range(4):
        other = make_provider(
            seller.org, seed=8200 + n, first_name="Kim", last_name=f"Stonewall{n}"
        )
        add_release(seller.org, other)
        list_record(seller, other)
    client = login(buyer.coordinator)
    names = lambda q: [  # noqa: E731
        g["clinician_name"] for g in api(client, "GET", f"exchange/search?q={q}").json()["results"]
    ]
    assert names("stone")[0] == "Avery Stone" and len(names("stone")) == 5
    assert names("stonewall") == [f"Kim Stonewall{n}" for n in range(4)]
    from exchange.selectors import search

    monkeypatch.setattr(search, "MAX_CLINICIANS", 2)
    assert len(names("stone")) == 2
    short = api(client, "GET", "exchange/search?q=st")
    assert short.status_code == 400 and short.json()["code"] == "query_too_short"
    none = api(client, "GET", "exchange/search")
    assert none.status_code == 400 and none.json()["code"] == "query_missing"
    assert api(client, "GET", "exchange/search?q=%25%25%25").status_code == 400  # no wildcard dump
    page = client.get(search_url(buyer, q="Stonewall")).content.decode()
    assert "Kim Stonewall0" in page


@pytest.mark.parametrize(
    "npi,code",
    [("123", "invalid_npi"), ("1234567890", "invalid_npi"), ("12345678a3", "invalid_npi")],
)
def test_a_malformed_npi_is_refused(world, login, npi, code):
    r = api(login(world[1].coordinator), "GET", f"exchange/search?npi={npi}")
    assert r.status_code == 400 and r.json()["code"] == code
    assert set(r.json()) == {"code", "message", "details"}


def test_hostile_search_input_is_refused_with_the_error_shape(world, login):
    client = login(world[1].coordinator)
    for query in ["q=%00%00%00", "npi=%00", f"q={'a' * 5000}", "npi=1&q=abc"]:
        r = api(client, "GET", f"exchange/search?{query}")
        assert r.status_code == 400, query
        assert set(r.json()) == {"code", "message", "details"}
    page = client.get(f"/o/{world[1].org.slug}/exchange/search/?q=a%00b")
    assert page.status_code == 400


def test_search_is_refused_to_an_organization_that_is_not_an_approved_member(world, login):
    seller, buyer, provider, _ = world
    list_record(seller, provider)
    make_member(buyer.org, status="pending", good_standing=False)
    client = login(buyer.coordinator)
    r = api(client, "GET", f"exchange/search?npi={provider.npi}")
    assert r.status_code == 403 and r.json()["code"] == "not_a_member"
    page = client.get(search_url(buyer, npi=provider.npi))
    assert page.status_code == 200
    assert b"Only approved members" in page.content and b"Avery Stone" not in page.content


def test_the_database_policy_hides_listings_from_a_non_member_even_unscoped(world):
    from credex.tenancy import unscoped

    seller, buyer, provider, _ = world
    list_record(seller, provider)
    make_member(buyer.org, status="rejected", good_standing=False)
    with tenant_context(buyer.org), unscoped():
        assert Listing.objects.filter(npi=provider.npi).count() == 0
    make_member(buyer.org)
    with tenant_context(buyer.org), unscoped():
        assert Listing.objects.filter(npi=provider.npi).count() == 1


def test_search_answers_in_a_constant_number_of_queries(
    world, login, django_assert_max_num_queries
):
    seller, buyer, provider, _ = world
    client = login(buyer.coordinator)
    list_record(seller, provider)
    with django_assert_max_num_queries(40) as one:
        assert api(client, "GET", f"exchange/search?npi={provider.npi}").status_code == 200
    few = len(one.captured_queries)
    others = [build_tenant(f"Seller {n}", f"s{n}.example", roles=()) for n in range(3)]
    for n, other in enumerate(others):
        make_member(other.org, name=f"Seller {n}")
        p = make_provider(other.org, seed=8101, npi=provider.npi)
        add_release(other.org, p)
        list_record(other, p)
        list_record(other, p, source="dea")
    list_record(seller, provider, source="dea")
    with django_assert_max_num_queries(few) as many:
        body = api(client, "GET", f"exchange/search?npi={provider.npi}").json()
    assert len(body["results"][0]["listings"]) == 8
    assert len(many.captured_queries) <= few
    with django_assert_max_num_queries(few + 8):  # the page: session, tabs, template
        assert client.get(search_url(buyer, npi=provider.npi)).status_code == 200


def test_search_routes_answer_outsider_read_only_and_anonymous(world, login, client):
    seller, buyer, provider, _ = world
    list_record(seller, provider)
    # anonymous
    assert client.get(search_url(buyer, npi=provider.npi)).status_code == 302
    assert api(client, "GET", f"exchange/search?npi={provider.npi}").status_code == 401
    # read-only roles may search (it reads)
    auditor = login(buyer.auditor)
    assert auditor.get(search_url(buyer, npi=provider.npi)).status_code == 200
    r = api(auditor, "GET", f"exchange/search?npi={provider.npi}")
    assert r.status_code == 200 and r.json()["results"]
    assert b"/exchange/buy/" not in auditor.get(search_url(buyer, npi=provider.npi)).content
    # an outsider naming the buyer's organization
    outsider = login(seller.owner)
    assert outsider.get(search_url(buyer, npi=provider.npi)).status_code == 404


# --- the requirements profile ---------------------------------------------------------------


def test_an_admin_saves_requirements_on_the_page_and_the_auditor_cannot(world, login):
    _, buyer, _, _ = world
    url = f"/o/{buyer.org.slug}/exchange/requirements/"
    admin = login(buyer.admin)
    assert admin.get(url).status_code == 200
    r = admin.post(
        url,
        {
            "accept_state_board": "1",
            "max_age_state_board": "60",
            "methods_state_board": ["web", "phone"],
            "states_state_board": "ca, tx",
            "accept_dea": "1",
            "max_age_dea": "90",
            "min_seller_rating": "3.5",
        },
    )
    assert r.status_code == 302
    with tenant_context(buyer.org):
        profile = RequirementsProfile.objects.get()
        rules = {r.source: r for r in profile.rules.all()}
    assert set(rules) == {"state_board", "dea"}
    assert rules["state_board"].max_age_days == 60
    assert rules["state_board"].methods == ["phone", "web"]
    assert rules["state_board"].source_states == ["CA", "TX"]
    assert str(profile.min_seller_rating) == "3.5"
    bad = admin.post(url, {"accept_dea": "1", "max_age_dea": "400"})
    assert bad.status_code == 400 and b"between 1 and 120" in bad.content
    auditor = login(buyer.auditor)
    assert auditor.get(url).status_code == 200
    assert auditor.post(url, {"accept_dea": "1"}).status_code == 403
    coordinator = login(buyer.coordinator)
    assert coordinator.post(url, {"accept_dea": "1"}).status_code == 403
    with tenant_context(buyer.org):
        assert RequirementsProfile.objects.get().rules.count() == 2


def test_the_requirements_api_validates_and_refuses_read_only_outsider_and_anonymous(
    world, login, client
):
    seller, buyer, _, _ = world
    admin = login(buyer.admin)
    for body in [
        {"rules": [{"source": "npdb"}]},
        {"rules": [{"source": "dea"}, {"source": "dea"}]},
        {"rules": [{"source": "dea", "max_age_days": 0}]},
        {"rules": [{"source": "dea", "methods": ["pigeon"]}]},
        {"rules": [{"source": "dea", "source_states": ["XX"]}]},
        {"rules": [], "min_seller_rating": "9"},
        {"rules": "dea"},
        {"rules": [{"source": "dea\x00"}]},
        ["x"],
        {},
    ]:
        r = api(admin, "PUT", "exchange/requirements", body)
        assert r.status_code == 400, (body, r.content)
        assert set(r.json()) == {"code", "message", "details"}
    assert api(admin, "GET", "exchange/requirements").json()["rules"] == []
    auditor = login(buyer.auditor)
    assert api(auditor, "GET", "exchange/requirements").status_code == 200
    assert api(auditor, "PUT", "exchange/requirements", {"rules": []}).status_code == 403
    client.logout()
    assert api(client, "PUT", "exchange/requirements", {"rules": []}).status_code == 401
    key = {"HTTP_AUTHORIZATION": f"Api-Key {key_for(seller, 'admin')}"}
    r = api(client, "PUT", "exchange/requirements", {"rules": [{"source": "dea"}]}, **key)
    assert r.status_code == 200  # the key's own organization (the seller), not the buyer's
    with tenant_context(buyer.org):
        assert not RequirementsProfile.objects.exists()
