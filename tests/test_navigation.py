"""Every page of an organization is reachable in two clicks from the dashboard, by role."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: set[str] = set()

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith("/o/"):
                self.hrefs.add(href.split("#", 1)[0].split("?", 1)[0])


def _links(html: str) -> set[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def _org_pages(slug: str) -> set[str]:
    """Paths of the organization's pages that take no argument but the organization."""
    found: set[str] = set()

    def walk(patterns, prefix):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and route.startswith("o/<slug:org_slug>/"):
                rest = route[len("o/<slug:org_slug>/") :]
                if "<" not in rest:
                    found.add(f"/o/{slug}/{rest}")

    walk(get_resolver().url_patterns, "")
    return found


def _reachable_pages(client, slug: str) -> set[str]:
    """GET every argument-free page; keep the full HTML pages (not downloads or fragments)."""
    pages = set()
    for path in sorted(_org_pages(slug)):
        response = client.get(path)
        kind = response.get("Content-Type", "")
        full_page = re.search(rb"<html", response.content[:500]) is not None
        download = "attachment" in response.get("Content-Disposition", "")
        ok = response.status_code == 200 and kind.startswith("text/html")
        if ok and full_page and not download:
            pages.add(path)
    return pages


@pytest.mark.parametrize("role", ["owner", "coordinator", "auditor"])
def test_every_page_is_two_clicks_from_the_dashboard(tenant_a, login, role):
    client = login(getattr(tenant_a, role))
    slug = tenant_a.org.slug
    dashboard = f"/o/{slug}/"
    first = _links(client.get(dashboard).content.decode())
    second = set(first)
    for href in first:
        response = client.get(href)
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            second |= _links(response.content.decode())
    pages = _reachable_pages(client, slug) - {dashboard}
    assert pages, "no pages found: the URL walk is broken"
    missing = sorted(p for p in pages if p not in second)
    assert not missing, f"not reachable in two clicks from the dashboard as {role}: {missing}"


def test_the_navigation_names_packets_extraction_review_imports_and_nppes(tenant_a, login):
    html = login(tenant_a.coordinator).get(f"/o/{tenant_a.org.slug}/").content.decode()
    nav = html[html.index('id="sidenav"') :]
    nav = nav[: nav.index("</nav>")]
    for label in ("Re-verification packets", "Extraction review", "Imports", "NPPES"):
        assert label in nav, label
