"""The SAM.gov Exclusions API v4 reader and the "Check SAM now" of one provider.

A loopback HTTP server (threading http.server) answers in the v4 shape (built from GSA's
documented example): two pages joined by links.nextLink, paging by totalRecords, a 429, a
500, an answer that never comes (timeout), an unreadable body. The one-provider check runs
through its real entry points (the API endpoint and the button on the screening view) and is
recorded as a PSV verification with an audit event; a failure is a clear 4xx/5xx answer
(never a 500) that records no verification. The API key never appears in a log line, an
error or the audit log.
"""

from __future__ import annotations

import copy
import http.server
import json
import logging
import threading
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from credex.services import api_key_create
from credex.tenancy import tenant_context
from screening.sam_api import SamApiClient, SamApiError, parse_page
from tests.factories import make_provider
from verifications.models import Verification

FIXTURES = Path(__file__).parent / "fixtures_screening"
EXAMPLE = json.loads((FIXTURES / "sam_api_v4_individual_example.json").read_text())
KEY = "SAM-test-key-0123456789abcdef"
NPI = "1234567893"


def entity(*, first="CHONG", last="HWANG", npi=None, classification="Individual", **action):
    """One excludedEntity in GSA's v4 shape (the documented example, renamed)."""
    e = copy.deepcopy(EXAMPLE["excludedEntity"][0])
    e["exclusionDetails"]["classificationType"] = classification
    ident = e["exclusionIdentification"]
    ident.update(firstName=first, lastName=last, middleName=None, npi=npi)
    ident["entityName"] = f"{first} {last}"
    e["exclusionActions"]["listOfActions"][0].update(action)
    return e


def page(entities, total, next_link=None):
    links = {"selfLink": "https://api.sam.gov/entity-information/v4/exclusions?api_key=REPLACE"}
    if next_link:
        links["nextLink"] = next_link
    return {"totalRecords": total, "excludedEntity": entities, "links": links}


