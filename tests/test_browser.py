"""The browser, end to end: Playwright driving Debian's chromium against a live server.

Log in, switch organization, invite a member, read the audit log.
"""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def live_url(committed_db):
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    thread = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        yield context.new_page()
        browser.close()


@pytest.fixture
def two_orgs(committed_tenant):
    """Built before the browser starts: Playwright's sync API runs an event loop, and Django
    refuses ORM calls from a thread that has one."""
    from tests.conftest import add_member, build_tenant

    a = committed_tenant
    b = build_tenant(f"Second {a.org.name}", f"second-{a.org.slug}.example", roles=())
    add_member(b.org, a.owner, "admin")  # the owner of A also belongs to B
    return a, b


def test_log_in_switch_organization_invite_a_member_and_read_the_audit_log(
    two_orgs, live_url, page
):
    from tests.conftest import PASSWORD

    a, b = two_orgs

    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(a.owner.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Two memberships: the organization picker.
    page.get_by_role("link", name=b.org.name).first.click()
    page.wait_for_url(f"**/o/{b.org.slug}/")
    assert b.org.name in page.locator(".switcher-label").inner_text()

    # Switch organization from the top bar.
    page.locator(".switcher summary").click()
    page.locator(f'.switcher a[href="/o/{a.org.slug}/"]').click()
    page.wait_for_url(f"**/o/{a.org.slug}/")
    assert a.org.name in page.locator(".switcher-label").inner_text()

    # Invite a member.
    page.goto(f"{live_url}/o/{a.org.slug}/settings/members/")
    page.get_by_label("E-mail address").fill(f"newhire@{a.org.slug}.example")
    page.get_by_label("Role", exact=True).select_option("coordinator")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text(f"Invitation sent to newhire@{a.org.slug}.example").wait_for()
    assert page.get_by_role("cell", name=f"newhire@{a.org.slug}.example", exact=True).is_visible()

    # Read the audit log and filter it to the invitation.
    page.get_by_role("link", name="Audit").first.click()
    page.wait_for_url(f"**/o/{a.org.slug}/audit/**")
    page.get_by_label("Action").select_option("member.invitation.sent")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**action=member.invitation.sent**")
    rows = page.locator("table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 1
    assert "member.invitation.sent" in rows.first.inner_text()
    assert f"newhire@{a.org.slug}.example" in rows.first.inner_text()
