"""The clinician releases in a real browser: a coordinator asks a clinician to e-sign from the
releases page, the clinician opens the e-mailed link, reads the release, types a name, ticks
the box and signs; the coordinator then finds the release current. Screenshots of the list
and the public page land in .data/screenshots/."""

from __future__ import annotations

import pathlib
import re
from datetime import timedelta

import pytest

from tests.test_browser import live_url, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

SHOTS = pathlib.Path(__file__).resolve().parent.parent / ".data" / "screenshots"


@pytest.fixture
def roster(committed_tenant):
    """Built before the browser starts (Playwright's event loop forbids ORM calls)."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from credex.tenancy import tenant_context
    from exchange.services.releases import release_record_document
    from tests.factories import make_provider, pdf_bytes

    t = committed_tenant
    signer = make_provider(
        t.org, seed=8101, first_name="Robin", last_name="Hale", email="robin@clinic.example"
    )
    other = make_provider(t.org, seed=8102, first_name="Sam", last_name="Ives")
    with tenant_context(t.org):
        release_record_document(
            org=t.org,
            actor=t.membership(t.coordinator),
            provider=other,
            scope_all=True,
            scope_sources=[],
            signed_on=timezone.localdate() - timedelta(days=340),
            expires_on=timezone.localdate() + timedelta(days=20),
            file=SimpleUploadedFile("ives-release.pdf", pdf_bytes()),
        )
    return t, signer


def test_a_coordinator_requests_an_e_signature_and_the_clinician_signs_in_the_browser(
    roster,
    live_url,  # noqa: F811
    page,  # noqa: F811
):
    from django.core import mail

    from tests.conftest import PASSWORD

    t, signer = roster
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(t.coordinator.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/o/{t.org.slug}/**")

    page.goto(f"{live_url}/o/{t.org.slug}/exchange/releases/")
    assert "Expiring" in page.locator("table").inner_text()
    page.screenshot(path=str(SHOTS / "releases-list.png"), full_page=True)

    page.get_by_role("link", name="Request an e-signature").click()
    page.get_by_label("Clinician").select_option(str(signer.pk))
    page.get_by_label("The release expires on").fill("2030-06-30")
    page.get_by_role("button", name="Send the link").click()
    page.get_by_text("was e-mailed a link").wait_for()
    assert "Waiting for a signature" in page.content()

    message = next(m for m in mail.outbox if "robin@clinic.example" in m.to)
    url = re.search(r"https?://\S+/r/\S+/", message.body).group(0)
    path = url[url.index("/r/") :]
    page.context.clear_cookies()
    page.goto(f"{live_url}{path}")
    assert "Robin" in page.locator(".release-text").inner_text()
    page.screenshot(path=str(SHOTS / "release-sign.png"), full_page=True)
    page.get_by_label("Type your full name").fill("Robin Hale")
    page.get_by_label("I have read this release and I agree to it.").check()
    page.get_by_role("button", name="Sign the release").click()
    page.get_by_text("Thank you, Robin Hale").wait_for()

    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(t.coordinator.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/o/{t.org.slug}/**")
    page.goto(f"{live_url}/o/{t.org.slug}/exchange/releases/?status=current")
    table = page.locator("table").inner_text()
    assert "Robin" in table and "E-signed by the clinician" in table
