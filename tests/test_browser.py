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


@pytest.fixture
def morning(committed_tenant):
    """A coordinator's roster with a license expiring in 20 days and the inbox generated."""
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
        t.org, seed=7001, first_name="Morgan", last_name="Rivera", coordinator=coordinator
    )
    with tenant_context(t.org):
        credential_create(
            org=t.org,
            actor=coordinator,
            provider=provider,
            kind="state_license",
            number="MORNING-1",
            state="CA",
            issuer="Medical Board of California",
            issue_date=timezone.localdate() - timedelta(days=700),
            expiry_date=timezone.localdate() + timedelta(days=20),
        )
        inbox_generate(org=t.org)
        item = InboxItem.objects.get(provider=provider, status="open", kind="credential_expiry")
    return t, provider, item


def _csv(npi: str) -> bytes:
    header = "npi,first_name,last_name,provider_type,practice_states\n"
    return (header + f"{npi},Avery,Stone,MD,CA\n1234567893,Blake,Ortiz,NP,CA\n").encode()


def test_the_morning_routine_dashboard_expiring_credential_snooze_and_import(
    morning, live_url, page
):
    from tests.conftest import PASSWORD

    t, provider, item = morning
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(t.coordinator.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/o/{t.org.slug}/")

    # The dashboard shows the expiring credential; one click opens the provider's file.
    page.get_by_role("link", name=provider.full_name).first.click()
    page.wait_for_url(f"**/providers/{provider.pk}/**")
    assert page.get_by_text("MORNING-1").first.is_visible()

    # Snooze it from the inbox: it leaves the open list.
    page.goto(f"{live_url}/o/{t.org.slug}/inbox/")
    row = page.locator(f"#item-{item.pk}")
    row.get_by_text("Snooze", exact=True).click()
    row.locator(".menu-button").first.click()
    page.locator(f"#item-{item.pk}").wait_for(state="detached")

    # Import a CSV with an error, see it, fix it, import again.
    page.goto(f"{live_url}/o/{t.org.slug}/imports/")
    page.set_input_files(
        "#id_file",
        files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": _csv("1234567890")}],
    )
    page.get_by_role("button", name="Check and import").click()
    page.get_by_text("Nothing was imported.").wait_for()
    assert page.get_by_text("1234567890").first.is_visible()
    assert page.get_by_text("check digit").first.is_visible()

    page.goto(f"{live_url}/o/{t.org.slug}/imports/")
    page.set_input_files(
        "#id_file",
        files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": _csv("1720377294")}],
    )
    page.get_by_role("button", name="Check and import").click()
    page.get_by_text("Imported 2 rows.").wait_for()
    assert page.get_by_text("2 providers added").is_visible()
