"""NPPES failures read as failures, through the pages: "Check NPPES now" when the registry
does not answer (a closed loopback port) or answers 500 ends red with what happened and what
to do, never a green "Refresh finished" beside "Not checked yet"; the look-up says the same;
the package cover says the check failed; many failed checks are one grouped line."""

from __future__ import annotations

import re
import socket
import subprocess

import pytest
from django.urls import reverse

from credex.tenancy import tenant_context
from screening.nppes.models import NppesRun
from screening.nppes.tasks import refresh_org
from tests.fixtures_nppes import Answer, FakeNppes, use_fake
from tests.test_nppes_refresh import add_provider


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def nowhere(settings):
    """NPPES at a closed port: every call fails to connect, at once."""
    settings.NPPES_BASE_URL = f"http://127.0.0.1:{closed_port()}"
    settings.NPPES_RATE_LIMIT_PER_SECOND = 1000
    settings.NPPES_CONCURRENCY = 4
    settings.NPPES_TIMEOUT_SECONDS = 2
    settings.NPPES_MAX_RETRIES = 1
    settings.NPPES_BACKOFF_SECONDS = 0.01


@pytest.fixture
def broken(settings):
    """NPPES answering HTTP 500 to everything."""
    server = FakeNppes(default=Answer(500, "Internal Server Error")).start()
    use_fake(settings, server, retries=0)
    yield server
    server.stop()


def url(tenant, name, **kw):
    return reverse(name, kwargs={"org_slug": tenant.org.slug, **kw})


def run_queued(tenant, provider=None):
    """What the worker does with the run the page queued (the real task, in process)."""
    with tenant_context(tenant.org):
        run = NppesRun.objects.get(status="queued", provider=provider)
    kwargs = {"org_id": str(tenant.org.pk), "run_id": str(run.pk)}
    if provider is not None:
        kwargs["provider_id"] = str(provider.pk)
    refresh_org.apply(kwargs=kwargs, task_id=str(run.pk)).get()
    return run


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_check_nppes_now_when_nppes_does_not_answer_ends_red_and_redraws_the_card(
    tenant_a, nowhere, login
):
    p = add_provider(tenant_a)
    client = login(tenant_a.coordinator)
    card = client.get(url(tenant_a, "nppes_provider", provider_id=p.pk), HTTP_HX_REQUEST="true")
    assert "Not checked yet" in card.content.decode()
    assert 'hx-disabled-elt="find button"' in card.content.decode()  # no double clicks

    queued = client.post(
        url(tenant_a, "nppes_provider_refresh", provider_id=p.pk), HTTP_HX_REQUEST="true"
    )
    assert queued.status_code == 200
    assert "?panel=1" in queued.content.decode()  # the card's poll redraws the card
    run = run_queued(tenant_a, p)

    poll = client.get(
        url(tenant_a, "nppes_run", run_id=run.pk) + "?panel=1", HTTP_HX_REQUEST="true"
    )
    html = poll.content.decode()
    words = text(html)
    assert poll["HX-Retarget"] == "#nppes-panel" and poll["HX-Reswap"] == "outerHTML"
    assert "alert-error" in html and 'role="alert"' in html
    assert "NPPES check failed." in words
    assert "NPPES did not answer; try again later." in words
    assert "Could not connect to the registry (2 attempts)." in words
    assert "Refresh finished" not in words and "Not checked yet" not in words
    assert "ConnectionError" not in words and ".." not in words
    assert "Check failed" in words  # the card's own status line, redrawn

    # Opened later, the card says the same.
    words = text(client.get(url(tenant_a, "nppes_provider", provider_id=p.pk)).content.decode())
    assert "Check failed" in words and "NPPES did not answer; try again later." in words
    assert "Not checked yet" not in words


def test_refresh_now_when_nppes_answers_500_for_everyone_is_a_failure_not_finished(
    tenant_a, broken, login
):
    for seed in (1, 2):
        add_provider(tenant_a, seed=seed)
    client = login(tenant_a.coordinator)
    client.post(url(tenant_a, "nppes_refresh"), HTTP_HX_REQUEST="true")
    run = run_queued(tenant_a)
    html = client.get(url(tenant_a, "nppes_run", run_id=run.pk)).content.decode()
    words = text(html)
    assert "alert-error" in html
    assert "Refresh failed: every check failed." in words and "Refresh finished" not in words
    assert "NPPES did not answer; try again later." in words

    # The worklist says the last refresh got no answers, and groups the two failures on
    # one line with the error.
    page = client.get(url(tenant_a, "nppes")).content.decode()
    home = text(page)
    assert 'class="nppes-last alert alert-error"' in page
    assert "The last refresh got no answers" in home
    assert "2 checks failed: NPPES did not answer; try again later." in home
    assert "The registry answered HTTP 500." in home


