"""Member-governed prices: votes, the market-rate median and quorum, the band and the fee, the
member's pricing page and chart, the operator's rates console, and the pricing API."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from audit.models import AuditEvent
from credex.errors import Conflict, Forbidden, InvalidInput
from credex.tenancy import tenant_context
from exchange.models import (
    DefaultPrice,
    ExchangeMembership,
    ExchangeSettings,
    MarketRate,
    MemberDirectory,
    PriceVote,
)
from exchange.selectors import pricing as sel
from exchange.services.pricing import (
    default_price_set,
    exchange_settings_update,
    price_vote_cast,
)
from tests.conftest import build_tenant, make_user

pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------------------


def approve(org, name=None):
    """An approved exchange member, built directly (the membership services are another area)."""
    with tenant_context(org):
        ExchangeMembership.objects.create(
            organization=org,
            status="approved",
            display_name=name or org.name,
            contact_name="Casey Contact",
            contact_email="casey@example.com",
        )
    MemberDirectory.objects.create(
        member=org, display_name=name or org.name, status="approved", good_standing=True
    )
    return org


def owner_of(tenant):
    return tenant.membership(tenant.owner)


def vote(tenant, source, cents, **extra):
    with tenant_context(tenant.org):
        return price_vote_cast(
            org=tenant.org, actor=owner_of(tenant), source=source, price_cents=cents, **extra
        )


def votes_of(org):
    with tenant_context(org):
        return list(PriceVote.objects.order_by("source").values_list("source", "price_cents"))


def rate(source, quarter=None):
    return MarketRate.objects.get(quarter=quarter or sel.quarter_of(), source=source)


def org_events(org, action):
    with tenant_context(org):
        return list(AuditEvent.objects.filter(organization=org, action=action).order_by("seq"))


def platform_events(action):
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.audit_platform', 'on', true)")
    return list(AuditEvent.objects.filter(organization__isnull=True, action=action))


def api(client, method, path, body=None, org=None, **extra):
    if org is not None:
        extra["HTTP_X_CREDEX_ORGANIZATION"] = org.slug
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, f"/api/v1/{path}", data, content_type="application/json", **extra)


@pytest.fixture
def member_a(tenant_a):
    approve(tenant_a.org)
    return tenant_a


@pytest.fixture
def members(member_a):
    """Org A plus five more approved members (each with an owner), six in all."""
    others = []
    for n in range(5):
        tag = uuid.uuid4().hex[:6]
        t = build_tenant(f"Member {n} {tag}", f"m{n}-{tag}.example", roles=())
        approve(t.org)
        others.append(t)
    return [member_a, *others]


@pytest.fixture
def operator(db):
    return make_user("operator@credex.example", is_exchange_operator=True)


def page_url(tenant, name="exchange_pricing"):
    return reverse(name, kwargs={"org_slug": tenant.org.slug})


# --- the median and the quorum ---------------------------------------------------------------


def test_the_median_of_an_odd_count_is_the_middle_vote():
    assert sel.median_cents([3000, 1000, 2000]) == 2000
    assert sel.median_cents([2500]) == 2500


def test_the_median_of_an_even_count_is_the_mean_of_the_two_middle_votes_rounded_half_up():
    assert sel.median_cents([1000, 2000, 3000, 9000]) == 2500
    assert sel.median_cents([2000, 2001]) == 2001  # 2000.5 -> 2001
    assert sel.median_cents([1999, 2000, 2002, 5000]) == 2001


def test_four_votes_leave_the_default_price_and_the_fifth_makes_the_median(members):
    prices = [2000, 2200, 2600, 3000, 9000]
    for t, cents in zip(members[:4], prices[:4], strict=True):
        vote(t, "dea", cents)
    four = rate("dea")
    assert (four.basis, four.rate_cents, four.vote_count) == ("default", 2000, 4)  # $20 default
    vote(members[4], "dea", prices[4])
    five = rate("dea")
    assert (five.basis, five.rate_cents, five.vote_count) == ("median", 2600, 5)
    assert sel.market_rate_cents("dea") == 2600


def test_a_suspended_members_vote_stops_counting_and_counts_again_on_reinstatement(
    members, operator
):
    from exchange.services.membership import membership_reinstate, membership_suspend

    for t, cents in zip(members[:5], [2000, 2200, 2600, 3000, 9000], strict=True):
        vote(t, "dea", cents)
    assert (rate("dea").basis, rate("dea").rate_cents) == ("median", 2600)
    membership_suspend(operator=operator, org_id=members[4].org.pk, reason="Audit pending")
    # Four approved votes left: below quorum, the default price again.
    assert (rate("dea").basis, rate("dea").rate_cents, rate("dea").vote_count) == (
        "default",
        2000,
        4,
    )
    membership_reinstate(operator=operator, org_id=members[4].org.pk)
    assert (rate("dea").basis, rate("dea").rate_cents) == ("median", 2600)


def test_an_even_number_of_votes_past_quorum_takes_the_mean_of_the_middle_two(members):
    for t, cents in zip(members, [1000, 2000, 3000, 4001, 5000, 6000], strict=True):
        vote(t, "board", cents)
    assert (rate("board").basis, rate("board").rate_cents) == ("median", 3501)  # 3500.5 up


def test_changing_a_vote_updates_it_recomputes_the_rate_and_audits_old_and_new(members):
    for t, cents in zip(members[:5], [1000, 2000, 3000, 4000, 5000], strict=True):
        vote(t, "education", cents)
    assert rate("education").rate_cents == 3000
    vote(members[0], "education", 4500)  # 1000 -> 4500: 2000 3000 4000 4500 5000
    assert rate("education").rate_cents == 4000
    assert votes_of(members[0].org) == [("education", 4500)]  # one vote, changed
    changed = org_events(members[0].org, "exchange.price_vote.changed")
    assert [(e.data["old_price_cents"], e.data["price_cents"]) for e in changed] == [(1000, 4500)]
    assert len(org_events(members[0].org, "exchange.price_vote.cast")) == 1
    rate_events = platform_events("exchange.market_rate.changed")
    assert any(
        e.data["rate_cents"] == 4000 and e.data["source"] == "education" for e in rate_events
    )


def test_a_closed_quarters_votes_cannot_change(members):
    with time_machine.travel(dt.datetime(2026, 12, 15, 12, tzinfo=dt.UTC), tick=False):
        for t, cents in zip(members[:5], [1000, 2000, 3000, 4000, 5000], strict=True):
            vote(t, "employer", cents)
        assert rate("employer", "2026Q4").rate_cents == 3000
    with time_machine.travel(dt.datetime(2027, 1, 5, 12, tzinfo=dt.UTC), tick=False):
        with pytest.raises(Conflict) as refused:
            vote(members[0], "employer", 9000, quarter="2026Q4")
        assert refused.value.code == "quarter_closed"
        new = vote(members[0], "employer", 9000)  # goes to the open quarter
        assert new.quarter == "2027Q1"
        client_response = api(
            _client_for(members[0]),
            "POST",
            "exchange/price-votes",
            {"source": "employer", "price_cents": 100, "quarter": "2026Q4"},
            org=members[0].org,
        )
        assert client_response.status_code == 409
    with tenant_context(members[0].org):
        old = PriceVote.objects.get(quarter="2026Q4", source="employer")
    assert old.price_cents == 1000
    assert rate("employer", "2026Q4").rate_cents == 3000
    assert rate("employer", "2027Q1").basis == "default"


def _client_for(tenant):
    from django.test import Client

    client = Client()
    client.force_login(tenant.owner, backend="allauth.account.auth_backends.AuthenticationBackend")
    return client


def test_a_non_member_cannot_vote_and_nothing_is_written(tenant_a):
    with pytest.raises(Conflict) as refused:
        vote(tenant_a, "dea", 2000)
    assert refused.value.code == "not_a_member"
    assert votes_of(tenant_a.org) == []
    assert not MarketRate.objects.filter(source="dea", quarter=sel.quarter_of()).exists()


def test_a_suspended_member_cannot_vote(member_a):
    MemberDirectory.objects.filter(member=member_a.org).update(status="suspended")
    with pytest.raises(Conflict):
        vote(member_a, "dea", 2000)
    assert votes_of(member_a.org) == []


def test_coordinators_and_auditors_cannot_vote(member_a):
    for user in (member_a.coordinator, member_a.auditor):
        with tenant_context(member_a.org), pytest.raises(Forbidden):
            price_vote_cast(
                org=member_a.org,
                actor=member_a.membership(user),
                source="dea",
                price_cents=2000,
            )
    assert votes_of(member_a.org) == []


@pytest.mark.parametrize(
    "source,cents",
    [("dea", 0), ("dea", -5), ("dea", 1_000_001), ("npdb", 2000), ("nope", 2000), ("dea", "20")],
)
def test_a_vote_out_of_range_or_for_an_untraded_type_is_refused(member_a, source, cents):
    with pytest.raises(InvalidInput):
        vote(member_a, source, cents)
    assert votes_of(member_a.org) == []


def test_the_highest_sane_price_is_accepted(member_a):
    assert vote(member_a, "dea", 1_000_000).price_cents == 1_000_000


# --- the band and the fee --------------------------------------------------------------------


def test_the_band_is_the_rate_plus_or_minus_the_setting_rounded_inward(member_a):
    assert sel.price_band_cents("state_board") == (1875, 3125)  # $25 default, 25%
    MarketRate.objects.create(
        quarter=sel.quarter_of(), source="dea", rate_cents=2501, basis="median", vote_count=5
    )
    assert sel.price_band_cents("dea") == (1876, 3126)  # 1875.75 up, 3126.25 down
    ExchangeSettings.objects.filter(pk=1).update(price_band_percent=10)
    assert sel.price_band_cents("state_board") == (2250, 2750)
    assert sel.price_band_cents("state_board", quarter="1999Q1") == (2250, 2750)  # default


def test_the_band_refuses_one_cent_outside_and_accepts_both_ends():
    low, high = sel.price_band_cents("state_board")
    assert sel.price_band_refusal("state_board", low) is None
    assert sel.price_band_refusal("state_board", high) is None
    assert sel.price_band_refusal("state_board", low - 1)["code"] == "price_outside_band"
    refusal = sel.price_band_refusal("state_board", high + 1)
    assert (
        refusal["message"] == "List at the market rate or between $18.75 and $31.25 this quarter."
    )


def test_the_fee_is_the_percentage_or_the_minimum_whichever_is_more():
    settings = ExchangeSettings.current()
    assert (settings.fee_basis_points, settings.fee_minimum_cents) == (1000, 200)
    assert sel.fee_cents(2500) == 250  # 10%
    assert sel.fee_cents(2505) == 251  # 250.5 rounds half up
    assert sel.fee_cents(1000) == 200  # 10% is $1, the minimum is $2
    assert sel.fee_cents(500) == 200
    assert sel.fee_rule() == "10% of the price, at least $2.00"


def test_the_migration_seeded_every_traded_type_but_npdb():
    seeded = dict(DefaultPrice.objects.values_list("source", "price_cents"))
    assert seeded == {
        "state_board": 2500,
        "dea": 2000,
        "board": 3000,
        "education": 4500,
        "employer": 4000,
        "facility": 4000,
        "malpractice_carrier": 3000,
        "nppes": 500,
        "oig": 500,
        "sam": 500,
    }
    assert ExchangeSettings.objects.filter(pk=1).exists()


# --- the member's pricing page ---------------------------------------------------------------


def test_a_member_sees_rate_basis_band_fee_and_votes_with_the_owner(members, login):
    for t, cents in zip(members[:5], [2000, 2400, 2600, 3000, 3200], strict=True):
        vote(t, "state_board", cents)
    client = login(members[0].owner)
    response = client.get(page_url(members[0]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-current="page">Prices</a>' in html
    row = html.split('id="price-state_board"')[1].split("</tr>")[0]
    assert "$26" in row and "Median of 5 votes" in row
    assert "$19.50 &ndash; $32.50" in row  # 2600 +- 25%
    assert "$2.60" in row  # fee: 10% of $26
    assert 'value="20"' in row and "Change vote" in row  # the owner's own vote, editable
    dea = html.split('id="price-dea"')[1].split("</tr>")[0]
    assert "Default price" in dea and "$20" in dea
    assert "style=" not in html and "<script>" not in html


def test_an_auditor_sees_the_prices_without_a_vote_form(member_a, login):
    response = login(member_a.auditor).get(page_url(member_a))
    assert response.status_code == 200
    assert reverse("exchange_price_vote", kwargs={"org_slug": member_a.org.slug}).encode() not in (
        response.content
    )
    assert b"Owners and admins vote" in response.content


def test_a_non_member_is_told_to_apply_and_sees_no_prices(tenant_a, login):
    response = login(tenant_a.owner).get(page_url(tenant_a))
    assert response.status_code == 200
    assert b"Apply for membership" in response.content
    assert b'id="price-dea"' not in response.content


def test_the_owner_votes_from_the_page_and_the_vote_is_audited(member_a, login):
    response = login(member_a.owner).post(
        page_url(member_a, "exchange_price_vote"), {"source": "dea", "price": "$1,250.5"}
    )
    assert response.status_code == 302
    assert votes_of(member_a.org) == [("dea", 125050)]
    assert len(org_events(member_a.org, "exchange.price_vote.cast")) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"source": "dea", "price": "twenty"},
        {"source": "dea", "price": "0"},
        {"source": "dea", "price": "20\x00"},
        {"source": "npdb", "price": "20"},
        {"source": "dea", "price": "9" * 5000},
        {"price": "20"},
    ],
)
def test_a_bad_vote_from_the_page_is_a_400_and_writes_nothing(member_a, login, body):
    response = login(member_a.owner).post(page_url(member_a, "exchange_price_vote"), body)
    assert response.status_code == 400
    if not any(
        "\x00" in v for v in body.values()
    ):  # NUL bytes are refused before the view (credex.hostile)
        assert b"Your vote was not recorded" in response.content
    assert votes_of(member_a.org) == []


def test_the_auditor_and_coordinator_get_403_posting_a_vote(member_a, login, client):
    for user in (member_a.auditor, member_a.coordinator):
        response = login(user).post(
            page_url(member_a, "exchange_price_vote"), {"source": "dea", "price": "20"}
        )
        assert response.status_code == 403
    assert votes_of(member_a.org) == []


def test_an_outsider_gets_404_and_anonymous_is_sent_to_sign_in(member_a, tenant_b, login, client):
    anonymous = client.get(page_url(member_a))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    outsider = login(tenant_b.owner)
    assert outsider.get(page_url(member_a)).status_code == 404
    response = outsider.post(
        page_url(member_a, "exchange_price_vote"), {"source": "dea", "price": "20"}
    )
    assert response.status_code == 404
    assert votes_of(member_a.org) == []


def test_the_chart_renders_an_svg_with_one_point_per_quarter(member_a, login):
    for quarter, cents, basis in [("2026Q1", 2500, "default"), ("2026Q2", 2700, "median")]:
        MarketRate.objects.create(
            quarter=quarter, source="facility", rate_cents=cents, basis=basis, vote_count=5
        )
    MarketRate.objects.create(
        quarter=sel.quarter_of(), source="facility", rate_cents=2900, basis="median", vote_count=6
    )
    html = login(member_a.owner).get(page_url(member_a)).content.decode()
    chart = html.split('aria-labelledby="xp-chart-facility"')[1].split("</figure>")[0]
    svg = chart.split("</svg>")[0]
    assert svg.count("<circle") == 3
    assert "2026Q1" in svg and "2026Q2" in svg
    table = chart.split("<table")[1]
    assert table.count("<tr>") == 4  # the header and one row per quarter
    assert "$27" in table and "Median of 5 votes" in table
    assert "Fee rule: 10% of the price, at least $2.00" in html


# --- the operator's console ------------------------------------------------------------------


def test_the_operator_sees_every_vote_with_the_member_that_cast_it(members, operator, login):
    vote(members[0], "sam", 700)
    vote(members[1], "sam", 900)
    response = login(operator).get(reverse("operator_rates"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{members[0].org.name}: $7" in html
    assert f"{members[1].org.name}: $9" in html
    assert 'name="vote_quorum"' in html and 'value="default_price"' in html
    assert [e.actor_label for e in platform_events("exchange.price_votes.read")] == [operator.email]


def test_operator_pages_are_404_for_members_and_a_sign_in_for_anonymous(member_a, login, client):
    url = reverse("operator_rates")
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    member = login(member_a.owner)
    assert member.get(url).status_code == 404
    before = ExchangeSettings.current().vote_quorum
    posted = member.post(url, {"form": "settings", "vote_quorum": "1"})
    assert posted.status_code == 404
    assert ExchangeSettings.current().vote_quorum == before


def _settings_body(**changes):
    s = ExchangeSettings.current()
    body = {"form": "settings"}
    for name in (
        "max_age_days",
        "vote_quorum",
        "price_band_percent",
        "fee_basis_points",
        "fee_minimum_cents",
        "dispute_window_days",
    ):
        body[name] = str(changes.get(name, getattr(s, name)))
    return body


def test_an_operator_settings_change_is_audited_with_old_and_new_and_recomputes(
    members, operator, login
):
    for t, cents in zip(members[:3], [1000, 2000, 3000], strict=True):
        vote(t, "malpractice_carrier", cents)
    assert rate("malpractice_carrier").basis == "default"
    client = login(operator)
    response = client.post(reverse("operator_rates"), _settings_body(vote_quorum=3))
    assert response.status_code == 302
    assert ExchangeSettings.current().vote_quorum == 3
    events = platform_events("exchange.settings.updated")
    assert [e.data["changes"] for e in events] == [{"vote_quorum": [5, 3]}]
    assert events[0].actor_label == operator.email
    assert (rate("malpractice_carrier").basis, rate("malpractice_carrier").rate_cents) == (
        "median",
        2000,
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"vote_quorum": 0},
        {"price_band_percent": 91},
        {"fee_basis_points": -1},
        {"max_age_days": "many"},
        {"dispute_window_days": 366},
    ],
)
def test_an_invalid_operator_setting_is_refused_and_nothing_changes(operator, login, changes):
    before = {
        k: v for k, v in ExchangeSettings.objects.filter(pk=1).values()[0].items() if k != "id"
    }
    response = login(operator).post(reverse("operator_rates"), _settings_body(**changes))
    assert response.status_code == 400
    name = next(iter(changes))
    assert f'id="id_{name}_error"'.encode() in response.content
    after = {
        k: v for k, v in ExchangeSettings.objects.filter(pk=1).values()[0].items() if k != "id"
    }
    assert after == before
    assert platform_events("exchange.settings.updated") == []


def test_the_settings_service_refuses_unknown_settings_and_non_operators(operator, tenant_a):
    with pytest.raises(InvalidInput):
        exchange_settings_update(operator=operator, fee_basis_points=True)
    with pytest.raises(InvalidInput):
        exchange_settings_update(operator=operator, release_expiry_warning_days=3)
    with pytest.raises(Forbidden):
        exchange_settings_update(operator=tenant_a.owner, vote_quorum=3)
    with pytest.raises(Forbidden):
        default_price_set(operator=tenant_a.owner, source="dea", price_cents=100)
    assert ExchangeSettings.current().vote_quorum == 5


def test_a_default_price_change_moves_the_rate_below_quorum_and_is_audited(
    member_a, operator, login
):
    vote(member_a, "nppes", 900)
    assert rate("nppes").rate_cents == 500
    response = login(operator).post(
        reverse("operator_rates"), {"form": "default_price", "source": "nppes", "price": "6.25"}
    )
    assert response.status_code == 302
    assert DefaultPrice.objects.get(source="nppes").price_cents == 625
    assert (rate("nppes").rate_cents, rate("nppes").basis) == (625, "default")
    events = platform_events("exchange.default_price.set")
    assert [(e.data["old_price_cents"], e.data["price_cents"]) for e in events] == [(500, 625)]


def test_a_bad_default_price_is_a_400_and_nothing_changes(operator, login):
    for body in (
        {"form": "default_price", "source": "npdb", "price": "5"},
        {"form": "default_price", "source": "dea", "price": "0"},
        {"form": "bogus"},
    ):
        assert login(operator).post(reverse("operator_rates"), body).status_code == 400
    assert DefaultPrice.objects.get(source="dea").price_cents == 2000
    assert not DefaultPrice.objects.filter(source="npdb").exists()


# --- the API ---------------------------------------------------------------------------------


def test_the_api_casts_and_lists_the_orgs_votes(member_a, login):
    client = login(member_a.admin)
    created = api(
        client,
        "POST",
        "exchange/price-votes",
        {"source": "dea", "price_cents": 2100},
        org=member_a.org,
    )
    assert created.status_code == 201, created.content
    assert created.json()["price_cents"] == 2100
    listed = api(client, "GET", "exchange/price-votes", org=member_a.org).json()
    assert [(v["source"], v["price_cents"], v["quarter"]) for v in listed] == [
        ("dea", 2100, sel.quarter_of())
    ]


def test_the_api_gives_rates_with_band_and_fee_and_history_on_request(member_a, login):
    MarketRate.objects.create(
        quarter="2025Q1", source="dea", rate_cents=1800, basis="default", vote_count=0
    )
    client = login(member_a.auditor)
    body = api(client, "GET", "exchange/market-rates", org=member_a.org).json()
    assert body["quarter"] == sel.quarter_of()
    dea = next(r for r in body["rates"] if r["source"] == "dea")
    assert (dea["rate_cents"], dea["band_low_cents"], dea["band_high_cents"], dea["fee_cents"]) == (
        2000,
        1500,
        2500,
        200,
    )
    assert "npdb" not in {r["source"] for r in body["rates"]}
    assert "history" not in body
    past = api(client, "GET", "exchange/market-rates?history=1", org=member_a.org).json()
    assert [(r["quarter"], r["rate_cents"]) for r in past["history"]] == [("2025Q1", 1800)]


@pytest.mark.parametrize(
    "body",
    [
        {"source": "dea", "price_cents": 0},
        {"source": "dea", "price_cents": 10_000_01},
        {"source": "npdb", "price_cents": 2000},
        {"source": "dea\x00", "price_cents": 2000},
        {"source": "dea", "price_cents": "2000x"},
        {"source": "dea", "price_cents": 2000, "quarter": "garbage"},
        {},
    ],
)
def test_a_bad_api_vote_is_a_400_in_the_error_shape_and_writes_nothing(member_a, login, body):
    response = api(login(member_a.owner), "POST", "exchange/price-votes", body, org=member_a.org)
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "details"}
    assert votes_of(member_a.org) == []


def test_the_auditor_gets_403_voting_by_api(member_a, login):
    response = api(
        login(member_a.auditor),
        "POST",
        "exchange/price-votes",
        {"source": "dea", "price_cents": 2000},
        org=member_a.org,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert votes_of(member_a.org) == []


def test_anonymous_gets_401_from_the_pricing_api(client):
    assert api(client, "GET", "exchange/market-rates").status_code == 401
    assert api(client, "POST", "exchange/price-votes", {}).status_code == 401


def test_a_non_member_gets_409_from_the_pricing_api(tenant_a, login):
    client = login(tenant_a.owner)
    for method, path in (("GET", "exchange/price-votes"), ("GET", "exchange/market-rates")):
        response = api(client, method, path, org=tenant_a.org)
        assert response.status_code == 409
        assert response.json()["code"] == "not_a_member"


def test_an_outsider_cannot_read_another_orgs_votes_by_api_or_raw_sql(member_a, tenant_b, login):
    approve(tenant_b.org)
    vote(member_a, "dea", 2100)
    vote(tenant_b, "dea", 2300)
    outsider = login(tenant_b.owner)
    # naming org A: not a member of it, so it does not exist
    assert api(outsider, "GET", "exchange/price-votes", org=member_a.org).status_code == 404
    own = api(outsider, "GET", "exchange/price-votes", org=tenant_b.org).json()
    assert [v["price_cents"] for v in own] == [2300]
    with tenant_context(member_a.org), connection.cursor() as cursor:
        cursor.execute("SELECT organization_id, price_cents FROM exchange_pricevote")
        rows = cursor.fetchall()
    assert rows == [(member_a.org.pk, 2100)]
    with tenant_context(tenant_b.org), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM exchange_pricevote WHERE organization_id = %s", [member_a.org.pk]
        )
        assert cursor.fetchone()[0] == 0
