"""The browser, after the trade: the seller's admin reads the sale in its statement; the
exchange operator refunds a disputed purchase from the console."""

from __future__ import annotations

import os
import random
import uuid

import pytest

from tests.test_browser import live_url, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("CREDEX_SCREENSHOTS", "")


@pytest.fixture
def disputed_trade(committed_tenant):
    """Built before the browser starts (Playwright's loop refuses ORM calls in its thread)."""
    from credex.tenancy import tenant_context
    from exchange.services.aftertrade import dispute_open
    from tests.conftest import build_tenant, make_user
    from tests.exchange_trades import make_trade

    tag = uuid.uuid4().hex[:8]
    buyer = committed_tenant
    seller = build_tenant(f"Riverbend {tag}", f"river-{tag}.example", roles=("admin",))
    order = make_trade(buyer, seller, npi_seed=random.randrange(10**6, 10**7))
    with tenant_context(buyer.org):
        dispute_open(
            org=buyer.org,
            actor=buyer.membership(buyer.owner),
            order=order,
            reason="incomplete",
            description="The evidence is missing its second page.",
        )
    operator = make_user(f"operator-{tag}@credex.example", is_exchange_operator=True)
    return buyer, seller, order, operator


def _sign_in(page, live_url, email):  # noqa: F811
    from tests.conftest import PASSWORD

    page.context.clear_cookies()
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_the_seller_reads_the_sale_and_the_operator_refunds_the_dispute(
    disputed_trade,
    live_url,  # noqa: F811
    page,  # noqa: F811
):
    buyer, seller, order, operator = disputed_trade

    _sign_in(page, live_url, seller.admin.email)
    page.goto(f"{live_url}/o/{seller.org.slug}/exchange/statement/")
    assert page.get_by_role("heading", name="Proceeds balance").is_visible()
    row = page.locator("table.xa-statement tbody tr").first
    assert buyer.org.name in row.inner_text() and "$30.00" in row.inner_text()
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "statement.png"), full_page=True)

    _sign_in(page, live_url, operator.email)
    page.goto(f"{live_url}/operator/exchange/disputes/")
    card = page.locator("section.xa-dispute", has_text=seller.org.name)
    card.get_by_label("Note to both parties (required)").fill("Second page confirmed missing.")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "operator_disputes.png"), full_page=True)
    card.get_by_role("button", name="Refund $33.00").click()
    page.get_by_text("Refunded: the buyer and the seller were told.").wait_for()

    _sign_in(page, live_url, seller.admin.email)
    page.goto(f"{live_url}/o/{seller.org.slug}/exchange/statement/")
    assert "Exchange refund" in page.locator("table.xa-statement tbody tr").first.inner_text()
    assert page.locator(".xa-total .dash-num").first.inner_text() == "$0.00"
