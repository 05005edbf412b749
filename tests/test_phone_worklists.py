"""Worklists at phone width (issue 10, item 18): every list stacks into cards at 390 px.

One organization gets the demo roster (the same seeders `manage.py seed_demo` runs) plus one
row of every tenant table, so each worklist has at least one row. At 390 px the page does not
scroll sideways, neither does the table's wrapper, and every button or link of each list's
first row is inside the viewport; at 1366 px the same list is still laid out as a table.
"""

from __future__ import annotations

import pytest

from tests.test_browser import CHROMIUM, live_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


# name, path under /o/<slug>/
WORKLISTS = [
    ("providers", "providers/"),
    ("inbox", "inbox/"),
    ("psv queue", "verifications/"),
    ("documents review", "documents/"),
    ("enrollments", "enrollments/"),
    ("committee", "committee/"),
    ("screening hits", "screening/"),
    ("nppes mismatches and failed checks", "screening/nppes/"),
    ("packets", "packets/"),
    ("packages", "packages/"),
    ("extractions", "extractions/"),
    ("imports history", "imports/"),
    ("audit log", "audit/"),
    ("members", "settings/members/"),
]

MEASURE = """() => {
  const vw = window.innerWidth;
  const out = {scroll: document.documentElement.scrollWidth, vw, tables: []};
  for (const table of document.querySelectorAll('table.worklist')) {
    const row = table.querySelector('tbody tr');
    if (!row) continue;
    const wrap = table.closest('.table-wrap');
    const off = [];
    for (const el of row.querySelectorAll('a, button, input, select, summary')) {
      if (!el.checkVisibility()) continue;
      const b = el.getBoundingClientRect();
      if (b.width === 0) continue;
      if (b.left < 0 || b.right > vw) off.push(el.outerHTML.slice(0, 120));
    }
    out.tables.push({
      display: getComputedStyle(table).display,
      rowDisplay: getComputedStyle(row).display,
      wrapOverflow: wrap ? wrap.scrollWidth - wrap.clientWidth : 0,
      controls: row.querySelectorAll('a, button, input, select, summary').length,
      off,
    });
  }
  return out;
}"""


@pytest.fixture
def full_org(committed_tenant):
    """Built before the browser starts (Django refuses ORM calls from Playwright's loop)."""
    from credex.tenancy import tenant_context
    from demo.seeders.committee import seed_demo_committee
    from demo.seeders.enrollment import seed_demo_enrollment
    from demo.seeders.nppes import seed_demo_nppes
    from demo.seeders.roster import seed_demo_complete_files, seed_demo_roster
    from demo.seeders.verifications import seed_demo_extractions, seed_demo_verifications
    from roster.services.inbox import inbox_generate

    t = committed_tenant
    org = t.org
    owner = t.membership(t.owner)
    with tenant_context(org, user_id=t.owner.pk):
        seed_demo_roster(org, owner, count=12)
        seed_demo_enrollment(org, owner)
        seed_demo_verifications(org, owner)
        seed_demo_complete_files(org, owner)
        seed_demo_committee(org, owner)
        seed_demo_extractions(org, owner)
        seed_demo_nppes(org)
        inbox_generate(org=org)
        _one_of_each_missing(org, owner)
    return t


def _one_of_each_missing(org, owner):
    """The demo seeders leave no package, import or screening hit for a new organization."""
    import uuid
    from datetime import date

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from committee.models import CommitteeReview
    from roster.models import Document, ImportJob, Provider
    from screening import models as s
    from verifications.models import CredentialPackage, ExtractionSuggestion

    provider = Provider.objects.order_by("last_name").first()
    CredentialPackage.objects.create(
        organization=org,
        provider=provider,
        requested_by=owner,
        status="ready",
        page_count=3,
        finished_at=timezone.now(),
    )
    job = ImportJob(organization=org, created_by=owner, original_name="roster.csv")
    job.file.save("roster.csv", ContentFile(b"npi\n"), save=False)
    job.save()
    version = s.DatasetVersion.objects.create(
        source="leie", as_of=date(2026, 11, 1), sha256=uuid.uuid4().hex * 2, origin="factory"
    )
    run = s.ScreeningRun.objects.create(
        organization=org, trigger="on_demand", provider=provider, requested_by=owner
    )
    s.ScreeningHit.objects.create(
        organization=org,
        provider=provider,
        run=run,
        source="leie",
        dataset_version=version,
        source_record_key=uuid.uuid4().hex,
        record_hash=uuid.uuid4().hex,
        kind="name_dob",
        score=100,
    )
    if not CommitteeReview.objects.exists():  # the demo readies only files that pass today
        CommitteeReview.objects.create(
            organization=org, provider=provider, cycle="initial", ready_marked_by=owner
        )
    # The demo's uploads wait for the worker to read them; here one has been read.
    doc = Document.objects.filter(credential__isnull=False).order_by("created_at").first()
    ExtractionSuggestion.objects.create(
        organization=org,
        document=doc,
        credential=doc.credential,
        extractor="text-layer:1",
        engine="text",
    )


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


def _signed_in(browser, live_url, tenant, width, height):  # noqa: F811
    from tests.conftest import PASSWORD

    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(tenant.owner.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/o/{tenant.org.slug}/")
    return page


def test_every_worklist_stacks_into_cards_at_phone_width_and_stays_a_table_on_desktop(
    full_org,
    live_url,  # noqa: F811
    browser,
):
    slug = full_org.org.slug
    phone = _signed_in(browser, live_url, full_org, 390, 844)
    desktop = _signed_in(browser, live_url, full_org, 1366, 768)
    problems = []
    for name, path in WORKLISTS:
        url = f"{live_url}/o/{slug}/{path}"
        phone.goto(url)
        got = phone.evaluate(MEASURE)
        if not got["tables"]:
            problems.append(f"{name}: no worklist table with a row")
            continue
        if got["scroll"] > 390:
            problems.append(f"{name}: the page is {got['scroll']} px wide at 390")
        for table in got["tables"]:
            if table["display"] != "block" or table["rowDisplay"] != "block":
                problems.append(f"{name}: not stacked ({table['display']}/{table['rowDisplay']})")
            if table["wrapOverflow"] > 0:
                problems.append(f"{name}: the table scrolls {table['wrapOverflow']} px sideways")
            if table["off"]:
                problems.append(f"{name}: controls off screen: {table['off']}")
        desktop.goto(url)
        wide = desktop.evaluate(MEASURE)
        for table in wide["tables"]:
            if table["display"] != "table" or table["rowDisplay"] != "table-row":
                problems.append(f"{name}: not a table at 1366 ({table['display']})")
    assert not problems, "\n".join(problems)
    # The first row of the inbox keeps its actions on screen (not merely "somewhere").
    phone.goto(f"{live_url}/o/{slug}/inbox/")
    actions = phone.locator("table.worklist tbody tr").first.locator(
        "td.actions :is(a, button, summary):visible"
    )
    assert actions.count() >= 1
    for i in range(actions.count()):
        box = actions.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
