"""The exchange search in a real browser: a buyer's coordinator looks a clinician up by NPI,
sees the seller's listing marked "Fulfils your requirements" with its Buy link, under a strict
CSP without a single violation; the seller's coordinator sees the listing on its listings
page. Screenshots go to EXCHANGE_SCREENSHOTS (a folder) when set, else to tmp_path."""

from __future__ import annotations

import os
import random
import uuid
from pathlib import Path

import pytest

from tests.test_browser import live_url, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def market(committed_db):
    """Built before the browser starts (Playwright's loop forbids ORM calls later)."""
    from credex.tenancy import tenant_context
    from exchange.services.listings import listing_create
    from tests.conftest import build_tenant
    from tests.factories import make_provider, valid_npi
    from tests.test_exchange_listings import add_release, make_member, record

    tag = uuid.uuid4().hex[:8]
    seller = build_tenant(f"Riverbend {tag}", f"river-{tag}.example")
    buyer = build_tenant(f"Lakeside {tag}", f"lake-{tag}.example")
    make_member(seller.org, name=f"Riverbend Health {tag}", trades=7, rating=5)
    make_member(buyer.org, name=f"Lakeside {tag}")
    seed = random.randrange(10_000_000, 90_000_000)
    npi = valid_npi(seed)
    provider = make_provider(seller.org, seed=seed, first_name="Jordan", last_name="Avila", npi=npi)
    make_provider(buyer.org, seed=seed, first_name="Jordan", last_name="Avila", npi=npi)
    add_release(seller.org, provider)
    for source in ("state_board", "dea"):
        v = record(seller, provider, source=source, days_ago=12)
        with tenant_context(seller.org):
            listing_create(
                org=seller.org, actor=seller.membership(seller.owner), verification_id=v.pk
            )
    return seller, buyer, npi


def _sign_in(page, live_url, user):  # noqa: F811
    from tests.conftest import PASSWORD

    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_buyer_finds_a_clinician_by_npi_and_sees_what_fulfils_its_requirements(
    market,
    live_url,  # noqa: F811
    page,  # noqa: F811
    tmp_path,
):
    seller, buyer, npi = market
    shots = Path(os.environ.get("EXCHANGE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    violations = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )

    _sign_in(page, live_url, buyer.coordinator)
    page.wait_for_url(f"**/o/{buyer.org.slug}/**")
    page.goto(f"{live_url}/o/{buyer.org.slug}/exchange/search/")
    form = page.locator("form.exchange-search-form")
    form.get_by_label("NPI").fill(npi)
    form.get_by_role("button", name="Search").click()
    page.wait_for_url(f"**npi={npi}**")
    card = page.locator(".exchange-clinician", has_text="Jordan Avila")
    card.wait_for()
    assert "On your roster" in card.inner_text()
    assert card.get_by_text("Fulfils your requirements").count() == 2
    assert card.get_by_role("link", name="Buy").count() == 2
    assert "Riverbend Health" in card.inner_text() and "7 trades" in card.inner_text()
    page.screenshot(path=str(shots / "exchange-search.png"), full_page=True)

    page.context.clear_cookies()
    _sign_in(page, live_url, seller.coordinator)
    page.wait_for_url(f"**/o/{seller.org.slug}/**")
    page.goto(f"{live_url}/o/{seller.org.slug}/exchange/listings/")
    rows = page.locator(".listings-table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 2
    page.screenshot(path=str(shots / "exchange-listings.png"), full_page=True)
    assert violations == []
