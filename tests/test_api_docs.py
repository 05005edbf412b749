"""The API docs page (Redoc) asks nothing of the internet, and the schema it shows is grouped by
area: every operation carries a declared tag and a one-line summary."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from tests.test_browser import live_url, page  # noqa: F401  (fixtures)

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.mark.browser
def test_the_api_docs_page_loads_nothing_from_the_internet(live_url, page):  # noqa: F811
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{live_url}/api/docs/")
    page.get_by_text("CredEx API").first.wait_for(timeout=30_000)
    # Redoc renders its side menu (and, unguarded, the footer logo) once the schema is in.
    page.locator(".menu-content").first.wait_for(timeout=30_000)
    page.wait_for_load_state("networkidle")
    folder = os.environ.get("API_DOCS_SCREENSHOT_DIR")
    if folder:
        for width in (1366, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=os.path.join(folder, f"api-docs-{width}.png"))
    outside = [
        u
        for u in requests
        if not u.startswith(("data:", "blob:"))
        and urlsplit(u).hostname not in ("127.0.0.1", "localhost")
    ]
    assert requests and not outside, outside


def _schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_every_operation_has_a_declared_tag_and_a_summary(client, db):
    doc = _schema(client)
    declared = {t["name"]: t.get("description", "") for t in doc.get("tags", [])}
    assert declared and all(d.strip() for d in declared.values()), declared
    problems = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            tags = op.get("tags") or []
            if not tags or any(t not in declared for t in tags):
                problems.append(f"{method.upper()} {path}: tags {tags}")
            summary = (op.get("summary") or "").strip()
            if not summary or "\n" in summary:
                problems.append(f"{method.upper()} {path}: summary {summary!r}")
    assert not problems, "\n".join(problems)


def test_operations_are_grouped_by_area(client, db):
    doc = _schema(client)
    tags = {
        (path, method): op["tags"][0]
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS and op.get("tags")
    }
    by_tag = set(tags.values())
    # Many areas, not one "api" bucket.
    assert len(by_tag) >= 8, by_tag
    assert tags[("/api/v1/me", "get")] != tags.get(("/api/v1/providers", "get"))
