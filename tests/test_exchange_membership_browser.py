"""The browser, end to end: an owner applies to the exchange with an evidence upload, the
operator approves it from the console, and the member's exchange home shows its standing.
Screenshots go to $CREDEX_SCREENSHOTS (default /tmp)."""

from __future__ import annotations

import os
import uuid
from datetime import date, timedelta

import pytest

from tests.test_browser import live_url, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("CREDEX_SCREENSHOTS", "/tmp")


@pytest.fixture
def people(committed_tenant, tmp_path):
    from tests.exchange_membership_support import make_operator
    from tests.factories import PDF_BYTES

    operator = make_operator(f"operator-{uuid.uuid4().hex[:8]}@credex.example")
    evidence = tmp_path / "ncqa-certificate.pdf"
    evidence.write_bytes(PDF_BYTES)
    return committed_tenant, operator, evidence


def sign_in(page, live_url, email):  # noqa: F811
    from tests.conftest import PASSWORD

    page.context.clear_cookies()
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_an_owner_applies_and_the_operator_approves_in_the_browser(people, live_url, page):  # noqa: F811
    tenant, operator, evidence = people
    slug = tenant.org.slug
    sign_in(page, live_url, tenant.owner.email)
    page.wait_for_url(f"**/o/{slug}/")
    page.goto(f"{live_url}/o/{slug}/exchange/")
    assert "Apply to join the exchange" in page.content()
    page.get_by_role("link", name="Apply to join the exchange").click()
    page.wait_for_url(f"**/o/{slug}/exchange/membership/")
    page.get_by_label("Contact name").fill("Casey Contact")
    page.get_by_label("Contact e-mail").fill("casey@example.org")
    page.get_by_label("Your credentialing requirements").fill("NCQA CR 2025, 120-day window")
    page.get_by_label("Expires on").fill((date.today() + timedelta(days=500)).isoformat())
    page.get_by_label("Evidence", exact=False).set_input_files(str(evidence))
    page.get_by_label("We hold our clinicians' releases").check()
    page.screenshot(path=f"{SHOTS}/exchange-membership-apply.png", full_page=True)
    page.get_by_role("button", name="Send the application").click()
    page.wait_for_url(f"**/o/{slug}/exchange/")
    assert "Application under review" in page.content()

    sign_in(page, live_url, operator.email)
    page.goto(f"{live_url}/operator/exchange/")
    page.get_by_role("link", name=tenant.org.name).first.click()
    assert "ncqa-certificate.pdf" in page.content()
    page.screenshot(path=f"{SHOTS}/exchange-operator-application.png", full_page=True)
    page.get_by_role("button", name="Approve").click()
    assert "Application approved." in page.content()

    sign_in(page, live_url, tenant.owner.email)
    page.goto(f"{live_url}/o/{slug}/exchange/")
    content = page.content()
    assert "In good standing" in content and "Find verifications" in content
    page.screenshot(path=f"{SHOTS}/exchange-home-approved.png", full_page=True)
