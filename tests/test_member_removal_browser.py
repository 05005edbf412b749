"""In the browser: Remove on the members page opens the confirmation with the member's open
work, the remover takes it over, and the member appears under "Removed members" (Playwright,
Debian's chromium, a live server)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.test_browser import CHROMIUM, live_url, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

assert CHROMIUM


@pytest.fixture
def coordinated(committed_tenant):
    """A provider coordinated by the tenant's coordinator (built before the browser starts:
    Playwright's sync API runs an event loop, and Django refuses ORM calls beside one)."""
    from tests.factories import make_provider

    t = committed_tenant
    coordinator, admin = t.membership(t.coordinator), t.membership(t.admin)
    provider = make_provider(t.org, seed=7401, last_name="Handed", coordinator=coordinator)
    return t, coordinator, admin, provider


def _after(t, coordinator, provider):
    """(removed_at, the provider's coordinator id), read on a thread without an event loop."""
    from django.db import connection

    from credex.models import Membership
    from credex.tenancy import tenant_context
    from roster.models import Provider

    try:
        with tenant_context(t.org):
            removed_at = Membership.all_objects.get(pk=coordinator.pk).removed_at
            return removed_at, Provider.objects.get(pk=provider.pk).coordinator_id
    finally:
        connection.close()


def test_remove_a_member_and_take_their_work_over(coordinated, live_url, page):  # noqa: F811
    from tests.conftest import PASSWORD

    t, coordinator, admin, provider = coordinated
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(t.admin.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/o/{t.org.slug}/")

    page.goto(f"{live_url}/o/{t.org.slug}/settings/members/")
    page.get_by_role("link", name=f"Remove {t.coordinator.email}").click()
    page.wait_for_url(f"**/settings/members/{coordinator.pk}/remove/")
    assert page.locator(".member-open-work li").all_inner_texts() == ["1 provider they coordinate"]
    assert page.get_by_label("Reassign to you").is_checked()
    shots = os.environ.get("CREDEX_SCREENSHOTS")
    if shots:
        page.screenshot(path=f"{shots}/member-remove.png", full_page=True)
    page.get_by_role("button", name=f"Remove {t.coordinator.email}").click()
    page.wait_for_url(f"**/o/{t.org.slug}/settings/members/")
    assert "their open work is to you" in page.locator(".messages").inner_text()
    removed = page.locator("section[aria-labelledby=removed-title]")
    assert t.coordinator.email in removed.inner_text()
    if shots:
        page.screenshot(path=f"{shots}/members-removed.png", full_page=True)
    with ThreadPoolExecutor(1) as pool:
        removed_at, coordinator_id = pool.submit(_after, t, coordinator, provider).result()
    assert removed_at is not None and coordinator_id == admin.pk
