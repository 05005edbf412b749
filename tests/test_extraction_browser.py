"""Extraction review in a real browser: the worklist, the review page beside the credential,
and an approval that changes the credential (screenshots at desktop and narrow widths)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from tests.test_browser import live_url, page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("CREDEX_SCREENSHOTS", "/tmp/credex-screenshots")


@pytest.fixture
def reviewed(committed_tenant):
    from tests.test_extraction_web import _suggestion_for

    provider, credential, suggestion = _suggestion_for(committed_tenant, seed=95)
    return committed_tenant, provider, credential, suggestion


def test_a_coordinator_reviews_and_approves_an_extraction_in_the_browser(reviewed, live_url, page):  # noqa: F811
    from credex.tenancy import tenant_context
    from roster.models import Credential
    from tests.conftest import PASSWORD

    tenant, provider, credential, suggestion = reviewed
    os.makedirs(SHOTS, exist_ok=True)
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(tenant.coordinator.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/o/{tenant.org.slug}/")

    page.goto(f"{live_url}/o/{tenant.org.slug}/extractions/")
    assert "1 differs" in page.locator(".ext-table").inner_text()
    page.screenshot(path=f"{SHOTS}/extraction-worklist.png", full_page=True)

    page.get_by_role("link", name=f"Review License for {provider.full_name}").click()
    page.wait_for_url(f"**/extractions/{suggestion.pk}/**")
    row = page.locator("tr.ext-differs")
    assert "differs" in row.inner_text() and "2027-01-31" in row.inner_text()
    page.screenshot(path=f"{SHOTS}/extraction-review.png", full_page=True)
    page.set_viewport_size({"width": 600, "height": 900})
    page.screenshot(path=f"{SHOTS}/extraction-review-narrow.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})

    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"**/o/{tenant.org.slug}/extractions/**")
    assert "approved and applied" in page.content()
    page.screenshot(path=f"{SHOTS}/extraction-after-approve.png", full_page=True)

    def expiry():  # the ORM refuses a thread running Playwright's event loop
        with tenant_context(tenant.org):
            return Credential.objects.get(pk=credential.pk).expiry_date

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(expiry).result() == date(2027, 1, 31)


def test_the_document_preview_is_beside_the_fields_wide_and_above_them_narrow(
    reviewed,
    live_url,  # noqa: F811
    page,  # noqa: F811
):
    from tests.conftest import PASSWORD

    tenant, provider, credential, suggestion = reviewed
    os.makedirs(SHOTS, exist_ok=True)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(tenant.coordinator.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/o/{tenant.org.slug}/")
    page.goto(f"{live_url}/o/{tenant.org.slug}/extractions/{suggestion.pk}/")
    preview = page.locator("img.ext-preview")
    page.wait_for_function(
        "() => { const i = document.querySelector('img.ext-preview');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    assert page.evaluate("document.querySelector('img.ext-preview').naturalHeight") == 1200
    fields = page.locator(".ext-review")
    wide_img, wide_fields = preview.bounding_box(), fields.bounding_box()
    page.screenshot(path=f"{SHOTS}/extraction-preview-1366.png", full_page=True)
    # beside: the fields start to the right of the picture, level with it
    assert wide_fields["x"] >= wide_img["x"] + wide_img["width"]
    assert wide_fields["y"] < wide_img["y"] + wide_img["height"]

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(100)
    narrow_img, narrow_fields = preview.bounding_box(), fields.bounding_box()
    page.screenshot(path=f"{SHOTS}/extraction-preview-390.png", full_page=True)
    # stacked: the picture above the fields, within the screen's width
    assert narrow_fields["y"] >= narrow_img["y"] + narrow_img["height"]
    assert narrow_img["x"] + narrow_img["width"] <= 390


def test_the_provider_file_says_the_license_document_waits_for_review(reviewed, live_url, page):  # noqa: F811
    from tests.conftest import PASSWORD
    from tests.test_requirements import set_required

    tenant, provider, credential, suggestion = reviewed

    def prepare():  # a current license that needs a document; its document waits for review
        from credex.tenancy import tenant_context
        from roster.models import Credential

        set_required(tenant, provider.provider_type, {"state_license": True})
        with tenant_context(tenant.org):
            Credential.objects.filter(pk=credential.pk).update(expiry_date=date(2030, 1, 31))

    with ThreadPoolExecutor(1) as pool:  # the ORM refuses Playwright's event loop thread
        pool.submit(prepare).result()
    os.makedirs(SHOTS, exist_ok=True)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(tenant.coordinator.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/o/{tenant.org.slug}/")
    page.goto(f"{live_url}/o/{tenant.org.slug}/providers/{provider.pk}/")
    item = page.locator(".missing-review")
    assert "State license: document waiting for review." in item.inner_text()
    page.screenshot(path=f"{SHOTS}/provider-file-waiting-1366.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=f"{SHOTS}/provider-file-waiting-390.png", full_page=True)
    item.get_by_role("link", name="Review it").click()
    page.wait_for_url(f"**#pdoc-{suggestion.document_id}")
