"""The browser, the whole trade: the buyer's coordinator searches the clinician by NPI, sees
"Fulfils your requirements", buys, lands on the order and finds the record with its
provenance in the clinician's file; the seller's admin then finds the sale in its statement
(screenshots under tests/screenshots/ when SCREENSHOTS=1)."""

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
    seller = build_tenant(f"Riverbend {tag}", f"rb{tag}.example", roles=("admin",))
    buyer = build_tenant(f"Lakeside {tag}", f"lk{tag}.example", roles=("coordinator",))
    return build_trade(seller, buyer, seed=int(tag, 16) % 50_000_000)


def _sign_in(page, live_url, email):  # noqa: F811
    from tests.conftest import PASSWORD

    page.context.clear_cookies()
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Signed in once the login page is left (waiting for "load" alone could return before the
    # POST's redirect, and the next goto then raced the session cookie).
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_a_coordinator_finds_by_npi_buys_and_the_seller_sees_the_sale(
    browser_trade,
    live_url,  # noqa: F811
    page,  # noqa: F811
):
    trade = browser_trade
    slug = trade.buyer.org.slug
    _sign_in(page, live_url, trade.buyer.coordinator.email)
    page.wait_for_url(f"**/o/{slug}/**")

    page.goto(f"{live_url}/o/{slug}/exchange/search/")
    search = page.locator("form:has(#id_npi)")
    search.get_by_label("NPI").fill(trade.listing.npi)
    search.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    result = page.locator("section.exchange-clinician", has_text=trade.listing.clinician_name)
    assert "Fulfils your requirements" in result.inner_text()
    result.get_by_role("link", name="Buy").first.click()
    page.wait_for_url(f"**/exchange/buy/{trade.listing.pk}/")
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

    # The seller's admin reads the sale in its statement.
    _sign_in(page, live_url, trade.seller.admin.email)
    page.goto(f"{live_url}/o/{trade.seller.org.slug}/exchange/statement/")
    row = page.locator("table.xa-statement tbody tr").first
    assert trade.buyer.org.name in row.inner_text()
    assert "$25.00" in row.inner_text()
    if shots:
        page.screenshot(path="tests/screenshots/exchange_statement.png", full_page=True)
