"""Screening pages: the worklist home (filters in the URL, htmx fragment), the run button
and its progress, hit review (side-by-side, confirm, clear), dataset versions, the provider
history; each role: coordinator acts, auditor reads (403 on writes), outsider 404,
anonymous to the login page."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.template import RequestContext, Template
from django.test import RequestFactory

from credex.tenancy import tenant_context
from roster.models import Provider
from screening.loaders import load_dataset
from screening.models import HitStatus, RunStatus, ScreeningHit, ScreeningRun
from screening.services import screening_run_now
from screening.services.runs import _publish
from tests.factories import make_provider

FIXTURES = Path(__file__).parent / "fixtures_screening"
SAM_AS_OF = date(2023, 11, 22)  # the sample's newest Creation_Date (its name has no date)
ALI_NPI = "1790709913"


@pytest.fixture
def world(tenant_a, tenant_b):
    # The supplement sample is from October 2016: the list under it must not be newer
    # (a supplement older than the active list is refused).
    load_dataset(
        source="leie", origin=str(FIXTURES / "UPDATED_head_2026.csv"), as_of=date(2016, 10, 1)
    )
    load_dataset(source="leie", origin=str(FIXTURES / "1610EXCL.csv"))
    load_dataset(
        source="sam", origin=str(FIXTURES / "extract_v2_sample_2023-11.csv"), as_of=SAM_AS_OF
    )
    org = tenant_a.org
    ali = make_provider(org, seed=1, first_name="Mo", last_name="Ali", npi=ALI_NPI)
    flores = make_provider(org, seed=2, first_name="Antonio", last_name="Flores", state="TX")
    with tenant_context(org):
        run = screening_run_now(org=org)
        hits = {h.provider_id: h for h in ScreeningHit.objects.all()}
    return {
        "a": tenant_a,
        "b": tenant_b,
        "run": run,
        "ali": ali,
        "flores": flores,
        "ali_hit": hits[ali.pk],
        "flores_hit": hits[flores.pk],
    }


def urls(world):
    slug = world["a"].org.slug
    hit = world["ali_hit"].pk
    return {
        "home": f"/o/{slug}/screening/",
        "run_start": f"/o/{slug}/screening/runs/",
        "run": f"/o/{slug}/screening/runs/{world['run'].pk}/",
        "hit": f"/o/{slug}/screening/hits/{hit}/",
        "confirm": f"/o/{slug}/screening/hits/{hit}/confirm/",
        "clear": f"/o/{slug}/screening/hits/{hit}/clear/",
        "datasets": f"/o/{slug}/screening/datasets/",
        "history": f"/o/{slug}/screening/provider/{world['ali'].pk}/",
    }


def state(world):
    with tenant_context(world["a"].org):
        return {
            "hits": sorted(ScreeningHit.objects.values_list("id", "status")),
            "runs": ScreeningRun.objects.count(),
            "excluded": sorted(Provider.objects.values_list("id", "excluded")),
        }


# --- roles -------------------------------------------------------------------------------


def test_the_coordinator_sees_the_lists_the_last_run_and_the_worklist(login, world):
    client = login(world["a"].coordinator)
    page = client.get(urls(world)["home"]).content.decode()
    assert "Exclusion screening" in page and "Lists in use" in page
    assert "as of" in page and "150 records" in page  # the LEIE version in use
    assert "Matches to review" in page and "Run screening now" in page
    assert "Ali, Mo" in page and "Exact NPI" in page and "Name + state" in page
    assert "2 new matches" in page


@pytest.mark.parametrize("name", ["home", "run", "hit", "datasets", "history"])
def test_every_role_of_the_organization_reads_the_pages(login, world, name):
    for user in (world["a"].owner, world["a"].coordinator, world["a"].auditor):
        assert login(user).get(urls(world)[name]).status_code == 200


@pytest.mark.parametrize("name", ["run_start", "confirm", "clear", "history"])
def test_the_auditor_gets_403_on_every_write_and_nothing_changes(login, world, name):
    before = state(world)
    client = login(world["a"].auditor)
    response = client.post(urls(world)[name], {"reason": "Different person", "note": "x"})
    assert response.status_code == 403
    assert state(world) == before


def test_an_outsider_cannot_post_to_another_organizations_hit(login, world):
    before = state(world)
    response = login(world["b"].owner).post(urls(world)["confirm"], {})
    assert response.status_code == 404 and state(world) == before


def test_a_hit_of_another_organization_is_not_found_under_ones_own(login, world):
    b = world["b"]
    url = f"/o/{b.org.slug}/screening/hits/{world['ali_hit'].pk}/"
    assert login(b.owner).get(url).status_code == 404


# --- the worklist ------------------------------------------------------------------------


def test_filters_live_in_the_url_and_htmx_gets_only_the_results(login, world):
    client = login(world["a"].coordinator)
    page = client.get(urls(world)["home"] + "?source=sam").content.decode()
    assert "Flores, Antonio" in page and "Ali, Mo" not in page
    assert '<option value="sam" selected>' in page
    fragment = client.get(
        urls(world)["home"] + "?kind=npi", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="hits-results"
    )
    html = fragment.content.decode()
    assert "Ali, Mo" in html and "Flores" not in html and "<html" not in html
    assert "HX-Request" in fragment["Vary"]
    # Unknown filter values are ignored rather than failing.
    assert client.get(urls(world)["home"] + "?status=bogus").status_code == 200


def test_the_worklist_page_needs_a_fixed_number_of_queries(
    login, world, django_assert_max_num_queries
):
    org = world["a"].org
    for seed in range(100, 130):
        make_provider(org, seed=seed, first_name="Antonio", last_name="Flores", state="TX")
    with tenant_context(org):
        screening_run_now(org=org)
    client = login(world["a"].coordinator)
    client.get(urls(world)["home"])  # warm the session
    # 25 for the page, plus 7 for the one audited read naming the providers shown (the audit
    # recorder's savepoint, RLS switch, chain lock, head, insert, restore, release).
    with django_assert_max_num_queries(32):
        page = client.get(urls(world)["home"]).content.decode()
    assert "Page 1 of 2" in page


def test_an_empty_worklist_says_what_happens_next(login, tenant_a):
    page = login(tenant_a.coordinator).get(f"/o/{tenant_a.org.slug}/screening/").content.decode()
    assert "No matches yet." in page and "No screening run yet." in page


# --- running -----------------------------------------------------------------------------


def test_run_now_answers_a_progress_bar_that_polls_the_run(login, world):
    client = login(world["a"].coordinator)
    response = client.post(urls(world)["run_start"], HTTP_HX_REQUEST="true")
    html = response.content.decode()
    with tenant_context(world["a"].org):
        run = ScreeningRun.objects.filter(trigger="on_demand").get()
    assert response.status_code == 200 and run.status == RunStatus.QUEUED
    assert "Screening in progress" in html and 'hx-trigger="every 1s"' in html
    assert f"/screening/runs/{run.pk}/" in html and "Waiting for a worker" in html

    _publish(run, "matching", 500, 2000)
    fragment = login(world["a"].coordinator).get(
        f"/o/{world['a'].org.slug}/screening/runs/{run.pk}/", HTTP_HX_REQUEST="true"
    )
    assert "<strong>500</strong> of 2,000 providers" in fragment.content.decode()

    again = client.post(urls(world)["run_start"], HTTP_HX_REQUEST="true")
    assert again.status_code == 409
    assert "already in progress" in again.content.decode()


def test_the_poll_that_sees_the_run_finish_asks_the_worklist_to_refresh(login, world):
    response = login(world["a"].coordinator).get(urls(world)["run"], HTTP_HX_REQUEST="true")
    assert response["HX-Trigger"] == "screeningRunFinished"
    assert "Last run" in response.content.decode()  # the home page's card, not the run page
    page = login(world["a"].coordinator).get(urls(world)["home"]).content.decode()
    assert 'hx-trigger="screeningRunFinished from:body"' in page


def test_run_now_without_htmx_redirects_to_the_run(login, world):
    response = login(world["a"].coordinator).post(urls(world)["run_start"])
    with tenant_context(world["a"].org):
        run = ScreeningRun.objects.get(trigger="on_demand")
    assert response.status_code == 302 and response["Location"].endswith(f"/runs/{run.pk}/")


def test_a_finished_run_shows_its_counts_and_versions(login, world):
    page = login(world["a"].auditor).get(urls(world)["run"]).content.decode()
    assert "2 providers screened" in page and "Exact NPI" in page
    assert "Lists screened against" in page and "150 records" in page
    assert "New matches by kind" in page and "Providers by list" in page


# --- reviewing ---------------------------------------------------------------------------


def test_the_hit_page_puts_our_values_beside_the_record_with_the_matches_marked(login, world):
    page = login(world["a"].coordinator).get(urls(world)["hit"]).content.decode()
    assert "Our roster" in page and "OIG LEIE record" in page
    assert page.count('class="screen-matched"') == 1  # the NPI row
    assert "1790709913" in page and "ALI" in page and "MUHAMMAD" in page
    assert "EXCLTYPE" in page and "1128a4" in page  # the full source record
    assert "Confirm exclusion" in page and "Clear match" in page
    assert "screening.hit.raised" in page  # the audit trail


def test_confirming_from_the_page_flags_the_provider(login, world):
    response = login(world["a"].coordinator).post(urls(world)["confirm"], {"note": "checked"})
    assert response.status_code == 302
    with tenant_context(world["a"].org):
        assert Provider.objects.get(pk=world["ali"].pk).excluded is True
        assert ScreeningHit.objects.get(pk=world["ali_hit"].pk).status == HitStatus.CONFIRMED


def test_clearing_without_a_reason_shows_the_error_next_to_the_field(login, world):
    before = state(world)
    response = login(world["a"].coordinator).post(
        urls(world)["clear"], {"reason": "", "evidence": "kept text"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_reason_error"' in html and "Say why this is not the same person" in html
    assert "kept text" in html  # nothing typed is lost
    assert state(world) == before


def test_clearing_with_a_reason_goes_back_to_the_list_naming_whose_match_was_cleared(login, world):
    client = login(world["a"].coordinator)
    response = client.post(
        urls(world)["clear"], {"reason": "Different NPI", "evidence": "NPPES shows another"}
    )
    assert response.status_code == 302
    # Not another provider's match under a "Cleared" banner: the worklist, and the banner
    # names the provider whose match was cleared.
    assert response["Location"] == urls(world)["home"]
    page = client.get(response["Location"]).content.decode()
    assert "Cleared Mo Ali’s OIG LEIE · Exact NPI match as a false positive" in page.replace(
        "&#x27;", "’"
    ).replace("'", "’")
    assert "Flores, Antonio" in page  # the next match waits in the list
    with tenant_context(world["a"].org):
        hit = ScreeningHit.objects.get(pk=world["ali_hit"].pk)
    assert (hit.status, hit.review_reason, hit.evidence_note) == (
        HitStatus.CLEARED,
        "Different NPI",
        "NPPES shows another",
    )


def test_the_datasets_page_lists_versions_and_says_how_they_are_loaded(login, world):
    page = login(world["a"].auditor).get(urls(world)["datasets"]).content.decode()
    assert "load_exclusions" in page and "no upload in the browser" in page
    assert "1610EXCL.csv" in page and "In use" in page and "Superseded" in page


# --- the provider's history ----------------------------------------------------------------


def test_the_provider_history_says_clean_or_match_per_list_with_the_version(login, world):
    page = login(world["a"].auditor).get(urls(world)["history"]).content.decode()
    assert "OIG LEIE" in page and "Match" in page and "SAM.gov" in page and "Clean" in page
    assert "list as of" in page and "Screen now" not in page  # read-only role


def test_screen_now_on_the_provider_history_queues_a_provider_run(login, world):
    response = login(world["a"].coordinator).post(urls(world)["history"])
    assert response.status_code == 302
    with tenant_context(world["a"].org):
        run = ScreeningRun.objects.get(trigger="on_demand")
    assert run.provider_id == world["ali"].pk


def test_the_template_tag_renders_the_history_block_for_the_provider_file(world):
    a = world["a"]
    request = RequestFactory().get("/")
    request.org, request.membership, request.user = (
        a.org,
        a.membership(a.coordinator),
        a.coordinator,
    )
    with tenant_context(a.org):
        html = Template("{% load screening_ui %}{% screening_history provider %}").render(
            RequestContext(request, {"provider": world["flores"], "csrf_token": "t"})
        )
    assert "Exclusion screening" in html and "Screen now" in html
    assert "SAM.gov" in html and "Match" in html


def test_a_matched_date_of_birth_is_not_shown_on_the_hit_page_or_in_the_api(client, login, world):
    from datetime import date

    from roster.services.providers import provider_update

    a = world["a"]
    crystal = make_provider(a.org, seed=9, first_name="Crystal", last_name="Alberty", npi="")
    with tenant_context(a.org):
        provider_update(
            org=a.org, actor=a.membership(a.owner), provider=crystal, dob=date(1972, 9, 9)
        )
        screening_run_now(org=a.org)
        hit = ScreeningHit.objects.get(provider=crystal)
    assert hit.kind == "name_dob"
    page = login(a.auditor).get(f"/o/{a.org.slug}/screening/hits/{hit.pk}/").content.decode()
    assert "same as ours (hidden)" in page
    assert "1972-09-09" not in page and "19720909" not in page
    api = (
        login(a.auditor)
        .get(f"/api/v1/screening/hits?provider={crystal.pk}", HTTP_X_CREDEX_ORGANIZATION=a.org.slug)
        .json()["results"][0]
    )
    assert api["record_snapshot"]["DOB"] == "same as ours (hidden)"


def _hit_page(login, tenant, hit):
    return login(tenant.coordinator).get(f"/o/{tenant.org.slug}/screening/hits/{hit.pk}/")


def _why(html: str) -> str:
    start = html.index('class="alert screen-why"')
    return html[start : html.index("</div>", start)]


def test_why_it_matched_shows_the_npi_compared_and_its_value(login, world):
    why = _why(_hit_page(login, world["a"], world["ali_hit"]).content.decode())
    assert "The NPI is the same on both records." in why
    assert "<strong>NPI</strong>" in why and why.count("1790709913") == 2


def test_why_it_matched_shows_name_and_date_of_birth_without_revealing_the_date(login, world):
    from roster.services.providers import provider_update

    a = world["a"]
    crystal = make_provider(a.org, seed=9, first_name="Crystal", last_name="Alberty", npi="")
    with tenant_context(a.org):
        provider_update(
            org=a.org, actor=a.membership(a.owner), provider=crystal, dob=date(1972, 9, 9)
        )
        screening_run_now(org=a.org)
        hit = ScreeningHit.objects.get(provider=crystal)
    assert hit.kind == "name_dob"
    html = _hit_page(login, a, hit).content.decode()
    why = _why(html)
    assert "The name and the date of birth are the same on both records." in why
    assert "<strong>First name</strong>" in why and "Crystal" in why and "CRYSTAL" in why
    assert "<strong>Last name</strong>" in why and "ALBERTY" in why
    assert "<strong>Date of birth</strong>: the same date on both (hidden)" in why
    assert "1972-09-09" not in html and "19720909" not in html


def test_why_it_matched_a_name_only_match_says_nothing_else_backs_it(login, world):
    a = world["a"]
    crystal = make_provider(a.org, seed=9, first_name="Crystal", last_name="Alberty", npi="")
    with tenant_context(a.org):
        screening_run_now(org=a.org)
        hit = ScreeningHit.objects.get(provider=crystal)
    assert hit.kind == "possible"
    why = _why(_hit_page(login, a, hit).content.decode())
    assert "Only the name matches" in why
    assert "<strong>First name</strong>" in why and "<strong>Last name</strong>" in why
    assert "Name only: no date of birth to compare" in why


def test_why_it_matched_a_name_and_state_match_shows_the_state(login, world):
    hit = world["flores_hit"]
    why = _why(_hit_page(login, world["a"], hit).content.decode())
    assert hit.kind == "name_state"
    assert "one of the provider" in why and "<strong>State</strong>" in why and "TX" in why
