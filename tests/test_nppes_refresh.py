"""The NPPES refresh of an organization: mismatches per field, dismissals that last until
NPPES changes, automatic resolution, errors that never erase, idempotency, the lock, audit,
and accepting differences into the roster."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connections

from audit.models import AuditEvent
from credex.errors import Conflict, Forbidden
from credex.tenancy import tenant_context
from demo.seeders.nppes import seed_demo_nppes
from roster.models import Credential, Provider
from screening.nppes import services as svc
from screening.nppes.models import NppesCheck, NppesMismatch, NppesRun
from tests.factories import make_provider, valid_npi
from tests.fixtures_nppes import EMPTY, Answer, FakeNppes, individual, sample, use_fake


@pytest.fixture
def fake(settings):
    server = FakeNppes().start()
    use_fake(settings, server, retries=1)
    yield server
    server.stop()


def add_provider(tenant, seed=1, **fields):
    """A provider whose values agree with tests.fixtures_nppes.individual(npi)."""
    defaults = {
        "first_name": "Jane",
        "last_name": "Doe",
        "provider_type": "MD",
        "primary_taxonomy_id": "207R00000X",
        "taxonomy_codes": ["207R00000X"],
        "address_line1": "100 Main Street",
        "city": "Sacramento",
        "state": "CA",
        "postal_code": "95814",
        "practice_states": ["CA"],
    }
    provider = make_provider(tenant.org, seed=seed, **{**defaults, **fields})
    with tenant_context(tenant.org):
        Credential.objects.create(
            organization=tenant.org,
            provider=provider,
            kind="state_license",
            number="A12345",
            state="CA",
            issue_date=date(2020, 1, 1),
            expiry_date=date(2030, 1, 1),
        )
    return provider


def refresh(tenant, **kw):
    with tenant_context(tenant.org):
        return svc.nppes_refresh(org=tenant.org, trigger="test", **kw)


def mismatches(tenant, **filters):
    with tenant_context(tenant.org):
        return list(NppesMismatch.objects.filter(**filters).order_by("field", "first_seen"))


def check_of(tenant, provider):
    with tenant_context(tenant.org):
        return NppesCheck.objects.get(provider=provider)


def test_a_provider_that_agrees_with_nppes_gets_a_match_and_no_mismatch(tenant_a, fake):
    p = add_provider(tenant_a)
    fake.answer(p.npi, individual(p.npi))
    run = refresh(tenant_a)
    assert run.status == "done"
    assert run.counts["match"] == 1 and run.counts["checked"] == 1
    assert mismatches(tenant_a) == []
    check = check_of(tenant_a, p)
    assert check.outcome == "match" and check.record["last_name"] == "DOE"
    assert check.record_fetched_at is not None


CHANGES = {
    "name": ({"last": "SMITH"}, "medium"),
    "credential_text": ({"credential": "D.O."}, "low"),
    "primary_taxonomy": (
        {
            "taxonomies": [
                {"code": "208000000X", "primary": True, "state": "CA", "license": "A12345"},
                {"code": "207R00000X", "primary": False, "state": "CA", "license": "A12345"},
            ]
        },
        "medium",
    ),
    "secondary_taxonomies": (
        {
            "taxonomies": [
                {"code": "207R00000X", "primary": True, "state": "CA", "license": "A12345"},
                {"code": "208000000X", "primary": False, "state": "", "license": ""},
            ]
        },
        "low",
    ),
    "practice_address": (
        {
            "location": {
                "address_1": "2500 CAPITOL AVE STE 200",
                "city": "SACRAMENTO",
                "state": "CA",
                "postal_code": "958161234",
            }
        },
        "low",
    ),
    "licenses": (
        {
            "taxonomies": [
                {"code": "207R00000X", "primary": True, "state": "CA", "license": "A12345"},
                {"code": "207R00000X", "primary": False, "state": "NV", "license": "RN-4477"},
            ]
        },
        "medium",
    ),
    "status": ({"status": "D", "extra_basic": {"deactivation_date": "2026-10-01"}}, "high"),
}


@pytest.mark.parametrize("field", list(CHANGES))
def test_each_kind_of_difference_becomes_one_open_mismatch(tenant_a, fake, field):
    p = add_provider(tenant_a)
    change, severity = CHANGES[field]
    fake.answer(p.npi, individual(p.npi, **change))
    run = refresh(tenant_a)
    (m,) = mismatches(tenant_a)
    assert (m.field, m.severity, m.status) == (field, severity, "open")
    assert m.provider_id == p.pk and m.nppes_value and m.first_seen == m.last_seen
    expected_outcome = "deactivated" if field == "status" else "mismatch"
    assert check_of(tenant_a, p).outcome == expected_outcome
    assert run.counts["mismatches_opened"] == 1


def test_an_organization_npi_on_a_clinician_is_a_high_severity_name_mismatch(tenant_a, fake):
    p = add_provider(tenant_a)
    fake.answer(p.npi, {**sample("organization_2019_npi1568946812")})
    fake.scripts[p.npi][0].body["results"][0]["number"] = int(p.npi)
    refresh(tenant_a)
    name = [m for m in mismatches(tenant_a) if m.field == "name"][0]
    assert name.severity == "high"
    assert name.nppes_value == {"organization": "CSP ANESTHESIA LLC"}


def test_a_rerun_with_the_same_answers_is_idempotent(tenant_a, fake):
    p = add_provider(tenant_a)
    fake.answer(p.npi, individual(p.npi, last="SMITH", credential="D.O."))
    refresh(tenant_a)
    first = {m.field: m for m in mismatches(tenant_a)}
    run = refresh(tenant_a)
    again = {m.field: m for m in mismatches(tenant_a)}
    assert set(again) == {"name", "credential_text"}
    assert len(mismatches(tenant_a)) == 2
    for field, m in again.items():
        assert m.pk == first[field].pk
        assert m.first_seen == first[field].first_seen
        assert m.last_seen > first[field].last_seen
    assert run.counts["mismatches_opened"] == 0
    with tenant_context(tenant_a.org):
        assert NppesCheck.objects.count() == 1


def test_a_dismissal_lasts_until_nppes_changes_that_field_again(tenant_a, fake):
    p = add_provider(tenant_a)
    owner = tenant_a.membership(tenant_a.coordinator)
    fake.answer(p.npi, individual(p.npi, last="SMITH"))
    refresh(tenant_a)
    (m,) = mismatches(tenant_a)
    with tenant_context(tenant_a.org):
        svc.nppes_mismatch_dismiss(org=tenant_a.org, actor=owner, mismatch=m, note="maiden name")
    refresh(tenant_a)
    refresh(tenant_a)
    (m,) = mismatches(tenant_a)
    assert m.status == "dismissed" and m.decided_by_id == owner.pk
    assert m.decision_note == "maiden name"

    fake.answer(p.npi, individual(p.npi, last="SMITH-JONES"))
    refresh(tenant_a)
    dismissed, new = mismatches(tenant_a)
    assert dismissed.status == "dismissed"
    assert new.status == "open" and new.nppes_value["last"] == "SMITH-JONES"


def test_a_difference_that_disappears_resolves_and_reopens_if_it_comes_back(tenant_a, fake):
    p = add_provider(tenant_a)
    fake.answer(p.npi, individual(p.npi, credential="D.O."))
    refresh(tenant_a)
    fake.answer(p.npi, individual(p.npi))
    run = refresh(tenant_a)
    (m,) = mismatches(tenant_a)
    assert m.status == "resolved" and m.resolved_at is not None
    assert run.counts["mismatches_resolved"] == 1
    fake.answer(p.npi, individual(p.npi, credential="D.O."))
    refresh(tenant_a)
    (m,) = mismatches(tenant_a)
    assert m.status == "open" and m.resolved_at is None


@pytest.mark.parametrize(
    "failure,outcome",
    [
        (Answer(200, sample("error_04_no_valid_criteria")), "error"),
        (Answer(200, EMPTY), "not_found"),
        (Answer(500, "down"), "error"),
        (Answer(200, EMPTY, delay=1.2), "error"),
    ],
    ids=["errors-list", "empty-result", "http-500", "timeout"],
)
def test_a_failed_check_is_recorded_and_never_erases_data(
    tenant_a, fake, settings, failure, outcome
):
    settings.NPPES_TIMEOUT_SECONDS = 0.3
    p = add_provider(tenant_a)
    fake.answer(p.npi, individual(p.npi, last="SMITH"))
    refresh(tenant_a)
    (before,) = mismatches(tenant_a)
    good = check_of(tenant_a, p)

    fake.answer(p.npi, failure)
    run = refresh(tenant_a)

    assert run.counts[outcome] == 1
    (after,) = mismatches(tenant_a)
    assert (after.status, after.last_seen, after.nppes_value) == (
        "open",
        before.last_seen,
        before.nppes_value,
    )
    check = check_of(tenant_a, p)
    assert check.outcome == outcome and check.consecutive_failures == 1
    assert check.next_retry_at is not None and check.next_retry_at > check.checked_at
    assert check.record == good.record and check.last_success_at == good.last_success_at
    assert check.error_detail["message"]
    if failure.body == sample("error_04_no_valid_criteria"):
        assert check.error_detail["errors"][0]["number"] == "04"
    with tenant_context(tenant_a.org):
        assert Provider.objects.get(pk=p.pk).last_name == "Doe"

    fake.answer(p.npi, failure)
    refresh(tenant_a)
    assert check_of(tenant_a, p).consecutive_failures == 2
    fake.answer(p.npi, individual(p.npi, last="SMITH"))
    refresh(tenant_a)
    assert check_of(tenant_a, p).consecutive_failures == 0


def test_every_nppes_call_is_audited_with_source_request_and_result(tenant_a, fake):
    providers = [add_provider(tenant_a, seed=i) for i in range(1, 4)]
    for p in providers[:2]:
        fake.answer(p.npi, individual(p.npi))
    fake.answer(providers[2].npi, Answer(500, "x"))
    run = refresh(tenant_a)
    with tenant_context(tenant_a.org):
        events = list(AuditEvent.objects.filter(organization=tenant_a.org, action="nppes.checked"))
    assert len(events) == 3
    assert {e.target_id for e in events} == {str(p.pk) for p in providers}
    for e in events:
        assert e.source == "NPPES" and e.actor_label == "nppes"
        assert e.data["request"] == f"GET /api/?version=2.1&number={e.data['npi']}"
        assert e.data["run"] == str(run.pk)
        assert e.data["result"]["outcome"] in {"found", "error"}
    failed = [e for e in events if e.data["outcome"] == "error"][0]
    assert failed.data["result"]["attempts"] == 2  # retries=1


def test_providers_without_an_npi_and_other_organizations_are_not_checked(tenant_a, tenant_b, fake):
    add_provider(tenant_a, seed=1)
    make_provider(tenant_a.org, seed=2, npi="")
    other = add_provider(tenant_b, seed=3)
    fake.builder = lambda npi: Answer(200, individual(npi, last="SMITH"))
    run = refresh(tenant_a)
    assert run.counts["checked"] == 1 and fake.count() == 1
    assert fake.count(other.npi) == 0
    assert mismatches(tenant_b) == []


def test_one_provider_can_be_refreshed_alone(tenant_a, fake):
    p1, p2 = add_provider(tenant_a, seed=1), add_provider(tenant_a, seed=2)
    fake.builder = lambda npi: Answer(200, individual(npi))
    run = refresh(tenant_a, provider_ids=[p2.pk])
    assert fake.count() == 1 and fake.count(p2.npi) == 1
    assert run.provider_id == p2.pk
    with tenant_context(tenant_a.org):
        assert not NppesCheck.objects.filter(provider=p1).exists()


def other_session():
    from credex.dbsetup import _connect

    owner = connections["owner"].settings_dict
    conn = _connect(owner, owner["NAME"])
    conn.autocommit = True
    return conn


def test_a_second_refresh_of_the_same_organization_at_the_same_time_is_skipped(tenant_a, fake):
    add_provider(tenant_a)
    # Another session (another worker, another beat) holds the organization's refresh lock.
    with other_session() as conn, conn.transaction():
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"credex.nppes.refresh:{tenant_a.org.pk}"],
        )
        run = refresh(tenant_a)
    assert run.status == "skipped"
    assert fake.count() == 0


def test_a_refresh_request_is_queued_once_and_needs_the_roster_change_capability(tenant_a):
    coordinator = tenant_a.membership(tenant_a.coordinator)
    with tenant_context(tenant_a.org):
        first = svc.nppes_refresh_request(org=tenant_a.org, actor=coordinator)
        again = svc.nppes_refresh_request(org=tenant_a.org, actor=coordinator)
        assert first.pk == again.pk and first.status == "queued"
        with pytest.raises(Forbidden):
            svc.nppes_refresh_request(org=tenant_a.org, actor=tenant_a.membership(tenant_a.auditor))
        assert NppesRun.objects.count() == 1
    with tenant_context(tenant_a.org):  # events are written when the transaction commits
        events = AuditEvent.objects.filter(action="nppes.refresh.requested")
        assert events.count() == 1


# --- accepting differences into the roster ---------------------------------------------------


def accept_only(tenant, field):
    coordinator = tenant.membership(tenant.coordinator)
    (m,) = [m for m in mismatches(tenant) if m.field == field]
    with tenant_context(tenant.org):
        return svc.nppes_mismatch_accept(org=tenant.org, actor=coordinator, mismatch=m)


def provider_now(tenant, p):
    with tenant_context(tenant.org):
        return Provider.objects.get(pk=p.pk)


@pytest.mark.parametrize("field", list(CHANGES))
def test_accepting_a_difference_updates_the_roster_audited_as_coming_from_nppes(
    tenant_a, fake, field
):
    p = add_provider(tenant_a)
    change, _ = CHANGES[field]
    fake.answer(p.npi, individual(p.npi, **change))
    refresh(tenant_a)
    m = accept_only(tenant_a, field)
    assert m.status == "accepted" and m.decided_by_label == "coordinator@a.example"

    now = provider_now(tenant_a, p)
    with tenant_context(tenant_a.org):
        licenses = sorted(
            Credential.objects.filter(provider=p, kind="state_license").values_list(
                "state", "number"
            )
        )
    expected = {
        "name": lambda: now.last_name == "Smith" and "Jane Doe" in now.former_names,
        "credential_text": lambda: now.provider_type == "DO",
        "primary_taxonomy": lambda: now.primary_taxonomy_id == "208000000X",
        "secondary_taxonomies": lambda: set(now.taxonomy_codes) == {"207R00000X", "208000000X"},
        "practice_address": lambda: (
            (now.address_line1, now.city, now.postal_code)
            == ("2500 CAPITOL AVE STE 200", "Sacramento", "95816-1234")
        ),
        "licenses": lambda: licenses == [("CA", "A12345"), ("NV", "RN-4477")],
        "status": lambda: now.status == "inactive",
    }
    assert expected[field](), (field, now.__dict__, licenses)

    with tenant_context(tenant_a.org):
        accepted = AuditEvent.objects.get(action="nppes.mismatch.accepted")
        assert accepted.source == "NPPES" and accepted.actor_label == "coordinator@a.example"
        assert accepted.data["field"] == field and accepted.data["nppes_answered_at"]
        if field != "licenses":
            update = AuditEvent.objects.get(action="roster.provider.updated", target_id=str(p.pk))
            assert update.source == "NPPES"
        else:
            assert AuditEvent.objects.filter(action="roster.credential.created").exists()

    # The roster now agrees: the next night does not raise it again.
    run = refresh(tenant_a)
    assert run.counts["mismatches_opened"] == 0
    assert [x.status for x in mismatches(tenant_a) if x.field == field] == ["accepted"]


def test_a_license_number_that_differs_in_the_same_state_takes_nppes_number(tenant_a, fake):
    p = add_provider(tenant_a)
    fake.answer(
        p.npi,
        individual(
            p.npi,
            taxonomies=[
                {"code": "207R00000X", "primary": True, "state": "CA", "license": "A-12354"}
            ],
        ),
    )
    refresh(tenant_a)
    accept_only(tenant_a, "licenses")
    with tenant_context(tenant_a.org):
        numbers = list(Credential.objects.filter(provider=p).values_list("state", "number"))
    assert numbers == [("CA", "A-12354")]


def test_an_item_no_longer_open_cannot_be_accepted_and_an_auditor_cannot_decide(tenant_a, fake):
    p = add_provider(tenant_a)
    fake.answer(p.npi, individual(p.npi, last="SMITH"))
    refresh(tenant_a)
    (m,) = mismatches(tenant_a)
    with tenant_context(tenant_a.org):
        with pytest.raises(Forbidden):
            svc.nppes_mismatch_accept(
                org=tenant_a.org, actor=tenant_a.membership(tenant_a.auditor), mismatch=m
            )
        svc.nppes_mismatch_dismiss(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.coordinator), mismatch=m
        )
        with pytest.raises(Conflict):
            svc.nppes_mismatch_accept(
                org=tenant_a.org, actor=tenant_a.membership(tenant_a.coordinator), mismatch=m
            )
    assert provider_now(tenant_a, p).last_name == "Doe"


def test_bulk_dismiss_records_one_audit_event_per_item(tenant_a, fake):
    providers = [add_provider(tenant_a, seed=i) for i in range(1, 4)]
    fake.builder = lambda npi: Answer(200, individual(npi, credential="D.O."))
    refresh(tenant_a)
    items = mismatches(tenant_a)
    assert len(items) == 3
    with tenant_context(tenant_a.org):
        rows = svc.nppes_mismatches_dismiss(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.coordinator),
            mismatches=items,
            note="DO is right",
        )
        assert len(rows) == 3
    with tenant_context(tenant_a.org):  # events are written when the transaction commits
        assert AuditEvent.objects.filter(action="nppes.mismatch.dismissed").count() == 3
    assert {m.status for m in mismatches(tenant_a)} == {"dismissed"}
    assert len(providers) == 3


def test_the_demo_seed_creates_open_mismatches_and_a_failed_check_without_network(
    tenant_a, settings
):
    settings.NPPES_BASE_URL = "http://127.0.0.1:9"  # discard port: any request would fail
    for i in range(1, 9):
        add_provider(tenant_a, seed=i, last_name=f"Demo{i}")
    counts = seed_demo_nppes(tenant_a.org)
    assert counts["error"] == 1 and counts["mismatches_opened"] >= 6
    fields = {m.field for m in mismatches(tenant_a, status="open")}
    assert fields == {
        "name",
        "secondary_taxonomies",
        "practice_address",
        "licenses",
        "status",
        "credential_text",
    }
    assert seed_demo_nppes(tenant_a.org) == {"skipped": True}
    assert len(mismatches(tenant_a)) == counts["mismatches_opened"]


def test_lookup_returns_form_values_and_is_audited(tenant_a, fake):
    npi = "1720377294"
    fake.answer(npi, sample("individual_2019_npi1720377294"))
    with tenant_context(tenant_a.org):
        result = svc.nppes_lookup(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.coordinator), npi=npi
        )
    with tenant_context(tenant_a.org):  # events are written when the transaction commits
        event = AuditEvent.objects.get(action="nppes.lookup")
    assert result.outcome == "found"
    assert result.prefill["first_name"] == "Elise" and result.prefill["last_name"] == "Hiza"
    assert result.prefill["provider_type"] == "MD"
    assert result.prefill["primary_taxonomy"] == "207X00000X"
    assert result.prefill["postal_code"] == "28801-4811"
    assert result.prefill["licenses"] == [
        {"state": "NC", "number": "2017-01132", "taxonomy": "207X00000X"}
    ]
    assert event.source == "NPPES" and event.target_id == npi
    assert event.data["result"]["outcome"] == "found"


def test_lookup_refuses_an_npi_that_fails_the_check_digit_without_calling_nppes(tenant_a, fake):
    from credex.errors import InvalidInput

    with tenant_context(tenant_a.org), pytest.raises(InvalidInput):
        svc.nppes_lookup(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.coordinator), npi="1234567890"
        )
    assert fake.count() == 0
    assert valid_npi(1)  # the factories' NPIs pass


def test_a_queued_run_whose_task_failed_no_longer_blocks_a_new_request(tenant_a):
    from credex.celery import app

    coordinator = tenant_a.membership(tenant_a.coordinator)
    with tenant_context(tenant_a.org):
        first = svc.nppes_refresh_request(org=tenant_a.org, actor=coordinator)
        app.backend.store_result(str(first.pk), RuntimeError("boom"), "FAILURE")
        try:
            second = svc.nppes_refresh_request(org=tenant_a.org, actor=coordinator)
            assert second.pk != first.pk and second.status == "queued"
            first.refresh_from_db()
            assert first.status == "failed" and first.counts == {"reason": "task failed"}
        finally:
            app.backend.forget(str(first.pk))
