# ruff: noqa: F811  (fixtures imported from tests.test_browser)
"""Issue 10, "Done when": a coordinator's morning, walked in the browser.

Dashboard → inbox → the file of a provider with a flag → an NPPES difference accepted from the
file's card → the re-verification packet with a failed step → the match review (confirmed) →
an enrollment for that provider refused. Every step goes through the pages a coordinator
clicks, against a live server, with the data built the real way beforehand (LEIE sample loaded
and the roster screened, NPPES answered by the loopback registry). Screenshots of each step go
to $MORNING_SHOTS when set.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from tests.test_browser import live_url, page  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser
ALI_NPI = "1790709913"  # on the LEIE exclusion sample (1610EXCL.csv)


def shot(page, name):
    folder = os.environ.get("MORNING_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


@pytest.fixture
def nppes_fake(settings):
    from tests.fixtures_nppes import FakeNppes, use_fake

    server = FakeNppes().start()
    use_fake(settings, server, retries=0)
    yield server
    server.stop()


@pytest.fixture
def morning(committed_tenant, nppes_fake):
    """Built before the browser starts (Playwright's loop forbids ORM calls on its thread).

    Morgan Rivera's licence expires in 20 days (an inbox item). Muhammad Ali is due for
    re-credentialing: his packet is started, the roster is screened against the LEIE sample
    (his NPI is on it: an open exact-NPI match, and the packet's OIG step has a discrepancy),
    and NPPES answers with a different last name (an open difference). A payer exists."""
    from django.utils import timezone

    from credex.tenancy import tenant_context
    from enrollment import services as enrollment_svc
    from roster.models import InboxItem
    from roster.services.inbox import inbox_generate
    from roster.services.providers import credential_create
    from screening.models import ScreeningHit
    from screening.nppes import services as nppes
    from screening.services import screening_run_now
    from tests.factories import make_provider
    from tests.fixtures_nppes import individual
    from tests.test_packets import jane, start
    from tests.test_screening_runs import load_lists

    t = committed_tenant
    coordinator = t.membership(t.coordinator)
    load_lists()
    rivera = make_provider(
        t.org, seed=7101, first_name="Morgan", last_name="Rivera", coordinator=coordinator
    )
    ali = jane(t, seed=7102, npi=ALI_NPI, first_name="Muhammad", last_name="Ali")
    with tenant_context(t.org):
        credential_create(
            org=t.org,
            actor=coordinator,
            provider=rivera,
            kind="state_license",
            number="MORNING-7101",
            state="CA",
            issuer="Medical Board of California",
            issue_date=timezone.localdate() - timedelta(days=700),
            expiry_date=timezone.localdate() + timedelta(days=20),
        )
        inbox_generate(org=t.org)
        item = InboxItem.objects.get(provider=rivera, status="open", kind="credential_expiry")
        packet = start(t, ali)
        screening_run_now(org=t.org, provider=ali)
        hit = ScreeningHit.objects.get(provider=ali, status="new", source="leie")
        nppes_fake.answer(ali.npi, individual(ali.npi, first="MUHAMMAD", last="ALI-HASSAN"))
        nppes.nppes_refresh(org=t.org, provider_ids=[ali.pk], trigger="packet")
        payer = enrollment_svc.payer_create(org=t.org, actor=coordinator, name="Sunrise Health")
    return {"t": t, "rivera": rivera, "item": item, "ali": ali, "packet": packet, "hit": hit,
            "payer": payer}  # fmt: skip


def test_the_morning_routine_from_the_dashboard_to_a_refused_enrollment(morning, live_url, page):
    from tests.conftest import PASSWORD

    t, ali, rivera = morning["t"], morning["ali"], morning["rivera"]
    base = f"{live_url}/o/{t.org.slug}"

    # Sign in: the dashboard.
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(t.coordinator.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/o/{t.org.slug}/")
    main = page.locator("main")
    assert main.get_by_text("Morgan Rivera").first.is_visible()  # the expiring licence
    assert main.get_by_text("Muhammad Ali").first.is_visible()  # the open match
    shot(page, "1-dashboard")

    # The inbox from the navigation: Rivera's licence is there.
    page.locator("nav").get_by_role("link", name="Inbox").first.click()
    page.wait_for_url(f"{base}/inbox/**")
    row = page.locator(f"#item-{morning['item'].pk}")
    assert rivera.full_name in row.inner_text() and "MORNING-7101" in page.content()
    # Ali's re-credentialing item carries his flag beside his name.
    ali_item = page.locator("tbody tr", has_text=ALI_NPI).first
    assert "NPI match" in ali_item.inner_text()
    shot(page, "2-inbox")

    # The providers list flags Ali; his file says so in the header.
    page.locator("nav").get_by_role("link", name="Providers").first.click()
    page.wait_for_url(f"{base}/providers/**")
    ali_row = page.locator("tbody tr", has_text=ALI_NPI).first
    assert "NPI match" in ali_row.inner_text()
    ali_row.get_by_role("link").first.click()
    page.wait_for_url(f"**/providers/{ali.pk}/**")
    header = page.locator(".provider-header")
    assert "match" in header.inner_text().lower(), header.inner_text()
    shot(page, "3-provider-file-flag")

    # The NPPES card: accept the last name NPPES has, in place.
    card = page.locator("#nppes-panel")
    item = card.locator(".nppes-item", has_text="ALI-HASSAN").first
    item.get_by_role("button", name="Accept").click()
    card.locator(".nppes-item", has_text="Accepted").first.wait_for()
    shot(page, "4-nppes-accepted")
    page.reload()
    assert "Ali-Hassan" in page.locator("h1").inner_text()

    # The packet: the OIG step needs attention (not "Done"), with a link to its record.
    page.goto(f"{base}/packets/{morning['packet'].pk}/")
    oig = page.locator("li", has_text="OIG LEIE screening").first
    assert "Needs attention" in oig.inner_text() and "✓" not in oig.inner_text()
    shot(page, "5-packet-failed-step")
    # The NPPES step too: its check found the name difference (accepting it does not re-run
    # the check), so the packet says two steps need attention and is not complete.
    assert "2 steps need attention" in page.locator("main").inner_text()
    assert "In progress" in page.locator("h1").inner_text()

    # The match review: why it matched, then confirm; back to the list, not another match.
    page.goto(f"{base}/screening/hits/{morning['hit'].pk}/")
    review = page.locator("main").inner_text()
    assert ALI_NPI in review and "NPI" in review
    shot(page, "6-match-review")
    page.locator("#id_note").fill("Checked the OIG LEIE online search; same NPI.")
    page.once("dialog", lambda dialog: dialog.accept())  # "Confirm that ... is excluded?"
    page.get_by_role("button", name="Confirm exclusion").click()
    page.wait_for_load_state()
    assert f"/screening/hits/{morning['hit'].pk}/" not in page.url or "Confirmed" in (
        page.locator("main").inner_text()
    )
    shot(page, "7-match-confirmed")

    # An enrollment for him is refused. From his file's "Request enrollment" (the provider
    # chosen already), the request is refused with the reason and nothing is written.
    page.goto(f"{base}/providers/{ali.pk}/")
    page.locator("#s-enrollments, section", has_text="enrollment").get_by_role(
        "link", name="Request enrollment"
    ).first.click()
    page.wait_for_url(f"{base}/enrollments/new/**")
    page.get_by_label("Sunrise Health").check()
    page.get_by_role("button", name="Request enrollment").click()
    alert = page.locator(".alert-error, .field-error", has_text="confirmed exclusion").first
    alert.wait_for()
    assert "Requested 1 enrollment" not in page.content()
    shot(page, "8-enrollment-refused")
    # The picker says so before anyone tries: his name is shown, and cannot be chosen.
    page.locator("#id_provider_search").fill("Ali")
    option = page.locator("#id_provider_results .picker-option", has_text=ALI_NPI)
    option.wait_for()
    assert "cannot be enrolled" in option.inner_text() and option.is_disabled()
    assert off_the_loop(lambda: enrollment_count(t.org, ali)) == 0


def enrollment_count(org, provider) -> int:
    from credex.tenancy import tenant_context
    from enrollment.models import Enrollment

    with tenant_context(org):
        return Enrollment.objects.filter(provider=provider).count()


def off_the_loop(fn):
    """Run an ORM read on a plain thread (Playwright's sync API runs an event loop here)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def call():
        try:
            return fn()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result()
