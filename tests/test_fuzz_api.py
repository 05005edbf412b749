"""Schemathesis walks every operation of the OpenAPI schema against the real app.

Each operation gets a few generated requests in positive mode (valid by the schema) and in
negative mode (invalid by it), sent through the WSGI app (the real middleware stack, real
Postgres with RLS) with an admin API key of org A. Path parameters name real rows of org A, so
the requests reach the views' logic instead of stopping at a 404. The test fails on any 5xx,
and on any 4xx that is not the API's {"code", "message", "details"} shape.

Control characters are stripped from what schemathesis generates: the central check refuses
them before any view runs (tests/test_hostile_input.py, test_fuzz_forms.py), and left in they
would stop most requests at the door. Each request runs in a savepoint that is rolled back, so
every request sees the same seeded organization whatever the previous one deleted. The examples
per operation are few and derandomized, so `make test` stays short and sees the same requests
on every run (hypothesis' database is off); CREDEX_FUZZ_EXAMPLES explores further.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import GenerationMode

from credex.hostile import CONTROL
from credex.models import Role
from tests.fuzz_seed import last_line, no_internet, seed, wsgi_app
from tests.test_api import ERROR_KEYS, make_key

pytestmark = pytest.mark.django_db

# A few per operation and mode keep `make test` short and the examples the same on every run;
# CREDEX_FUZZ_EXAMPLES=200 explores further (and differently on each run).
EXAMPLES_PER_MODE = int(os.environ.get("CREDEX_FUZZ_EXAMPLES", "4"))
# CREDEX_FUZZ_ONLY="GET /api/v1/providers" walks the operations whose label contains it.
ONLY = os.environ.get("CREDEX_FUZZ_ONLY", "")
DETERMINISTIC = "CREDEX_FUZZ_EXAMPLES" not in os.environ


@pytest.fixture(autouse=True)
def _generous_throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


@pytest.fixture(autouse=True)
def _no_internet(settings):
    no_internet(settings)


@dataclass
class Finding:
    operation: str
    mode: str
    status: int | str
    detail: str
    curl: str

    def __str__(self):
        return f"{self.operation} [{self.mode}] -> {self.status}: {self.detail}\n    {self.curl}"


def _clean(value):
    """The value without control characters (in strings and keys, at any depth).

    The central check refuses them with a 400 before any view runs (tests/test_hostile_input.py
    covers it); left in, they would stop most generated requests at the door.
    """
    if isinstance(value, str):
        return CONTROL.sub("", value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _sanitize(case) -> None:
    for attr in ("path_parameters", "query", "headers", "cookies", "body"):
        value = getattr(case, attr, None)
        if isinstance(value, dict | list | str):
            setattr(case, attr, _clean(value))


def _check(response) -> str | None:
    """What is wrong with one answer, or None."""
    if response.status_code >= 500:
        return response.text[:300]
    if response.status_code >= 400:
        try:
            body = json.loads(response.content)
        except ValueError:
            return f"4xx body is not JSON: {response.text[:200]!r}"
        if not isinstance(body, dict) or set(body) != ERROR_KEYS:
            return f"4xx body is not {{code, message, details}}: {str(body)[:200]}"
        if not isinstance(body["code"], str) or not isinstance(body["message"], str):
            return f"4xx code/message are not strings: {str(body)[:200]}"
        if not isinstance(body["details"], dict | list):
            return f"4xx details is not an object: {str(body)[:200]}"
    return None


def fuzz_operation(operation, *, mode, app, errors, auth, path_parameters) -> list[Finding]:
    findings: list[Finding] = []
    fixed = {k: v for k, v in path_parameters.items() if f"{{{k}}}" in operation.path}
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)
    label = f"{operation.method.upper()} {operation.path}"

    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        database=None,
        derandomize=DETERMINISTIC,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        errors.clear()
        _sanitize(case)
        with transaction.atomic():
            try:
                response = case.call(app=app, headers=auth)
                problem = _check(response)
                status = response.status_code
            except Exception as exc:  # the transport raised: a crash before any answer
                problem, status = f"{type(exc).__name__}: {exc}", "exception"
            if problem:
                if errors:
                    problem += "\n" + last_line(errors[-1])
                findings.append(Finding(label, mode.value, status, problem, case.as_curl_command()))
            transaction.set_rollback(True)

    try:
        run()
    except Unsatisfiable:
        # Negative mode has nothing to make invalid (no parameters, no body).
        assert mode is GenerationMode.NEGATIVE, label
    return findings


def test_every_api_operation_answers_fuzzed_requests_without_a_5xx_and_in_the_error_shape(
    tenant_a, tenant_b, client
):
    path_parameters = seed(tenant_a)
    raw_key = make_key(tenant_a, role=Role.ADMIN, name="Fuzzer")[1]
    auth = {"Authorization": f"Api-Key {raw_key}"}
    doc = client.get("/api/schema/?format=json").json()
    schema = schemathesis.openapi.from_dict(doc)
    findings: list[Finding] = []
    operations = 0
    with wsgi_app() as (app, errors):
        for result in schema.get_all_operations():
            operation = result.ok()
            if ONLY and ONLY not in f"{operation.method.upper()} {operation.path}":
                continue
            operations += 1
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                findings += fuzz_operation(
                    operation,
                    mode=mode,
                    app=app,
                    errors=errors,
                    auth=auth,
                    path_parameters=path_parameters,
                )
    assert operations >= 90 or ONLY, operations
    # One line per operation and status is enough to find the cause.
    seen, report = set(), []
    for f in findings:
        if (f.operation, f.status) not in seen:
            seen.add((f.operation, f.status))
            report.append(str(f))
    assert not report, f"{len(findings)} bad answers:\n" + "\n".join(report)