class FakeSam:
    """Answers GET /entity-information/v4/exclusions with whatever `respond(query)` gives:
    (status, body dict or bytes, headers) or "hang" (never answers in time)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.respond = lambda query: (200, page([], 0), {})
        self.release = threading.Event()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                fake.requests.append({"path": parts.path, "query": query, "headers": self.headers})
                answer = fake.respond(query)
                if answer == "hang":
                    fake.release.wait(10)
                    return
                status, body, headers = answer
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/hal+json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sam(settings):
    server = FakeSam().start()
    settings.SAM_API_BASE_URL = server.url
    settings.SAM_API_KEY = KEY
    settings.SAM_API_TIMEOUT_SECONDS = 1
    settings.SAM_API_MAX_PAGES = 3
    yield server
    server.stop()


# --- the reader -----------------------------------------------------------------------------


def test_the_documented_example_parses():
    total, records, next_link = parse_page(EXAMPLE)
    assert total == 5 and next_link == "" and len(records) == 1
    r = records[0]
    assert (r.first, r.middle, r.last, r.prefix) == ("Chong", "Sun", "Hwang", "Ms.")
    assert r.entity_name == "Ms. Chong Sun Hwang" and r.classification == "Individual"
    assert (r.agency_code, r.exclusion_type) == ("ARMY", "Ineligible (Proceedings Completed)")
    assert r.activate_date.isoformat() == "2011-12-12"
    assert r.termination_date.isoformat() == "2029-11-08" and not r.termination_indefinite
    assert r.record_status == "Active" and r.country == "KOR" and r.npi == ""


def test_two_pages_are_read_through_next_link_with_our_key_put_back(sam):
    first = [entity(first=f"A{i}", last="SMITH") for i in range(10)]
    second = [entity(first="B1", last="SMITH"), entity(first="B2", last="SMITH")]

    def respond(query):
        if query.get("page") == "0":
            link = f"{sam.url}/entity-information/v4/exclusions?api_key=REPLACE_WITH_API_KEY"
            return 200, page(first, 12, f"{link}&exclusionName=SMITH&page=1&size=10"), {}
        return 200, page(second, 12), {}

    sam.respond = respond
    with SamApiClient() as client:
        search = client.search(exclusionName="SMITH")
    assert search.total == 12 and len(search.records) == 12 and search.pages == 2
    assert not search.truncated and search.params == {"exclusionName": "SMITH"}
    assert [r["query"]["page"] for r in sam.requests] == ["0", "1"]
    assert all(r["query"]["api_key"] == KEY for r in sam.requests)
    assert all(r["path"] == "/entity-information/v4/exclusions" for r in sam.requests)
    assert sam.requests[0]["headers"]["Accept"] == "*/*"  # "application/json" gets a 406


def test_without_a_next_link_pages_follow_total_records_and_stop_at_the_bound(sam, settings):
    settings.SAM_API_MAX_PAGES = 2
    sam.respond = lambda q: (200, page([entity(first=f"P{q['page']}", last="LEE")], 45), {})
    with SamApiClient(max_pages=2) as client:
        search = client.search(exclusionName="LEE")
    assert [r["query"]["page"] for r in sam.requests] == ["0", "1"]
    assert search.truncated and search.total == 45 and len(search.records) == 2


def test_a_next_link_to_another_host_is_not_followed(sam):
    sam.respond = lambda q: (
        200,
        page([entity()] * 10, 20, "https://elsewhere.example/v4/exclusions?page=1"),
        {},
    )
    with SamApiClient() as client, pytest.raises(SamApiError) as caught:
        client.search(npi=NPI)
    assert caught.value.kind == "malformed" and "another host" in caught.value.message
    assert len(sam.requests) == 1


def test_a_429_is_a_rate_limit_error_with_retry_after(sam):
    sam.respond = lambda q: (429, {"error": {"code": "OVER_RATE_LIMIT"}}, {"Retry-After": "120"})
    with SamApiClient() as client, pytest.raises(SamApiError) as caught:
        client.search(npi=NPI)
    assert caught.value.kind == "rate_limited" and caught.value.retry_after == 120
    assert caught.value.http_status == 429 and "120 seconds" in caught.value.message
    assert len(sam.requests) == 1  # no retry: it would spend the day's quota


def test_a_500_is_an_http_error(sam):
    sam.respond = lambda q: (500, b"<html>Internal Server Error</html>", {})
    with SamApiClient() as client, pytest.raises(SamApiError) as caught:
        client.search(npi=NPI)
    assert (caught.value.kind, caught.value.http_status) == ("http", 500)
    assert "HTTP 500" in caught.value.message


def test_an_answer_that_never_comes_is_a_timeout(sam):
    sam.respond = lambda q: "hang"
    with SamApiClient(timeout=0.3) as client, pytest.raises(SamApiError) as caught:
        client.search(npi=NPI)
    assert caught.value.kind == "timeout" and "did not answer" in caught.value.message


def test_an_unreadable_answer_is_malformed(sam):
    sam.respond = lambda q: (200, b"not json", {})
    with SamApiClient() as client, pytest.raises(SamApiError, match="not JSON"):
        client.search(npi=NPI)
    sam.respond = lambda q: (200, {"totalRecords": 1, "excludedEntity": "nope"}, {})
    with SamApiClient() as client, pytest.raises(SamApiError, match="excludedEntity"):
        client.search(npi=NPI)


def test_an_oversized_answer_is_not_read_whole(sam):
    sam.respond = lambda q: (200, b"[" + b" " * (3 * 1024 * 1024) + b"]", {})
    with SamApiClient() as client, pytest.raises(SamApiError, match="more than 2048 KB"):
        client.search(npi=NPI)


def test_the_api_key_never_reaches_a_log_line_or_an_error(sam, caplog):
    caplog.set_level(logging.DEBUG)
    sam.respond = lambda q: (200, page([entity()], 1), {})
    with SamApiClient() as client:
        client.search(npi=NPI)
    sam.stop()  # now the connection fails: requests' exception text holds the whole URL
    with SamApiClient() as client, pytest.raises(SamApiError) as caught:
        client.search(npi=NPI)
    assert "exclusions?api_key=***" in caplog.text  # urllib3's request line, redacted
    assert KEY not in caplog.text and KEY not in caught.value.message
    assert caught.value.kind in ("network", "timeout")


# --- the check of one provider, through its entry points --------------------------------


def api_as(tenant, role):
    client = APIClient()
    with tenant_context(tenant.org):
        _, raw = api_key_create(
            org=tenant.org, actor=tenant.membership(tenant.owner), name=role, role=role
        )
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def by_npi_and_name(npi_hits=(), name_hits=()):
    def respond(query):
        if "npi" in query:
            return 200, page(list(npi_hits), len(npi_hits)), {}
        return 200, page(list(name_hits), len(name_hits)), {}

    return respond


def sam_checks(org, provider):
    with tenant_context(org):
        return list(Verification.objects.filter(provider=provider, source="sam"))


def check_events(org):
    with tenant_context(org):
        return list(AuditEvent.objects.filter(action="screening.sam.api_checked").order_by("seq"))


def test_the_api_check_records_a_match_by_npi_as_a_discrepancy(tenant_a, sam):
    provider = make_provider(tenant_a.org, seed=1, first_name="Ellen", last_name="Marsh", npi=NPI)
    sam.respond = by_npi_and_name(
        npi_hits=[entity(first="ELLEN", last="MARSH", npi=NPI, terminationDate="Indefinite")],
        name_hits=[
            entity(first="ELLEN", last="MARSH", npi=NPI, terminationDate="Indefinite"),
            entity(first="ELLEN", last="MARSH-BYRNE", terminationDate="01-01-2015"),
            entity(first="ELLEN", last="MARSH", classification="Firm"),
            entity(first="OWEN", last="MARSH"),
        ],
    )
    response = api_as(tenant_a, "coordinator").post(
        f"/api/v1/screening/providers/{provider.pk}/sam-check"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["outcome"] == "hit" and body["verification_result"] == "discrepancy"
    assert [m["matched_by"] for m in body["matches"]] == [["name", "npi"], ["name"]]
    assert [m["in_force"] for m in body["matches"]] == [True, False]
    assert body["matches"][0]["termination_indefinite"] is True
    assert {q["params"].get("npi") for q in body["searches"]} == {NPI, None}
    name_query = [r["query"] for r in sam.requests if "exclusionName" in r["query"]][0]
    assert name_query["exclusionName"] == "Ellen Marsh"
    assert name_query["classification"] == "Individual"
    (verification,) = sam_checks(tenant_a.org, provider)
    assert verification.method == "api" and verification.verifier_kind == "api_key"
    assert verification.data["via"] == "sam_api_v4" and len(verification.data["matches"]) == 2
    assert "Possible match on SAM.gov" in verification.details
    (event,) = check_events(tenant_a.org)
    assert event.source == "SAM" and event.target_id == str(provider.pk)
    assert event.data["result"]["outcome"] == "hit"
    assert event.data["verification"] == str(verification.pk)
    assert KEY not in json.dumps(event.data) and KEY not in json.dumps(verification.data)


def test_the_button_on_the_screening_view_records_a_clean_check(tenant_a, sam, client, login):
    provider = make_provider(tenant_a.org, seed=2, first_name="Nora", last_name="Quill")
    sam.respond = by_npi_and_name()
    login(tenant_a.coordinator)
    page_url = f"/o/{tenant_a.org.slug}/screening/provider/{provider.pk}/"
    assert "Check SAM now" in client.get(page_url).content.decode()

    response = client.post(f"{page_url}sam-check/", {"next": page_url}, follow=True)

    assert response.redirect_chain[-1][0] == page_url
    text = response.content.decode()
    assert "Not excluded on SAM.gov (API v4, by NPI" in text and "Clean" in text
    (verification,) = sam_checks(tenant_a.org, provider)
    assert verification.result == "verified" and verification.verifier_kind == "member"
    assert verification.verifier_label == tenant_a.coordinator.email
    assert len(check_events(tenant_a.org)) == 1 and len(sam.requests) == 2


def test_an_auditor_gets_403_and_an_outsider_404_and_nothing_is_asked(
    tenant_a, tenant_b, sam, client, login
):
    provider = make_provider(tenant_a.org, seed=3)
    url = f"/o/{tenant_a.org.slug}/screening/provider/{provider.pk}/sam-check/"
    login(tenant_a.auditor)
    assert client.post(url).status_code == 403
    assert (
        api_as(tenant_a, "auditor")
        .post(f"/api/v1/screening/providers/{provider.pk}/sam-check")
        .status_code
        == 403
    )
    login(tenant_b.owner)
    outsider = client.post(f"/o/{tenant_b.org.slug}/screening/provider/{provider.pk}/sam-check/")
    assert outsider.status_code == 404
    assert sam.requests == [] and sam_checks(tenant_a.org, provider) == []


@pytest.mark.parametrize(
    "answer,status,code",
    [
        ((429, {"message": "slow down"}, {"Retry-After": "60"}), 503, "sam_rate_limited"),
        ((500, b"oops", {}), 502, "sam_unavailable"),
        ("hang", 502, "sam_unavailable"),
    ],
    ids=["429", "500", "timeout"],
)
def test_a_failing_sam_api_is_a_clear_error_and_records_no_verification(
    tenant_a, sam, answer, status, code
):
    provider = make_provider(tenant_a.org, seed=4)
    sam.respond = lambda q: answer
    response = api_as(tenant_a, "coordinator").post(
        f"/api/v1/screening/providers/{provider.pk}/sam-check"
    )
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == code
    assert KEY not in response.content.decode()
    if status == 503:
        assert body["details"]["retry_after_seconds"] == 60
    assert sam_checks(tenant_a.org, provider) == []
    (event,) = check_events(tenant_a.org)
    assert event.data["result"]["outcome"] == "error" and KEY not in json.dumps(event.data)


def test_the_page_shows_the_failure_next_to_the_button(tenant_a, sam, client, login):
    provider = make_provider(tenant_a.org, seed=5)
    sam.respond = lambda q: (500, b"oops", {})
    login(tenant_a.coordinator)
    url = f"/o/{tenant_a.org.slug}/screening/provider/{provider.pk}/"
    response = client.post(f"{url}sam-check/", follow=True)
    assert response.status_code == 200
    assert "SAM.gov check not done: SAM.gov answered HTTP 500" in response.content.decode()
    assert sam_checks(tenant_a.org, provider) == []


def test_without_an_api_key_the_check_is_refused_and_the_button_is_not_shown(
    tenant_a, settings, client, login
):
    settings.SAM_API_KEY = ""
    provider = make_provider(tenant_a.org, seed=6)
    response = api_as(tenant_a, "coordinator").post(
        f"/api/v1/screening/providers/{provider.pk}/sam-check"
    )
    assert response.status_code == 409 and response.json()["code"] == "sam_api_not_configured"
    login(tenant_a.coordinator)
    page_text = client.get(f"/o/{tenant_a.org.slug}/screening/provider/{provider.pk}/")
    assert "Check SAM now" not in page_text.content.decode()
    assert sam_checks(tenant_a.org, provider) == [] and check_events(tenant_a.org) == []


def test_more_name_records_than_pages_read_is_inconclusive(tenant_a, sam, settings):
    settings.SAM_API_MAX_PAGES = 1
    provider = make_provider(tenant_a.org, seed=7, first_name="John", last_name="Smith")
    sam.respond = lambda q: (
        (200, page([], 0), {})
        if "npi" in q
        else (200, page([entity(first="JANE", last="SMITH")] * 10, 480), {})
    )
    body = (
        api_as(tenant_a, "coordinator")
        .post(f"/api/v1/screening/providers/{provider.pk}/sam-check")
        .json()
    )
    assert body["outcome"] == "incomplete" and body["verification_result"] == "unable"
    assert "more records for this name than were read" in body["details"]
