"""The browser: a coordinator starts a re-verification packet from the provider file with one
click (and a confirm), lands on the packet page, finds it in the worklist, and opens the
CAQH export. Screenshots at desktop and narrow widths go to $PACKETS_SHOTS if set."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests.test_browser import live_url, page  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


@pytest.fixture
def private_queue():
    """On-commit task sends go to a queue no worker reads (the broker is shared)."""
    from credex.celery import app

    conf, amqp = app.conf, app.amqp
    before = conf.task_default_queue

    def reroute(name):
        conf.task_default_queue = name
        for cached in ("queues", "default_queue", "router"):
            amqp.__dict__.pop(cached, None)

    reroute(f"packets-browser-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    yield
    reroute(before)


@pytest.fixture
def provider(committed_tenant, private_queue):
    from tests.test_packets import jane

    return jane(committed_tenant, seed=81)


def shot(page, name):  # noqa: F811
    folder = os.environ.get("PACKETS_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def test_start_a_packet_from_the_provider_file_and_open_the_caqh_export(
    committed_tenant,
    provider,
    live_url,  # noqa: F811
    page,  # noqa: F811
):
    from tests.conftest import PASSWORD

    slug = committed_tenant.org.slug
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(committed_tenant.coordinator.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/o/{slug}/")

    page.goto(f"{live_url}/o/{slug}/providers/{provider.pk}/")
    block = page.locator(".packet-block")
    assert "No re-verification packet yet" in block.inner_text()
    shot(page, "provider-before")
    page.once("dialog", lambda dialog: dialog.accept())
    block.get_by_role("button", name="Start re-verification packet").click()
    page.wait_for_url(f"**/o/{slug}/packets/*/")
    text = page.locator("main").inner_text()
    assert "Re-verification started" in text
    assert "NPPES re-check" in text and "State license CA A12345" in text
    assert "Upload link sent to jane@clinic.example" in text
    shot(page, "packet-detail")
    page.set_viewport_size({"width": 420, "height": 900})
    shot(page, "packet-detail-narrow")
    page.set_viewport_size({"width": 1366, "height": 768})

    page.goto(f"{live_url}/o/{slug}/packets/?status=in_progress")
    assert "Jane Doe" in page.locator("#packets-results").inner_text()
    shot(page, "packet-list")

    page.goto(f"{live_url}/o/{slug}/providers/{provider.pk}/")
    assert "Packet in progress" in page.locator(".packet-block").inner_text()
    shot(page, "provider-after")
    page.locator(".packet-block").get_by_role("link", name="Export CAQH profile").click()
    page.wait_for_url(f"**/o/{slug}/caqh/{provider.pk}/")
    assert "CAQH ProView profile" in page.locator("h1").inner_text()
    assert "A12345" in page.locator("main").inner_text()
    shot(page, "caqh")

    page.goto(f"{live_url}/o/{slug}/packets/bulk/")
    shot(page, "bulk")
