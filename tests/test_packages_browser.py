"""The browser, end to end: build a package from the provider file (a real worker builds it
while the progress bar polls), open it, share it by e-mail, and open the payer's link in a
browser with no account. Set PACKAGE_SCREENSHOT_DIR to keep screenshots of each page."""

from __future__ import annotations

import os
import re

import pytest

from tests.test_browser import live_url, page  # noqa: F401  (fixtures)
from tests.test_packages_worker import package_worker  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.external]


def shot(tab, name: str) -> None:
    folder = os.environ.get("PACKAGE_SCREENSHOT_DIR")
    if not folder:
        return
    for width in (1366, 390):
        tab.set_viewport_size({"width": width, "height": 900})
        tab.screenshot(path=os.path.join(folder, f"{name}-{width}.png"), full_page=True)
    tab.set_viewport_size({"width": 1366, "height": 768})


@pytest.fixture
def provider_with_documents(committed_tenant):
    """Built before the browser starts (Playwright's loop forbids ORM calls in its thread)."""
    import uuid

    from credex.tenancy import tenant_context
    from enrollment.models import Payer
    from enrollment.services import payer_contact_add
    from tests.factories import make_provider, pdf_bytes, png_bytes
    from tests.test_packages import upload

    tenant = committed_tenant
    owner = tenant.membership(tenant.owner)
    provider = make_provider(
        tenant.org, seed=uuid.uuid4().int % 10_000_000, first_name="Ada", last_name="Byron"
    )
    with tenant_context(tenant.org):
        upload(tenant.org, owner, provider, "license", pdf_bytes(2), "license.pdf")
        upload(tenant.org, owner, provider, "cv", png_bytes(300, 400), "cv.png")
        payer = Payer.objects.create(organization=tenant.org, name="Blue Plan")
        payer_contact_add(
            org=tenant.org,
            actor=owner,
            payer=payer,
            name="Rita Reviewer",
            email="rita@blue.example",
        )
    return tenant, provider


def test_build_share_and_open_a_package_as_a_payer(
    provider_with_documents,
    package_worker,  # noqa: F811
    live_url,  # noqa: F811
    page,  # noqa: F811
    mailoutbox,
):
    from tests.conftest import PASSWORD

    tenant, provider = provider_with_documents
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(tenant.coordinator.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/o/{tenant.org.slug}/**")

    page.goto(f"{live_url}/o/{tenant.org.slug}/providers/{provider.pk}/")
    block = page.locator("#provider-packages")
    block.get_by_role("button", name="Build package").click()
    # The progress bar polls until the worker has built it, then links the result.
    block.get_by_text("Download PDF").wait_for(timeout=60_000)
    shot(page, "provider-block")
    block.get_by_role("link", name=re.compile(r"Package of \d+ pages")).click()
    page.wait_for_url("**/packages/*/")
    assert page.get_by_text("Curriculum vitae").first.is_visible()
    assert page.get_by_text("Missing required elements").is_visible()

    # Each option names the contact, the e-mail and the payer (optgroups are not read out).
    page.get_by_label("Payer contact").select_option(
        label="Rita Reviewer <rita@blue.example> · Blue Plan"
    )
    page.get_by_role("button", name="Send secure link").click()
    page.get_by_text("Link sent to rita@blue.example.").wait_for()
    shot(page, "package-detail")

    # The link can be copied from the page, e.g. to paste into a payer's portal.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    link_field = page.get_by_role("textbox", name="Link sent to rita@blue.example")
    shared_url = link_field.input_value()
    assert "/p/" in shared_url
    copy = page.get_by_role("button", name="Copy the link sent to rita@blue.example")
    copy.click()
    page.locator("#shares").get_by_text("Copied to the clipboard.").wait_for()
    assert copy.inner_text() == "Copied"
    assert page.evaluate("navigator.clipboard.readText()") == shared_url

    page.goto(f"{live_url}/o/{tenant.org.slug}/packages/")
    assert page.get_by_role("link", name=provider.full_name).is_visible()
    shot(page, "package-list")
    page.goto(f"{live_url}/o/{tenant.org.slug}/packages/contacts/")
    shot(page, "payer-contacts")

    [mail] = mailoutbox
    link = re.search(r"https?://\S+/p/(\S+)/", mail.body).group(1)
    payer_page = page.context.browser.new_context().new_page()
    payer_page.goto(f"{live_url}/p/{link}/")
    assert payer_page.get_by_text(f"{tenant.org.name} shared a credential package").is_visible()
    with payer_page.expect_download() as download:
        payer_page.get_by_role("link", name=re.compile("Download the package")).click()
    assert download.value.suggested_filename.endswith(".pdf")
    shot(payer_page, "payer-page")
