"""NPPES pages: the worklist, decisions, refresh with progress, the provider panel, the
lookup fragment; who may do what (coordinator acts, auditor reads, outsider 404)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from screening.nppes.models import NppesMismatch, NppesRun
from tests.fixtures_nppes import Answer, FakeNppes, individual, sample, use_fake
from tests.test_nppes_refresh import add_provider, mismatches, refresh


@pytest.fixture
def fake(settings):
    server = FakeNppes().start()
    use_fake(settings, server, retries=0)
    yield server
    server.stop()


@pytest.fixture
def worklist(tenant_a, fake):
    """Two providers with differences, one with a failed check."""
    p1 = add_provider(tenant_a, seed=1, first_name="Ana", last_name="Alvarez")
    p2 = add_provider(tenant_a, seed=2, first_name="Ben", last_name="Brook")
    p3 = add_provider(tenant_a, seed=3, first_name="Cleo", last_name="Chen")
    fake.answer(p1.npi, individual(p1.npi, first="ANA", last="ALVAREZ-RUIZ"))
    fake.answer(p2.npi, individual(p2.npi, first="BEN", last="BROOK", status="D"))
    fake.answer(p3.npi, Answer(200, sample("error_04_no_valid_criteria")))
    refresh(tenant_a)
    return p1, p2, p3


def url(tenant, name, **kw):
    return reverse(name, kwargs={"org_slug": tenant.org.slug, **kw})


def test_the_worklist_shows_both_sides_severity_and_the_failed_checks(
    tenant_a, worklist, login, django_assert_max_num_queries
):
    client = login(tenant_a.coordinator)
    # 30 for the page, plus 7 for the one audited read naming the providers shown (the audit
    # recorder's savepoint, RLS switch, chain lock, head, insert, restore, release).
    with django_assert_max_num_queries(37):
        response = client.get(url(tenant_a, "nppes"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ana Alvarez" in html and "ALVAREZ-RUIZ" in html
    assert '<mark class="nppes-diff"' in html  # the differing word is highlighted
    assert "High" in html and "NPI status" in html
    assert "Cleo Chen" in html and "No valid search criteria provided" in html
    assert "Refresh now" in html and "Accept" in html


def test_filters_live_in_the_url_and_the_htmx_answer_is_the_results_only(tenant_a, worklist, login):
    client = login(tenant_a.coordinator)
    response = client.get(
        url(tenant_a, "nppes") + "?severity=high",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="nppes-results",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ben Brook" in html and "Ana Alvarez" not in html
    assert "<html" not in html
    bad = client.get(url(tenant_a, "nppes") + "?severity=urgent")
    assert bad.status_code == 400 and "Choose high, medium or low" in bad.content.decode()


def test_a_coordinator_accepts_from_the_page_and_the_row_comes_back_decided(
    tenant_a, worklist, login
):
    client = login(tenant_a.coordinator)
    (m,) = mismatches(tenant_a, field="name")
    response = client.post(
        url(tenant_a, "nppes_accept", mismatch_id=m.pk),
        {"selectable": "1"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Accepted" in html and "Roster updated from NPPES" in html
    assert 'class="check"' in html  # the row keeps its table's columns
    with tenant_context(tenant_a.org):
        assert NppesMismatch.objects.get(pk=m.pk).status == "accepted"


def test_dismissing_and_bulk_dismissing_from_the_page(tenant_a, worklist, login):
    client = login(tenant_a.coordinator)
    name, status = mismatches(tenant_a, field="name")[0], mismatches(tenant_a, field="status")[0]
    response = client.post(url(tenant_a, "nppes_dismiss", mismatch_id=name.pk), {"note": "ok"})
    assert response.status_code == 302
    response = client.post(
        url(tenant_a, "nppes_bulk_dismiss"),
        {"ids": [str(status.pk), str(name.pk)], "next": url(tenant_a, "nppes") + "?field=status"},
    )
    assert response.status_code == 302 and response["Location"].endswith("?field=status")
    assert {m.status for m in mismatches(tenant_a)} == {"dismissed"}


def test_an_auditor_reads_the_pages_but_gets_403_on_every_write_and_nothing_changes(
    tenant_a, worklist, login
):
    p1 = worklist[0]
    client = login(tenant_a.auditor)
    assert client.get(url(tenant_a, "nppes")).status_code == 200
    assert client.get(url(tenant_a, "nppes_provider", provider_id=p1.pk)).status_code == 200
    html = client.get(url(tenant_a, "nppes")).content.decode()
    assert "Refresh now" not in html and ">Accept<" not in html
    (m,) = mismatches(tenant_a, field="name")
    for name, kw in [
        ("nppes_accept", {"mismatch_id": m.pk}),
        ("nppes_dismiss", {"mismatch_id": m.pk}),
        ("nppes_bulk_dismiss", {}),
        ("nppes_refresh", {}),
        ("nppes_provider_refresh", {"provider_id": p1.pk}),
    ]:
        assert client.post(url(tenant_a, name, **kw), {"ids": [str(m.pk)]}).status_code == 403
    assert {x.status for x in mismatches(tenant_a)} == {"open"}
    with tenant_context(tenant_a.org):
        assert NppesRun.objects.filter(status="queued").count() == 0


def test_refresh_now_queues_a_run_and_shows_a_progress_bar_that_polls(tenant_a, login):
    client = login(tenant_a.coordinator)
    response = client.post(url(tenant_a, "nppes_refresh"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<progress" in html and 'hx-trigger="every 1s"' in html
    with tenant_context(tenant_a.org):
        run = NppesRun.objects.get()
    poll = client.get(url(tenant_a, "nppes_run", run_id=run.pk))
    assert poll.status_code == 200 and "Waiting for a worker" in poll.content.decode()


def test_the_progress_of_a_finished_run_says_what_happened_and_stops_polling(
    tenant_a, worklist, login
):
    with tenant_context(tenant_a.org):
        run = NppesRun.objects.get(status="done")
    html = login(tenant_a.auditor).get(url(tenant_a, "nppes_run", run_id=run.pk)).content.decode()
    assert "Refresh finished" in html and "every 1s" not in html


def test_the_provider_panel_shows_the_check_the_open_items_and_provenance(
    tenant_a, worklist, login
):
    p1, _, p3 = worklist
    client = login(tenant_a.coordinator)
    html = client.get(
        url(tenant_a, "nppes_provider", provider_id=p1.pk), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in html
    assert "NPPES answered" in html and "ALVAREZ-RUIZ" in html and "Check NPPES now" in html
    page = client.get(url(tenant_a, "nppes_provider", provider_id=p3.pk)).content.decode()
    assert "<html" in page and "No valid search criteria provided" in page


def test_the_lookup_fragment_offers_to_fill_the_provider_form(tenant_a, fake, login):
    npi = "1720377294"
    fake.answer(npi, sample("individual_2019_npi1720377294"))
    client = login(tenant_a.coordinator)
    response = client.get(url(tenant_a, "nppes_lookup") + f"?npi={npi}", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "data-nppes-fill" in html and "&quot;last_name&quot;: &quot;Hiza&quot;" in html
    assert "From NPPES, answered" in html
    with tenant_context(tenant_a.org):
        assert AuditEvent.objects.filter(action="nppes.lookup", source="NPPES").count() == 1
    bad = client.get(url(tenant_a, "nppes_lookup") + "?npi=123")
    assert bad.status_code == 400 and "exactly 10 digits" in bad.content.decode()
    assert fake.count() == 1


def test_the_lookup_fragment_says_when_nppes_has_no_record_or_fails(tenant_a, fake, login):
    fake.answer("1760485387", Answer(500, "down"))
    client = login(tenant_a.auditor)  # a read: auditors may look up public registry data
    html = client.get(url(tenant_a, "nppes_lookup") + "?npi=1720377294").content.decode()
    assert "NPPES has no record" in html
    html = client.get(url(tenant_a, "nppes_lookup") + "?npi=1760485387").content.decode()
    assert "NPPES did not answer; try again later." in html
