"""In the browser: resolving an expired licence's inbox item asks what was done, the notice
offers an Undo that brings the item back, and the provider's expired-licence flag shows in
the row (Playwright, Debian's chromium, a live server)."""

from __future__ import annotations

import pytest

from tests.test_browser import CHROMIUM, live_url, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

assert CHROMIUM


@pytest.fixture
def lapsed(committed_tenant):
    """An active provider whose licence expired 5 days ago, the inbox generated."""
    from datetime import timedelta

    from django.utils import timezone

    from credex.tenancy import tenant_context
    from roster.models import InboxItem
    from roster.services.inbox import inbox_generate
    from roster.services.providers import credential_create
    from tests.factories import make_provider

    t = committed_tenant
    coordinator = t.membership(t.coordinator)
    provider = make_provider(
        t.org, seed=7301, first_name="Lee", last_name="Lapsed", coordinator=coordinator
    )
    with tenant_context(t.org):
        credential_create(
            org=t.org,
            actor=coordinator,
            provider=provider,
            kind="state_license",
            number="LAPSED-1",
            state="CA",
            issue_date=timezone.localdate() - timedelta(days=700),
            expiry_date=timezone.localdate() - timedelta(days=5),
        )
        inbox_generate(org=t.org)
        item = InboxItem.objects.get(provider=provider, kind="credential_expiry")
    return t, provider, item


def test_resolve_asks_for_a_reason_then_undo_brings_the_item_back(lapsed, live_url, page):  # noqa: F811
    from tests.conftest import PASSWORD

    t, provider, item = lapsed
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(t.coordinator.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/o/{t.org.slug}/")

    page.goto(f"{live_url}/o/{t.org.slug}/inbox/")
    row = page.locator(f"#item-{item.pk}")
    flag = row.locator('[data-flag="licence_expired"]')
    assert flag.is_visible() and "Licence expired" in flag.inner_text()

    # Resolve opens a reason field; the browser will not submit it empty.
    row.get_by_text("Resolve", exact=True).click()
    reason = row.get_by_label("The credential is still expired. What was done?")
    assert reason.is_visible()
    row.get_by_role("button", name="Resolve item").click()
    assert row.is_visible()  # not sent: the field is required
    reason.fill("Renewal filed with the board")
    row.get_by_role("button", name="Resolve item").click()
    row.wait_for(state="detached")

    notice = page.locator(".inbox-status .alert-success")
    assert "Resolved" in notice.inner_text()
    notice.get_by_role("button", name="Undo").click()
    page.locator(f"#item-{item.pk}").wait_for()
    assert "Re-opened" in page.locator(".inbox-status .alert-success").inner_text()
