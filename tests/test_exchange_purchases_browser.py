"""The browser: a buyer's coordinator opens the buy page, buys, lands on the order and finds
the record with its provenance in the clinician's file (screenshots of the buy page and
the order under tests/screenshots/ when SCREENSHOTS=1)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests.test_browser import live_url, page  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_trade(committed_db):
    from tests.conftest import build_tenant
    from tests.exchange_fixtures import build_trade

    tag = uuid.uuid4().hex[:6]
    seller = build_tenant(f"Riverbend {tag}", f"rb{tag}.example", roles=())
    buyer = build_tenant(f"Lakeside {tag}", f"lk{tag}.example", roles=("coordinator",))
    return build_trade(seller, buyer, seed=int(tag, 16) % 50_000_000)


def test_a_coordinator_buys_a_listing_and_finds_it_in_the_clinicians_file(
    browser_trade,
    live_url,  # noqa: F811
    page,  # noqa: F811
):
    from tests.conftest import PASSWORD

    trade = browser_trade
    slug = trade.buyer.org.slug
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(trade.buyer.coordinator.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/o/{slug}/**")

    page.goto(f"{live_url}/o/{slug}/exchange/buy/{trade.listing.pk}/")
    assert "Fulfils your requirements" in page.content()
    shots = os.environ.get("SCREENSHOTS")
    if shots:
        Path("tests/screenshots").mkdir(exist_ok=True)
        page.screenshot(path="tests/screenshots/exchange_buy.png", full_page=True)
    page.get_by_role("button", name="Buy for $27.50").click()
    page.wait_for_url(f"**/o/{slug}/exchange/orders/*/")
    assert "Purchased on the exchange from" in page.content()
    if shots:
        page.screenshot(path="tests/screenshots/exchange_order.png", full_page=True)
    page.get_by_role("link", name="Open the PSV log").click()
    page.wait_for_url(f"**/providers/{trade.buyer_provider.pk}/**")
    assert (
        page.locator(".psv-provenance")
        .first.inner_text()
        .startswith(f"Purchased on the exchange from {trade.listing.seller_name}, verified")
    )
