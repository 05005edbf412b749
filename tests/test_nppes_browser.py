"""The browser: the NPPES card of the provider file keeps every difference inside the card
(NPPES's value and Accept/Dismiss reachable, at desktop and phone widths), accepting works
from the card (htmx), and the NPI look-up on the new-provider form shows progress while
NPPES is slow. Screenshots go to $NPPES_SHOTS if set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fixtures_nppes import Answer, FakeNppes, individual, use_fake
from tests.test_browser import live_url, page  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def shot(page, name, element=None):  # noqa: F811
    folder = os.environ.get("NPPES_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)
        if element is not None:
            element.screenshot(path=f"{folder}/{name}-card.png")


@pytest.fixture
def fake(settings):
    server = FakeNppes().start()
    use_fake(settings, server, retries=0)
    yield server
    server.stop()


@pytest.fixture
def differing(committed_tenant, fake):
    """A provider whose name, practice location and taxonomies differ from NPPES (long
    values, as real addresses are), checked once: three open differences."""
    from tests.test_nppes_refresh import add_provider, refresh

    p = add_provider(committed_tenant, seed=41, first_name="Jane", last_name="Doe")
    fake.answer(
        p.npi,
        individual(
            p.npi,
            last="DOE-FARNSWORTH-WILLOUGHBY",
            location={
                "address_1": "2450 NORTHEAST MARTIN LUTHER KING JUNIOR BOULEVARD SUITE 1200",
                "address_2": "BUILDING C, THIRD FLOOR",
                "city": "WEST SACRAMENTO",
                "state": "CA",
                "postal_code": "956911234",
            },
            taxonomies=[
                {"code": "207RC0000X", "desc": "Cardiovascular Disease", "primary": True,
                 "state": "CA", "license": "A12345"},
                {"code": "207RI0011X", "desc": "Interventional Cardiology", "primary": False,
                 "state": "CA", "license": "A12345"},
            ],
        ),
    )  # fmt: skip
    refresh(committed_tenant)
    return p


def sign_in(page, live_url, tenant):  # noqa: F811
    from tests.conftest import PASSWORD

    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(tenant.coordinator.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/o/{tenant.org.slug}/")


def inside(inner, outer) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
    )


@pytest.mark.parametrize("width", [1366, 390])
def test_the_nppes_card_keeps_nppes_values_and_the_buttons_inside_and_accepts_with_htmx(
    committed_tenant,
    differing,
    live_url,  # noqa: F811
    page,  # noqa: F811
    width,
):
    slug = committed_tenant.org.slug
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_url, committed_tenant)
    page.goto(f"{live_url}/o/{slug}/providers/{differing.pk}/")
    card = page.locator("#nppes-panel")
    card.wait_for()
    items = card.locator(".nppes-item")
    assert items.count() >= 3
    shot(page, f"provider-nppes-{width}", card)

    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5  # the card is on screen
    for i in range(items.count()):
        item = items.nth(i)
        item.scroll_into_view_if_needed()
        label = item.locator(".nppes-field").inner_text()
        nppes_side = item.locator(".nppes-item-sides > div").nth(1).locator("dd")
        for part, element in [
            ("NPPES value", nppes_side),
            ("Dismiss", item.get_by_role("button", name="Dismiss")),
        ]:
            assert element.is_visible(), (label, part)
            assert inside(element.bounding_box(), box), (label, part, element.bounding_box(), box)
        accept = item.get_by_role("button", name="Accept")
        if accept.count():
            assert inside(accept.bounding_box(), box), (label, "Accept")
        # No horizontal scrolling inside the item either.
        assert item.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), label

    name = items.filter(has_text="DOE-FARNSWORTH-WILLOUGHBY").first
    url_before = page.url
    name.get_by_role("button", name="Accept").click()
    decided = card.locator(".nppes-item", has_text="Accepted").first
    decided.wait_for()
    assert "roster updated from NPPES" in decided.inner_text()
    assert page.url == url_before  # swapped in place, no navigation
    shot(page, f"provider-nppes-accepted-{width}", card)

    page.reload()
    assert "Doe-Farnsworth-Willoughby" in page.locator("h1").inner_text()


def test_the_npi_lookup_shows_progress_while_nppes_is_slow(
    committed_tenant,
    fake,
    live_url,  # noqa: F811
    page,  # noqa: F811
):
    npi = "1720377294"
    fake.answer(npi, Answer(200, individual(npi, first="HELEN", last="HIZA"), delay=2.5))
    slug = committed_tenant.org.slug
    sign_in(page, live_url, committed_tenant)
    page.goto(f"{live_url}/o/{slug}/providers/new/")
    page.locator("#id_npi").fill(npi)
    spinner = page.locator("#nppes-lookup-spinner")
    button = page.get_by_role("button", name="Look up in NPPES")
    assert not spinner.is_visible()
    button.click()
    spinner.wait_for(state="visible")
    assert "Asking NPPES" in spinner.inner_text()
    assert button.is_disabled()  # a second click would ask again
    shot(page, "lookup-waiting", page.locator(".nppes-fill"))
    page.locator("#nppes-lookup").get_by_text("From NPPES, answered").wait_for()
    assert not spinner.is_visible() and button.is_enabled()
    shot(page, "lookup-answered", page.locator(".nppes-fill"))


@pytest.fixture
def eager_tasks():
    """Queued tasks run at once, in the web process (no worker reads this test's broker)."""
    from credex.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def unchecked(committed_tenant, settings):
    """A provider never checked, and NPPES at a closed port."""
    from tests.test_nppes_failures import closed_port
    from tests.test_nppes_refresh import add_provider

    settings.NPPES_BASE_URL = f"http://127.0.0.1:{closed_port()}"
    settings.NPPES_MAX_RETRIES = 0
    return add_provider(committed_tenant, seed=43)


@pytest.mark.parametrize("width", [1366, 390])
def test_check_nppes_now_when_nppes_does_not_answer_turns_the_card_red(
    committed_tenant,
    unchecked,
    eager_tasks,
    live_url,  # noqa: F811
    page,  # noqa: F811
    width,
):
    provider = unchecked
    slug = committed_tenant.org.slug
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_url, committed_tenant)
    page.goto(f"{live_url}/o/{slug}/providers/{provider.pk}/")
    card = page.locator("#nppes-panel")
    card.wait_for()
    assert "Not checked yet" in card.inner_text()
    card.get_by_role("button", name="Check NPPES now").click()
    failed = page.locator("#nppes-panel .alert-error", has_text="NPPES check failed.")
    failed.wait_for()
    text = page.locator("#nppes-panel").inner_text()
    assert "NPPES did not answer; try again later." in text
    assert "Refresh finished" not in text and "Not checked yet" not in text
    assert "Check failed" in text
    box = page.locator("#nppes-panel").bounding_box()
    assert inside(failed.bounding_box(), box)
    colour = failed.evaluate("e => getComputedStyle(e).backgroundColor")
    r, g, b = (int(v) for v in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3])
    assert r > g and r > b  # red, not green
    shot(page, f"provider-nppes-failed-{width}", page.locator("#nppes-panel"))
