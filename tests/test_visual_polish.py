"""Issue 10, item 13: the UI polish defects, each pinned by a test that failed before the fix.

- One date format (credex_ui.format_date / format_datetime, filters human_date and
  human_datetime) and one person label (credex_ui.person_label, filter person): the package
  page, the package PDF's verifier column and the audit log's actor column name the person,
  never their e-mail when there is a name.
- The dashboard's payer-enrollment card counts what its pills add up to, and every pill opens
  the list filtered to it (the enrollments list understands each pill's query).
- In the browser at 1366 px: names and NPIs on the dashboard are not cut off, the "Excluded"
  badge sits inside its parent with an icon that renders (an SVG, not a missing glyph), the
  committee card's status sentence wraps inside the card, the audit DATA column is readable.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from credex.templatetags.credex_ui import format_date, format_datetime, person_label
from credex.tenancy import tenant_context
from tests.factories import make_provider
from tests.test_browser import live_url, page  # noqa: F401  (fixtures)

# --- the helpers --------------------------------------------------------------------------------


def test_format_date_is_day_short_month_year_for_dates_and_datetimes():
    assert format_date(date(2026, 12, 3)) == "3 Dec 2026"
    assert format_date(date(2027, 1, 15)) == "15 Jan 2027"
    assert format_date("2026-12-03") == "3 Dec 2026"
    assert format_date(None) == ""


def test_format_datetime_is_in_the_active_time_zone_and_names_the_zone_when_asked():
    moment = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)
    with timezone.override("UTC"):
        assert format_datetime(moment) == "3 Dec 2026, 14:05"
        assert format_datetime(moment, zone=True) == "3 Dec 2026, 14:05 UTC"
    with timezone.override("America/New_York"):
        assert format_datetime(moment) == "3 Dec 2026, 09:05"
    assert format_datetime(date(2026, 12, 3)) == "3 Dec 2026"


@pytest.mark.django_db
def test_person_label_prefers_the_full_name_then_the_email_then_the_fallback(tenant_a):
    owner = tenant_a.owner  # Olive Owner
    assert person_label(owner) == "Olive Owner"
    assert person_label(tenant_a.membership(owner)) == "Olive Owner"
    assert person_label(tenant_a.coordinator) == tenant_a.coordinator.email  # no name on file
    assert person_label(None, "screening") == "screening"  # a system job, a removed member
    assert person_label(None) == ""


# --- through the pages --------------------------------------------------------------------------


def _package(tenant, *, actor_user):
    from tests.test_packages import rich_provider
    from verifications.services.packages import package_build, package_request

    provider = rich_provider(tenant, documents=False)
    with tenant_context(tenant.org):
        package = package_request(
            org=tenant.org, actor=tenant.membership(actor_user), provider=provider
        )
        package_build(org=tenant.org, package_id=package.pk)
        package.refresh_from_db()
    return package


@pytest.mark.django_db
def test_package_page_names_who_requested_it_not_their_email(tenant_a, login):
    package = _package(tenant_a, actor_user=tenant_a.owner)
    client = login(tenant_a.owner)
    kwargs = {"org_slug": tenant_a.org.slug, "package_id": package.pk}
    url = reverse("package_detail", kwargs=kwargs)
    html = client.get(url).content.decode()
    lede = re.search(r'<p class="lede">(.*?)</p>', html, re.S).group(1)
    assert "by Olive Owner" in lede
    assert tenant_a.owner.email not in lede
    assert format_datetime(package.created_at) in lede  # the one datetime format


@pytest.mark.django_db
def test_package_pdf_names_the_verifier_and_uses_the_one_date_format(tenant_a):
    from tests.test_packages import front_text, read

    package = _package(tenant_a, actor_user=tenant_a.owner)
    reader = read(package)
    text = front_text(reader, len(reader.pages))
    log = text[text.index("Primary-source verification log") :]
    assert "Olive Owner" in log  # the owner recorded the licence verification
    assert tenant_a.owner.email not in log
    assert "15 Jan 2020" in text  # the licence's issue date, not 2020-01-15
    assert "2020-01-15" not in text


@pytest.mark.django_db
def test_audit_log_actor_column_names_the_member_not_their_email(tenant_a, login):
    from audit.services import Actor, audit_record

    with tenant_context(tenant_a.org):
        audit_record(
            org=tenant_a.org, actor=Actor.member(tenant_a.owner), action="polish.test", data={}
        )
    client = login(tenant_a.owner)
    html = client.get(reverse("audit_log", kwargs={"org_slug": tenant_a.org.slug})).content
    actors = re.findall(
        r'<td data-label="Actor" class="actor">.*?<span class="label">(.*?)</span>',
        html.decode(),
        re.S,
    )
    assert actors and "Olive Owner" in actors
    assert not any(tenant_a.owner.email in a for a in actors)


# --- the dashboard's enrollment card ------------------------------------------------------------


def _enrollments(tenant):
    """One application in each status, one of them with a follow-up date past."""
    from enrollment.models import Enrollment, EnrollmentStatus, Payer

    today = timezone.localdate()
    with tenant_context(tenant.org):
        payer = Payer.objects.create(organization=tenant.org, name="Polish Payer")
        for seed, status in enumerate(EnrollmentStatus.values, start=8100):
            provider = make_provider(tenant.org, seed=seed)
            Enrollment.objects.create(
                organization=tenant.org,
                provider=provider,
                payer=payer,
                status=status,
                next_follow_up=today - timedelta(days=3)
                if status == EnrollmentStatus.SUBMITTED
                else None,
            )


def _card(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("</section>", start)]


def _list_count(client, url: str) -> int:
    html = client.get(url).content.decode()
    return int(re.search(r"(\d+) applications?\b", html).group(1))


@pytest.mark.django_db
def test_dashboard_enrollment_card_total_is_the_sum_of_its_pills_and_says_what_it_counts(
    tenant_a, login
):
    _enrollments(tenant_a)
    client = login(tenant_a.owner)
    html = client.get(reverse("dashboard", kwargs={"org_slug": tenant_a.org.slug})).content
    card = _card(html.decode(), "b-enroll")
    total = re.search(r'class="count"[^>]*>(\d+) open<', card)
    assert total, "the card's count says what it counts"
    pills = {
        label.strip(): int(n)
        for n, label in re.findall(
            r'<span class="dash-num">(\d+)</span><span class="badge">([^<]+)</span>', card
        )
    }
    # 5 open statuses: requested + (in preparation, submitted, in follow-up, resubmitted)
    assert pills == {"New requests": 1, "In progress": 4}
    assert int(total.group(1)) == sum(pills.values()) == 5


@pytest.mark.django_db
def test_every_dashboard_enrollment_pill_opens_the_list_filtered_to_its_number(tenant_a, login):
    _enrollments(tenant_a)
    client = login(tenant_a.owner)
    html = client.get(reverse("dashboard", kwargs={"org_slug": tenant_a.org.slug})).content
    card = _card(html.decode(), "b-enroll")
    links = re.findall(r'<a href="([^"]+)"[^>]*><span class="dash-num">(\d+)</span>', card)
    total = re.search(r'<a class="count" href="([^"]+)"[^>]*>(\d+) open<', card)
    links.append(total.groups())
    assert len(links) == 4
    everything = _list_count(client, reverse("enrollments", kwargs={"org_slug": tenant_a.org.slug}))
    for href, number in links:
        href = href.replace("&amp;", "&")
        assert "?" in href, f"{href} opens the unfiltered list"
        assert _list_count(client, href) == int(number), href
    assert everything == 8  # and the filters did filter


@pytest.mark.django_db
def test_enrollment_list_in_progress_filter_keeps_open_applications_past_the_request(
    tenant_a, login
):
    _enrollments(tenant_a)
    client = login(tenant_a.owner)
    url = reverse("enrollments", kwargs={"org_slug": tenant_a.org.slug})
    response = client.get(url + "?status=in_progress")
    assert response.status_code == 200
    html = response.content.decode()
    assert _list_count(client, url + "?status=in_progress") == 4
    assert "Unknown status" not in html


# --- in the browser ------------------------------------------------------------------------------


def _sign_in(browser, base_url, user):
    from tests.conftest import PASSWORD

    browser.goto(f"{base_url}/accounts/login/")
    browser.get_by_label("Email").fill(user.email)
    browser.get_by_label("Password", exact=True).fill(PASSWORD)
    browser.get_by_role("button", name="Sign in").click()
    browser.wait_for_url("**/o/**")


LONG_NAME = ("Maximiliana", "Nakamura-Okonkwo-Villanueva")


@pytest.fixture
def crowded_dashboard(committed_tenant):
    """A provider with a long name, an expired licence, re-credentialing due soon, a confirmed
    exclusion and an open enrollment: on four dashboard cards at once."""
    from enrollment.models import Enrollment, Payer
    from roster.models import Provider
    from roster.services.inbox import inbox_generate
    from roster.services.providers import credential_create

    t = committed_tenant
    today = timezone.localdate()
    owner = t.membership(t.owner)
    provider = make_provider(
        t.org,
        seed=8201,
        first_name=LONG_NAME[0],
        middle_name="B.",
        last_name=LONG_NAME[1],
        recredentialing_due_date=today + timedelta(days=12),
    )
    with tenant_context(t.org):
        credential_create(
            org=t.org,
            actor=owner,
            provider=provider,
            kind="state_license",
            state="CA",
            number="CA-POLISH-1",
            expiry_date=today - timedelta(days=9),
        )
        Provider.objects.filter(pk=provider.pk).update(excluded=True, excluded_at=timezone.now())
        payer = Payer.objects.create(organization=t.org, name="Summit Commercial PPO")
        Enrollment.objects.create(organization=t.org, provider=provider, payer=payer)
        inbox_generate(org=t.org)
    return t, provider


OVERFLOW_JS = """(sel) => [...document.querySelectorAll(sel)].map(el => ({
  text: el.textContent.trim(), scroll: el.scrollWidth, client: el.clientWidth,
}))"""

INSIDE_JS = """([sel, parentSel]) => [...document.querySelectorAll(sel)].map(el => {
  const r = el.getBoundingClientRect(), p = el.closest(parentSel).getBoundingClientRect();
  return {text: el.textContent.trim(), inside: r.left >= p.left - 0.5 && r.right <= p.right + 0.5
          && r.top >= p.top - 0.5 && r.bottom <= p.bottom + 0.5, w: r.width};
})"""


@pytest.mark.browser
def test_dashboard_at_1366_shows_whole_names_and_npis_and_the_excluded_badge_inside_its_card(
    crowded_dashboard,
    live_url,  # noqa: F811
    page,  # noqa: F811
):
    t, provider = crowded_dashboard
    _sign_in(page, live_url, t.owner)
    page.goto(f"{live_url}/o/{t.org.slug}/")
    page.locator(".dash-top").first.wait_for()

    names = page.evaluate(OVERFLOW_JS, ".dash-top-main > a")
    ours = [n for n in names if LONG_NAME[1] in n["text"]]
    assert len(ours) >= 3  # expiring, re-credentialing, enrollments
    for n in ours:
        assert n["scroll"] <= n["client"], f"name cut off: {n}"
    subs = page.evaluate(OVERFLOW_JS, ".dash-top .sub")
    npi = [s for s in subs if provider.npi in s["text"]]
    assert npi, "the re-credentialing card lists the NPI"
    for s in subs:
        assert s["scroll"] <= s["client"], f"line cut off: {s}"

    badges = page.evaluate(INSIDE_JS, ['[data-flag="excluded"]', ".dash-top-main"])
    assert badges, "the Excluded badge is on the dashboard"
    for b in badges:
        assert b["inside"], f"badge sticks out of its parent: {b}"
    # Its icon is drawn (an SVG with a size), not a glyph the system font lacks.
    icon = page.locator('[data-flag="excluded"] svg.icon').first
    box = icon.bounding_box()
    assert box and box["width"] >= 8 and box["height"] >= 8
    assert "⛔" not in page.locator('[data-flag="excluded"]').first.inner_text()


@pytest.fixture
def committee_and_audit(committed_tenant):
    """A file ready for committee (its status sentence lists the required credentials) and an
    audit event with a long data payload."""
    from audit.services import Actor, audit_record
    from tests.test_committee import mark_ready, ready_provider

    t = committed_tenant
    provider = ready_provider(t, seed=8301)
    review = mark_ready(t, provider)
    with tenant_context(t.org):
        audit_record(
            org=t.org,
            actor=Actor.member(t.owner),
            action="verifications.package.share_link_sent_to_payer",
            data={"providers": [str(provider.pk)] * 3, "note": "x" * 60},
        )
    return t, review


@pytest.mark.browser
def test_committee_card_text_and_the_audit_data_column_stay_inside_at_1366(
    committee_and_audit,
    live_url,  # noqa: F811
    page,  # noqa: F811
):
    t, review = committee_and_audit
    _sign_in(page, live_url, t.owner)

    page.goto(f"{live_url}/o/{t.org.slug}/committee/reviews/{review.pk}/")
    status = page.evaluate(INSIDE_JS, ["section.card p.status", "section.card"])
    assert status, "the ready sentence is shown"
    for s in status:
        assert s["inside"], f"text overflows the committee card: {s}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366

    page.goto(f"{live_url}/o/{t.org.slug}/audit/")
    cell = page.locator("table.audit-table tbody tr").first.locator("td.data")
    measured = cell.evaluate(
        """td => {
          const wrap = td.closest('.table-wrap').getBoundingClientRect();
          const r = td.getBoundingClientRect(), code = td.querySelector('code');
          return {right: r.right, wrapRight: wrap.right, width: r.width,
                  scroll: code.scrollWidth, client: code.clientWidth};
        }"""
    )
    assert measured["right"] <= measured["wrapRight"] + 0.5, f"data column clipped: {measured}"
    assert measured["width"] >= 200, f"data column squeezed: {measured}"
    assert measured["scroll"] <= measured["client"], f"data text overflows: {measured}"
    actor = page.locator("table.audit-table tbody tr").first.locator("td.actor .label")
    assert actor.inner_text().strip() == "Olive Owner"


# --- one date format: a template scan, like test_csp's ------------------------------------------

# Formats a template may still hand to |date: machine values (the datetime attribute of <time>,
# the value of <input type="date">), month precision (work history) and the compact day labels
# of the expiry chart and the meeting chips. Every date a person reads otherwise goes through
# human_date / human_datetime.
ALLOWED_DATE_FORMATS = {"c", "Y-m-d", "M Y", "j M", "D j M"}


def test_templates_show_dates_only_through_the_one_date_helper():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "templates"
    found = []
    for path in root.rglob("*.html"):
        for fmt in re.findall(r"""\|date:["']([^"']*)["']""", path.read_text()):
            if fmt not in ALLOWED_DATE_FORMATS:
                found.append(f"{path.relative_to(root)}: |date:{fmt!r}")
    assert not found, "use |human_date or |human_datetime:\n" + "\n".join(found)
