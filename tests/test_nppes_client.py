"""The NPI Registry client against a loopback server: answers, retries, timeouts, the rate
limit and the pool bound, counted at the server."""

from __future__ import annotations

import threading

import pytest

from screening.nppes.client import NppesClient, RateLimiter
from tests.fixtures_nppes import EMPTY, Answer, FakeNppes, individual, retarget, sample

NPI = "1720377294"


@pytest.fixture
def fake():
    server = FakeNppes().start()
    yield server
    server.stop()


def client_for(fake, **kw):
    options = {"rate_per_second": 1000, "concurrency": 4, "timeout": 3, "max_retries": 3}
    options.update(kw)
    return NppesClient(base_url=fake.url, backoff_seconds=0.01, **options)


def test_a_recorded_answer_is_found_and_the_request_asks_for_version_2_1_and_the_number(fake):
    fake.answer(NPI, sample("individual_2019_npi1720377294"))
    with client_for(fake) as client:
        result = client.fetch(NPI)
    assert result.outcome == "found"
    assert result.record.last_name == "HIZA"
    assert result.http_status == 200 and result.attempts == 1
    _, _, query = fake.requests[0]
    assert query == {"version": "2.1", "number": NPI}


def test_every_recorded_sample_comes_back_through_the_client(fake):
    fake.answer("1760485387", sample("individual_2022_two_taxonomies_npi1760485387"))
    fake.answer("1568946812", sample("organization_2019_npi1568946812"))
    fake.answer("1234567893", sample("empty_result"))
    fake.answer("1245319599", sample("error_04_no_valid_criteria"))
    with client_for(fake) as client:
        results = {r.npi: r for r in client.fetch_many(fake.scripts)}
    assert results["1760485387"].record.taxonomy_codes == ["207R00000X", "208000000X"]
    assert results["1568946812"].record.is_organization
    assert results["1234567893"].outcome == "not_found"
    error = results["1245319599"]
    assert error.outcome == "error" and error.error_kind == "api"
    assert error.error_detail()["errors"] == [
        {"number": "04", "description": "No valid search criteria provided", "field": "generic"}
    ]
    assert error.http_status == 200
    assert fake.count() == 4  # errors come with HTTP 200: never retried


def test_5xx_answers_are_retried_with_backoff_until_a_success(fake):
    fake.answer(NPI, Answer(500, {"oops": 1}), Answer(503, "busy"), sample("empty_result"))
    with client_for(fake) as client:
        result = client.fetch(NPI)
    assert result.outcome == "not_found"
    assert result.attempts == 3
    assert fake.count(NPI) == 3


def test_5xx_forever_gives_up_after_the_retries_as_an_error(fake):
    fake.answer(NPI, Answer(502, "bad gateway"))
    with client_for(fake, max_retries=2) as client:
        result = client.fetch(NPI)
    assert result.outcome == "error"
    assert result.error_kind == "http" and result.http_status == 502
    assert result.attempts == 3 and fake.count(NPI) == 3
    assert "Gave up after 3 attempts" in result.error_message


@pytest.mark.parametrize("status", [400, 403, 404])
def test_a_4xx_answer_is_not_retried(fake, status):
    fake.answer(NPI, Answer(status, {"error": "no"}), sample("empty_result"))
    with client_for(fake) as client:
        result = client.fetch(NPI)
    assert result.outcome == "error" and result.http_status == status
    assert fake.count(NPI) == 1


def test_an_answer_slower_than_the_timeout_is_a_timeout_retried_then_reported(fake):
    fake.answer(NPI, Answer(200, EMPTY, delay=1.5))
    with client_for(fake, timeout=0.3, max_retries=1) as client:
        result = client.fetch(NPI)
    assert result.outcome == "error" and result.error_kind == "timeout"
    assert result.attempts == 2 and fake.count(NPI) == 2


def test_a_slow_first_answer_then_a_quick_one_succeeds(fake):
    fake.answer(NPI, Answer(200, EMPTY, delay=1.5), sample("individual_2019_npi1720377294"))
    with client_for(fake, timeout=0.3) as client:
        result = client.fetch(NPI)
    assert result.outcome == "found" and result.attempts == 2


def test_a_closed_port_is_a_network_error_after_retries():
    server = FakeNppes().start()
    url = server.url
    server.stop()
    with NppesClient(base_url=url, backoff_seconds=0.01, max_retries=1, timeout=1) as client:
        result = client.fetch(NPI)
    assert result.outcome == "error" and result.error_kind == "network"
    assert result.attempts == 2


def test_an_unreadable_body_is_a_malformed_error_not_a_crash(fake):
    fake.answer(NPI, Answer(200, "<html>maintenance</html>"))
    with client_for(fake) as client:
        result = client.fetch(NPI)
    assert result.outcome == "error" and result.error_kind == "malformed"


def test_the_rate_limit_holds_in_every_one_second_window_at_the_server(fake):
    fake.builder = lambda npi: Answer(200, retarget(sample("empty_result"), npi))
    npis = [f"1{i:09d}" for i in range(26)]
    with client_for(fake, rate_per_second=10, concurrency=8) as client:
        results = list(client.fetch_many(npis))
    assert len(results) == 26 and fake.count() == 26
    # Arrival times carry the machine's scheduling jitter (a thread granted its slot on time
    # may send late, next to the following one), so the bound is taken over two seconds with
    # room for that jitter; an unthrottled client sends all 26 within a fraction of a second.
    assert fake.max_in_any_window(2.0) <= 2 * 10 + 3
    assert fake.span() >= 2.0


def test_retries_also_go_through_the_rate_limit(fake):
    for i in range(6):
        fake.answer(f"1{i:09d}", Answer(500, "x"), Answer(500, "x"), EMPTY)
    with client_for(fake, rate_per_second=8, concurrency=6) as client:
        results = list(client.fetch_many(list(fake.scripts)))
    assert {r.outcome for r in results} == {"not_found"}
    assert fake.count() == 18
    assert fake.max_in_any_window(2.0) <= 2 * 8 + 3
    assert fake.span() >= 1.5


def test_no_more_requests_are_in_flight_than_the_pool_allows(fake):
    fake.delay = 0.15
    npis = [f"1{i:09d}" for i in range(24)]
    with client_for(fake, concurrency=3) as client:
        results = list(client.fetch_many(npis))
    assert len(results) == 24
    assert fake.max_in_flight <= 3
    assert fake.max_in_flight >= 2  # and the pool is used


def test_every_worker_thread_reuses_its_own_session(fake):
    fake.builder = lambda npi: Answer(200, individual(npi))
    with client_for(fake, concurrency=3) as client:
        list(client.fetch_many([f"1{i:09d}" for i in range(12)]))
        assert 1 <= len(client._sessions) <= 3


def test_the_rate_limiter_is_thread_safe_and_spaces_requests_evenly():
    limiter = RateLimiter(20)
    times = []
    lock = threading.Lock()

    def take():
        limiter.acquire()
        import time

        with lock:
            times.append(time.monotonic())

    threads = [threading.Thread(target=take) for _ in range(15)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    times.sort()
    assert len(times) == 15
    # 15 requests at 20/s need at least 14 intervals of 50 ms.
    assert times[-1] - times[0] >= 14 * 0.05 * 0.9
