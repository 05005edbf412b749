"""The prices page in a real browser: an owner reads the rates and the history chart, votes,
and sees the vote recorded; no CSP violation on the way. Screenshots at desktop and narrow
widths go to PRICING_SCREENSHOTS (a folder) when it is set, otherwise to tmp_path."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests.test_browser import live_url, page  # noqa: F401 (fixtures)
from tests.test_csp import Violations

pytestmark = pytest.mark.browser

HISTORY = [("2025Q4", 2200, "default", 0), ("2026Q1", 2400, "median", 5)]


@pytest.fixture
def priced_member(committed_tenant):
    """A committed approved member, five more members' votes on state_board this quarter and two
    past quarters of history; removed again afterwards (the rates table is global)."""
    from credex.tenancy import tenant_context
    from exchange.models import MarketRate, PriceVote
    from exchange.selectors.pricing import quarter_of
    from tests.conftest import build_tenant
    from tests.test_exchange_pricing import approve, vote

    approve(committed_tenant.org)
    others = []
    for n, cents in enumerate([2000, 2400, 2600, 3000, 3200]):
        tag = uuid.uuid4().hex[:8]
        t = build_tenant(f"Voter {n} {tag}", f"v{n}-{tag}.example", roles=())
        approve(t.org)
        vote(t, "state_board", cents)
        others.append(t)
    for quarter, cents, basis, count in HISTORY:
        MarketRate.objects.create(
            quarter=quarter, source="state_board", rate_cents=cents, basis=basis, vote_count=count
        )
    yield committed_tenant
    for t in [committed_tenant, *others]:
        with tenant_context(t.org):
            PriceVote.objects.filter(organization=t.org).delete()
    MarketRate.objects.filter(source="state_board", quarter=quarter_of()).delete()
    MarketRate.objects.filter(source="state_board", quarter__in=[q for q, *_ in HISTORY]).delete()


def test_an_owner_reads_the_prices_and_chart_and_votes_without_a_csp_violation(
    priced_member,
    live_url,  # noqa: F811
    page,  # noqa: F811
    tmp_path,
):
    from tests.conftest import PASSWORD

    t = priced_member
    shots = Path(os.environ.get("PRICING_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    violations = Violations()
    violations.watch(page)

    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(t.owner.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/o/{t.org.slug}/")

    page.goto(f"{live_url}/o/{t.org.slug}/exchange/pricing/")
    row = page.locator("#price-state_board")
    assert "Median of 5 votes" in row.inner_text()
    assert "$26" in row.inner_text()
    chart = page.locator('svg[aria-labelledby="xp-chart-state_board"]')
    assert chart.is_visible()
    assert chart.locator("circle").count() == 3  # two past quarters and this one
    page.screenshot(path=str(shots / "exchange-pricing-1366.png"), full_page=True)

    page.get_by_label("Your vote for State licensing board in dollars").fill("28.50")
    row.get_by_role("button", name="Vote").click()
    page.get_by_text("Your vote for State licensing board is recorded.").wait_for()
    row = page.locator("#price-state_board")
    assert "Median of 6 votes" in row.inner_text()
    assert "$27.25" in row.inner_text()  # 2600 and 2850: 2725
    assert page.get_by_label("Your vote for State licensing board in dollars").input_value() == (
        "28.50"
    )

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.screenshot(path=str(shots / "exchange-pricing-390.png"), full_page=True)
    assert violations == []


@pytest.fixture
def operator_user(priced_member):
    """An operator login, and the DEA default price and rate put back afterwards."""
    from exchange.models import DefaultPrice, MarketRate
    from exchange.selectors.pricing import quarter_of
    from tests.conftest import make_user

    before = DefaultPrice.objects.get(source="dea").price_cents
    yield make_user(f"operator-{uuid.uuid4().hex[:8]}@credex.example", is_exchange_operator=True)
    assert DefaultPrice.objects.get(source="dea").price_cents == 2100  # what the page saved
    DefaultPrice.objects.filter(source="dea").update(price_cents=before)
    MarketRate.objects.filter(source="dea", quarter=quarter_of()).delete()


def test_the_operator_reads_every_vote_and_changes_a_default_price(
    operator_user,
    live_url,  # noqa: F811
    page,  # noqa: F811
    tmp_path,
):
    from tests.conftest import PASSWORD

    shots = Path(os.environ.get("PRICING_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    violations = Violations()
    violations.watch(page)
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(operator_user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    page.goto(f"{live_url}/operator/exchange/rates/")
    assert page.get_by_text("Voter 0").first.is_visible()
    page.get_by_label("Default price for DEA (Diversion Control) in dollars").fill("21")
    page.locator("form", has=page.locator("#default-dea")).get_by_role(
        "button", name="Save"
    ).click()
    page.get_by_text("Default price for DEA (Diversion Control) saved.").wait_for()
    assert page.locator("#default-dea").input_value() == "21"
    page.screenshot(path=str(shots / "exchange-operator-rates-1366.png"), full_page=True)
    assert violations == []