def test_a_run_where_some_checks_failed_says_so_in_amber(tenant_a, broken, login):
    from tests.fixtures_nppes import individual

    good, bad = add_provider(tenant_a, seed=1), add_provider(tenant_a, seed=2)
    broken.answer(good.npi, individual(good.npi))
    client = login(tenant_a.coordinator)
    client.post(url(tenant_a, "nppes_refresh"), HTTP_HX_REQUEST="true")
    run = run_queued(tenant_a)
    html = client.get(url(tenant_a, "nppes_run", run_id=run.pk)).content.decode()
    assert "alert-warning" in html and "alert-success" not in html
    assert "Refresh finished with 1 failed check." in text(html)
    assert bad.npi  # the failed one is listed on the page the link opens (#failed)
    assert "#failed" in html


def test_the_lookup_says_nppes_did_not_answer_and_what_to_do(tenant_a, nowhere, login):
    client = login(tenant_a.coordinator)
    response = client.get(url(tenant_a, "nppes_lookup") + "?npi=1720377294", HTTP_HX_REQUEST="true")
    words = text(response.content.decode())
    assert "alert-error" in response.content.decode()
    assert "NPPES did not answer; try again later." in words
    assert "Could not connect to the registry (2 attempts)." in words
    assert "ConnectionError" not in words and ".." not in words


def test_the_new_provider_form_shows_progress_while_the_lookup_runs(tenant_a, login):
    html = login(tenant_a.coordinator).get(url(tenant_a, "provider_new")).content.decode()
    button = re.search(r"<button[^>]*>Look up in NPPES</button>", html, re.S).group(0)
    assert 'hx-indicator="#nppes-lookup-spinner"' in button and 'hx-disabled-elt="this"' in button
    assert 'id="nppes-lookup-spinner"' in html and "Asking NPPES…" in html


def test_the_package_cover_says_the_nppes_check_failed_today(tenant_a, nowhere, login, tmp_path):
    from tests.test_packages import build

    p = add_provider(tenant_a)
    client = login(tenant_a.coordinator)
    client.post(url(tenant_a, "nppes_provider_refresh", provider_id=p.pk), HTTP_HX_REQUEST="true")
    run_queued(tenant_a, p)
    package = build(tenant_a, p)
    pdf = tmp_path / "package.pdf"
    with package.file.open("rb") as fh:
        pdf.write_bytes(fh.read())
    cover = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cover = re.sub(r"\s+", " ", cover)
    assert "NPPES check failed today: NPPES did not answer; try again later." in cover
    assert "NPPES NPI Registry: no check within" not in cover


def test_many_failed_checks_are_one_grouped_line_with_the_count_the_error_and_who(
    tenant_a, nowhere, login
):
    providers = [
        add_provider(tenant_a, seed=seed, last_name=f"Doe{seed:02d}") for seed in range(1, 61)
    ]
    client = login(tenant_a.coordinator)
    client.post(url(tenant_a, "nppes_refresh"), HTTP_HX_REQUEST="true")
    run_queued(tenant_a)
    html = client.get(url(tenant_a, "nppes")).content.decode()
    groups = re.findall(r'<li class="alert [^"]*nppes-failure-group">(.*?)</li>', html, re.S)
    assert len(groups) == 1
    words = text(groups[0])
    assert "60 checks failed: NPPES did not answer; try again later." in words
    assert "Could not connect to the registry." in words
    # Which providers: three by name, a link to the rest, each one in the detail below.
    links = re.findall(r'href="([^"]+)">([^<]+)</a>', groups[0])
    assert len([h for h, _ in links if "/screening/nppes/provider/" in h]) == 3
    assert ("?failed_page=1#failed-each", "57 more") in links
    detail = html[
        html.index('id="failed-each"') : html.index("</details>", html.index('id="failed-each"'))
    ]
    assert detail.count("<tr>") == 1 + 50  # the header and the first page of providers
    assert sum(1 for p in providers if p.full_name in detail) == 50
    assert "failed checks 1–50 of 60" in text(detail)
    assert "ConnectionError" not in html  # words for people, not exception names
    # The rest are one click further, the detail open.
    more = client.get(url(tenant_a, "nppes") + "?failed_page=2").content.decode()
    start = more.index('id="failed-each"')
    assert more[start : start + 40].endswith("open>") or " open>" in more[start : start + 60]
    rest = more[start : more.index("</details>", start)]
    assert sum(1 for p in providers if p.full_name in rest) == 10
    assert "failed checks 51–60 of 60" in text(rest)


def test_a_run_whose_counts_lack_keys_still_shows(tenant_a, login):
    with tenant_context(tenant_a.org):
        run = NppesRun.objects.create(
            organization=tenant_a.org, status="done", trigger="test", counts={"checked": 3}
        )
    response = login(tenant_a.auditor).get(url(tenant_a, "nppes_run", run_id=run.pk))
    assert response.status_code == 200 and "3 checked" in text(response.content.decode())
    assert login(tenant_a.auditor).get(url(tenant_a, "nppes")).status_code == 200
