"""The new-enrollment provider picker: a search by name or NPI (htmx fragment, tenant-scoped, at
most 20 matches) that fills the plain provider <select>, which stays the posted field and the
no-JavaScript fallback."""

from __future__ import annotations

import os
import re

import pytest
from django.urls import reverse

from credex.tenancy import tenant_context
from tests.factories import make_provider
from tests.test_browser import live_url, page  # noqa: F401  (fixtures)


def search_url(tenant) -> str:
    return reverse("enrollment_provider_search", kwargs={"org_slug": tenant.org.slug})


def new_url(tenant) -> str:
    return reverse("enrollment_new", kwargs={"org_slug": tenant.org.slug})


def test_the_search_finds_providers_by_name_or_npi_in_this_organization_only(
    tenant_a, tenant_b, login
):
    ada = make_provider(tenant_a.org, seed=11, first_name="Ada", last_name="Lovelace")
    make_provider(tenant_a.org, seed=12, first_name="Grace", last_name="Hopper")
    make_provider(tenant_b.org, seed=13, first_name="Ada", last_name="Outsider")
    client = login(tenant_a.coordinator)

    by_name = client.get(search_url(tenant_a), {"q": "ada love"})
    assert by_name.status_code == 200
    body = by_name.content.decode()
    assert f'data-pick="{ada.pk}"' in body and "Lovelace, Ada" in body
    assert "Hopper" not in body and "Outsider" not in body

    by_npi = client.get(search_url(tenant_a), {"q": ada.npi[:6]}).content.decode()
    assert f'data-pick="{ada.pk}"' in by_npi

    nothing = client.get(search_url(tenant_a), {"q": "zzz"}).content.decode()
    assert "No provider matches" in nothing and "data-pick" not in nothing


def test_the_search_returns_at_most_twenty_matches(tenant_a, login):
    for seed in range(25):
        make_provider(tenant_a.org, seed=100 + seed, first_name="Sam", last_name=f"Many{seed:02d}")
    body = login(tenant_a.coordinator).get(search_url(tenant_a), {"q": "many"}).content.decode()
    assert body.count("data-pick=") == 20
    assert "the first 20" in body


@pytest.mark.parametrize("q", ["%", "_", "'; drop table x;--", "\x00", "a" * 5000, "é 名"])
def test_hostile_searches_are_answered_without_error(tenant_a, login, q):
    response = login(tenant_a.coordinator).get(search_url(tenant_a), {"q": q})
    assert response.status_code in (200, 400)


def test_the_search_needs_the_right_to_request_enrollments(tenant_a, login):
    response = login(tenant_a.auditor).get(search_url(tenant_a), {"q": "a"})
    assert response.status_code == 403


def test_the_form_offers_the_search_and_keeps_the_select_to_post(tenant_a, login):
    from enrollment.models import Payer

    make_provider(tenant_a.org, seed=21)
    with tenant_context(tenant_a.org):
        Payer.objects.create(organization=tenant_a.org, name="Blue Plan")
    body = login(tenant_a.coordinator).get(new_url(tenant_a)).content.decode()
    assert 'id="id_provider_search"' in body and search_url(tenant_a) in body
    assert re.search(r'<select id="id_provider" name="provider"', body)


@pytest.fixture
def picker_data(committed_tenant):
    from enrollment.models import Payer

    tenant = committed_tenant
    ada = make_provider(tenant.org, seed=31, first_name="Ada", last_name="Lovelace")
    for seed in range(5):
        make_provider(tenant.org, seed=40 + seed, first_name="Other", last_name=f"Person{seed}")
    with tenant_context(tenant.org):
        Payer.objects.create(organization=tenant.org, name="Blue Plan")
    return tenant, ada


@pytest.mark.browser
def test_a_provider_is_found_and_chosen_with_the_keyboard(picker_data, live_url, page):  # noqa: F811
    from tests.conftest import PASSWORD

    tenant, ada = picker_data
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(tenant.coordinator.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/o/{tenant.org.slug}/**")

    page.goto(f"{live_url}{new_url(tenant)}")
    search = page.get_by_role("searchbox", name="Provider", exact=True)
    assert not page.locator("#id_provider").is_visible()  # the fallback select is hidden
    search.press_sequentially("love")
    option = page.get_by_role("button", name=re.compile("Lovelace, Ada"))
    option.wait_for()
    search.press("ArrowDown")
    assert option.evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    page.get_by_text(re.compile("Chosen: Lovelace, Ada")).wait_for()
    assert page.locator("#id_provider").input_value() == str(ada.pk)
    folder = os.environ.get("PICKER_SCREENSHOT_DIR")
    if folder:
        search.press_sequentially("pers")
        page.get_by_role("button", name=re.compile("Person0")).wait_for()
        for width in (1366, 390):
            page.set_viewport_size({"width": width, "height": 800})
            page.screenshot(
                path=os.path.join(folder, f"enrollment-new-{width}.png"), full_page=True
            )
        page.set_viewport_size({"width": 1366, "height": 768})
        search.press("Escape")
        search.fill("")

    page.get_by_label("Blue Plan").check()
    page.get_by_role("button", name="Request enrollment").click()
    # Posted as before: the select's provider id (the page then lists that provider's requests).
    page.get_by_text(re.compile("Requested 1 enrollment for Ada")).wait_for()
    assert f"provider={ada.pk}" in page.url
