"""Providers and credentials: the worklist, the add/edit form, the provider file (audited
reads, masked and revealed protected fields), bulk assignment, the API, and demo seeding.

Org A has an owner, an admin, a coordinator and an auditor (read-only); org B an outsider.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from credex.models import Role
from credex.services import api_key_create, organization_update_settings
from credex.tenancy import tenant_context
from roster.models import Credential, Provider
from roster.services import providers as svc
from roster.validation import npi_check_digit, npi_problem
from tests.factories import valid_npi

pytestmark = pytest.mark.django_db

SSN = "123456789"
DOB = date(1980, 3, 14)


@pytest.fixture(autouse=True)
def _generous_throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


# --- helpers -------------------------------------------------------------------------------------
def url(tenant, name, **kwargs):
    return reverse(name, kwargs={"org_slug": tenant.org.slug, **kwargs})


def add_provider(tenant, seed=1, **fields):
    """A provider created the production way (the service, as the owner)."""
    data = {
        "first_name": "Pat",
        "last_name": f"Doe{seed}",
        "npi": valid_npi(seed),
        "provider_type": "MD",
        "practice_states": ["CA"],
        "status": "active",
        **fields,
    }
    with tenant_context(tenant.org):
        return svc.provider_create(org=tenant.org, actor=tenant.membership(tenant.owner), **data)


def add_credential(tenant, provider, **fields):
    data = {"kind": "state_license", "number": "A1", "state": "CA", **fields}
    with tenant_context(tenant.org):
        return svc.credential_create(
            org=tenant.org, actor=tenant.membership(tenant.owner), provider=provider, **data
        )


def events(tenant, action, target_id=None):
    with tenant_context(tenant.org):
        qs = AuditEvent.objects.filter(organization=tenant.org, action=action)
        if target_id:
            qs = qs.filter(target_id=str(target_id))
        return list(qs.order_by("seq"))


def providers_of(tenant):
    with tenant_context(tenant.org):
        return list(Provider.objects.order_by("last_name"))


def form_data(**overrides):
    data = {
        "first_name": "Ada",
        "middle_name": "",
        "last_name": "Quinn",
        "suffix": "",
        "former_names": "Ada Smith",
        "npi": valid_npi(777),
        "provider_type": "MD",
        "primary_taxonomy": "207R00000X",
        "taxonomy_codes": ["207RC0000X", ""],
        "practice_states": ["CA", "NV"],
        "dob": "1980-03-14",
        "ssn": "123-45-6789",
        "email": "ada@example.org",
        "phone": "",
        "address_line1": "",
        "address_line2": "",
        "city": "",
        "state": "",
        "postal_code": "",
        "hire_date": "",
        "status": "applicant",
        "coordinator": "",
        "initial_credentialing_date": "",
        "committee_decision_date": "",
        "recredentialing_due_date": "",
        "caqh_id": "",
        "caqh_last_attested": "",
    }
    data.update(overrides)
    return data


def api(client, method, path, body=None, *, key=None, org=None):
    extra = {}
    if key:
        extra["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
    if org:
        extra["HTTP_X_CREDEX_ORGANIZATION"] = org
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, f"/api/v1/{path}", data, content_type="application/json", **extra)


def make_key(tenant, role):
    with tenant_context(tenant.org):
        return api_key_create(
            org=tenant.org, actor=tenant.membership(tenant.owner), name=f"{role}", role=role
        )[1]


# --- add / edit through the form -------------------------------------------------------------
def test_coordinator_adds_a_provider_through_the_form_and_it_is_audited(tenant_a, login):
    client = login(tenant_a.coordinator)
    response = client.post(url(tenant_a, "provider_new"), form_data())
    (provider,) = providers_of(tenant_a)
    assert response.status_code == 302
    assert response["Location"] == url(tenant_a, "provider_detail", provider_id=provider.pk)
    assert provider.full_name == "Ada Quinn"
    assert provider.primary_taxonomy_id == "207R00000X"
    assert provider.taxonomy_codes == ["207R00000X", "207RC0000X"]
    assert provider.practice_states == ["CA", "NV"]
    assert provider.former_names == ["Ada Smith"]
    assert provider.ssn_last4 == "6789"
    (event,) = events(tenant_a, "roster.provider.created", provider.pk)
    assert event.actor_label == tenant_a.coordinator.email
    assert "6789" not in json.dumps(event.data) and "1980" not in json.dumps(event.data)


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("npi", "1234567890", "fails its check digit"),
        ("npi", "12345", "exactly 10 digits"),
        ("primary_taxonomy", "999999999X", "not in the NUCC code set"),
        ("taxonomy_codes", ["207R00000X", "12345ABCDX"], "Not in the NUCC code set: 12345ABCDX"),
        ("practice_states", ["CA", "ZZ"], "ZZ"),
        ("dob", (date.today() + timedelta(days=3)).isoformat(), "past date of birth"),
        ("ssn", "12-34", "9 digits"),
        ("provider_type", "", "required"),
    ],
)
def test_a_bad_value_is_refused_next_to_its_field_nothing_is_written_and_typing_is_kept(
    tenant_a, login, field, value, message
):
    client = login(tenant_a.coordinator)
    response = client.post(url(tenant_a, "provider_new"), form_data(**{field: value}))
    assert response.status_code == 400
    html = response.content.decode()
    assert message.lower() in html.lower(), html[:3000]
    assert 'class="field-error"' in html
    assert 'value="Quinn"' in html and 'value="ada@example.org"' in html  # kept what was typed
    assert "Nothing was saved" in html
    assert providers_of(tenant_a) == []


def test_a_duplicate_npi_is_a_clear_error_and_nothing_is_written(tenant_a, login):
    existing = add_provider(tenant_a, seed=5)
    client = login(tenant_a.coordinator)
    response = client.post(url(tenant_a, "provider_new"), form_data(npi=existing.npi))
    assert response.status_code == 400
    assert "A provider with this NPI is already on the roster." in response.content.decode()
    assert [p.pk for p in providers_of(tenant_a)] == [existing.pk]
    assert (
        events(tenant_a, "roster.provider.created")
        and len(events(tenant_a, "roster.provider.created")) == 1
    )


def test_the_same_npi_in_another_organization_is_fine(tenant_a, tenant_b):
    add_provider(tenant_a, seed=5)
    add_provider(tenant_b, seed=5)
    assert len(providers_of(tenant_b)) == 1


def test_editing_keeps_dob_and_ssn_when_left_blank_and_never_prefills_them(tenant_a, login):
    provider = add_provider(tenant_a, dob=DOB, ssn=SSN)
    client = login(tenant_a.coordinator)
    page = client.get(url(tenant_a, "provider_edit", provider_id=provider.pk)).content.decode()
    assert "1980-03-14" not in page and SSN not in page and "123-45" not in page
    assert "ending 6789" in page
    data = form_data(
        npi=provider.npi, first_name="Pat", last_name="Doe1", dob="", ssn="", status="active"
    )
    response = client.post(url(tenant_a, "provider_edit", provider_id=provider.pk), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(tenant_a.org):
        provider.refresh_from_db()
        assert svc.provider_dob(provider) == DOB
    assert provider.ssn_last4 == "6789"
    (event,) = events(tenant_a, "roster.provider.updated", provider.pk)
    assert "dob" not in event.data["changes"] and "ssn" not in event.data["changes"]


def test_a_blank_recredentialing_due_date_follows_the_committee_date_and_the_org_cycle(tenant_a):
    with tenant_context(tenant_a.org):
        organization_update_settings(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            recredentialing_cycle_months=24,
        )
    provider = add_provider(tenant_a, committee_decision_date=date(2024, 2, 29))
    assert provider.recredentialing_due_date == date(2026, 2, 28)  # clamped to month end
    given = add_provider(
        tenant_a,
        seed=2,
        committee_decision_date=date(2024, 1, 10),
        recredentialing_due_date=date(2025, 6, 1),
    )
    assert given.recredentialing_due_date == date(2025, 6, 1)  # a typed date is kept


def test_the_coordinator_must_be_a_member_who_works_the_roster(tenant_a, tenant_b):
    auditor = tenant_a.membership(tenant_a.auditor)
    with pytest.raises(svc.InvalidInput) as exc:
        add_provider(tenant_a, coordinator=auditor)
    assert "coordinator" in exc.value.details
    with pytest.raises(svc.InvalidInput):
        add_provider(tenant_a, coordinator=tenant_b.membership(tenant_b.owner))


# --- protected fields --------------------------------------------------------------------------
def test_dob_and_ssn_are_encrypted_at_rest(tenant_a):
    provider = add_provider(tenant_a, dob=DOB, ssn="123-45-6789")
    with tenant_context(tenant_a.org), connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_to_json(p)::text FROM roster_provider p WHERE id = %s", [provider.pk]
        )
        (row,) = cursor.fetchone()
    for plaintext in (SSN, "123-45-6789", "1980-03-14", "19800314"):
        assert plaintext not in row
    assert '"ssn_last4":"6789"' in row.replace(" ", "")


def test_the_provider_file_masks_dob_and_ssn(tenant_a, login):
    provider = add_provider(tenant_a, dob=DOB, ssn=SSN)
    html = login(tenant_a.auditor).get(url(tenant_a, "provider_detail", provider_id=provider.pk))
    html = html.content.decode()
    assert "•••-••-6789" in html
    for plaintext in (SSN, "123-45-6789", "1980-03-14", "14 Mar 1980", "Mar 14"):
        assert plaintext not in html
    assert "Reveal" not in html  # an auditor is not offered the reveal


def test_reveal_returns_the_value_in_a_fragment_and_is_audited_with_the_reason(tenant_a, login):
    provider = add_provider(tenant_a, dob=DOB, ssn=SSN)
    client = login(tenant_a.coordinator)
    detail = client.get(url(tenant_a, "provider_detail", provider_id=provider.pk)).content.decode()
    assert "Reveal" in detail
    response = client.post(
        url(tenant_a, "provider_reveal", provider_id=provider.pk),
        {"field": "ssn", "reason": "payer enrollment form"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "123-45-6789" in response.content.decode()
    assert "<html" not in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    (event,) = events(tenant_a, "roster.provider.protected_revealed", provider.pk)
    assert event.data == {"field": "ssn", "reason": "payer enrollment form"}
    assert event.actor_label == tenant_a.coordinator.email
    response = client.post(
        url(tenant_a, "provider_reveal", provider_id=provider.pk), {"field": "dob"}
    )
    assert response.status_code == 200 and "14 Mar 1980" in response.content.decode()
    assert len(events(tenant_a, "roster.provider.protected_revealed", provider.pk)) == 2


def test_auditors_cannot_reveal_and_nothing_is_recorded(tenant_a, login):
    """Auditors are read-only and see the masked values; the plaintext is for those who do
    the credentialing work (minimum necessary), so revealing needs roster.change."""
    provider = add_provider(tenant_a, dob=DOB, ssn=SSN)
    response = login(tenant_a.auditor).post(
        url(tenant_a, "provider_reveal", provider_id=provider.pk), {"field": "ssn"}
    )
    assert response.status_code == 403
    assert SSN not in response.content.decode()
    assert events(tenant_a, "roster.provider.protected_revealed") == []


def test_reveal_refuses_a_field_that_is_not_protected(tenant_a, login):
    provider = add_provider(tenant_a)
    response = login(tenant_a.coordinator).post(
        url(tenant_a, "provider_reveal", provider_id=provider.pk), {"field": "npi"}
    )
    assert response.status_code == 400
    assert events(tenant_a, "roster.provider.protected_revealed") == []


# --- the provider file ----------------------------------------------------------------------
def test_reading_a_provider_file_is_audited(tenant_a, login):
    provider = add_provider(tenant_a)
    response = login(tenant_a.auditor).get(
        url(tenant_a, "provider_detail", provider_id=provider.pk)
    )
    assert response.status_code == 200
    (event,) = events(tenant_a, "roster.provider.viewed", provider.pk)
    assert event.actor_label == tenant_a.auditor.email
    assert event.data == {"part": "file", "via": "web"}


def test_the_provider_file_shows_credentials_with_due_badges_and_details(tenant_a, login):
    provider = add_provider(
        tenant_a, caqh_id="12345678", caqh_last_attested=date.today() - timedelta(days=130)
    )
    today = timezone.localdate()
    add_credential(tenant_a, provider, expiry_date=today - timedelta(days=4))
    add_credential(
        tenant_a,
        provider,
        kind="malpractice",
        number="P-1",
        issuer="Acme Mutual",
        expiry_date=today + timedelta(days=20),
        details={
            "carrier": "Acme Mutual",
            "policy_number": "P-77",
            "per_claim_cents": 100_000_000,
            "aggregate_cents": 300_000_000,
        },
    )
    html = (
        login(tenant_a.coordinator)
        .get(url(tenant_a, "provider_detail", provider_id=provider.pk))
        .content.decode()
    )
    assert "expired 4 days ago" in html and "due-expired" in html
    assert "in 20 days" in html and "due-30" in html
    assert "$1,000,000 per claim / $3,000,000 aggregate" in html
    assert "overdue by 10 days" in html  # CAQH re-attestation: last + 120 days


def test_an_excluded_provider_carries_a_red_badge_with_text_on_list_and_file(tenant_a, login):
    provider = add_provider(tenant_a)
    with tenant_context(tenant_a.org):
        svc.provider_set_exclusion(
            org=tenant_a.org, provider=provider, excluded=True, source="test"
        )
    client = login(tenant_a.coordinator)
    listing = client.get(url(tenant_a, "providers")).content.decode()
    detail = client.get(url(tenant_a, "provider_detail", provider_id=provider.pk)).content.decode()
    for html in (listing, detail):
        assert 'class="badge badge-excluded"' in html and "Excluded</span>" in html


# --- the worklist ------------------------------------------------------------------------------
def test_an_empty_roster_says_what_to_do_next(tenant_a, login):
    html = login(tenant_a.coordinator).get(url(tenant_a, "providers")).content.decode()
    assert "No providers yet — import a CSV or add one" in html
    assert f'href="{url(tenant_a, "imports")}"' in html
    assert f'href="{url(tenant_a, "provider_new")}"' in html


def test_the_list_filters_from_the_url_and_counts_in_the_heading(tenant_a, login):
    today = timezone.localdate()
    coordinator = tenant_a.membership(tenant_a.coordinator)
    a = add_provider(tenant_a, seed=1, last_name="Alvarez", coordinator=coordinator)
    b = add_provider(tenant_a, seed=2, last_name="Baker", provider_type="NP", status="applicant")
    c = add_provider(tenant_a, seed=3, last_name="Chen")
    add_credential(tenant_a, a, expiry_date=today + timedelta(days=10))
    add_credential(tenant_a, b, expiry_date=today - timedelta(days=1))
    add_credential(tenant_a, c, expiry_date=today + timedelta(days=200))
    client = login(tenant_a.coordinator)

    def names(**query):
        response = client.get(url(tenant_a, "providers"), query)
        assert response.status_code == 200
        html = response.content.decode()
        return [n for n in ("Alvarez", "Baker", "Chen") if f"{n}, Pat" in html], html

    assert names()[0] == ["Alvarez", "Baker", "Chen"]
    assert names(status="applicant")[0] == ["Baker"]
    assert names(type="NP")[0] == ["Baker"]
    assert names(coordinator=str(coordinator.pk))[0] == ["Alvarez"]
    assert names(coordinator="none")[0] == ["Baker", "Chen"]
    assert names(expiring="30")[0] == ["Alvarez", "Baker"]
    assert names(expiring="expired")[0] == ["Baker"]
    assert names(q="che")[0] == ["Chen"]
    assert names(q=a.npi)[0] == ["Alvarez"]
    found, html = names(sort="-expiry")
    assert found == ["Alvarez", "Baker", "Chen"]
    assert html.index("Chen, Pat") < html.index("Alvarez, Pat") < html.index("Baker, Pat")
    _, html = names(status="active")
    assert "2 providers" in html and "match the filters" in html
    assert 'class="count" title="Providers on the roster">3<' in html


def test_a_bad_filter_value_is_named_and_the_rest_still_applies(tenant_a, login):
    add_provider(tenant_a)
    html = login(tenant_a.coordinator).get(url(tenant_a, "providers"), {"expiring": "soon"})
    assert html.status_code == 200
    assert "Use a number of days" in html.content.decode()


def test_an_htmx_filter_request_gets_only_the_results_fragment(tenant_a, login):
    add_provider(tenant_a)
    response = login(tenant_a.coordinator).get(
        url(tenant_a, "providers"), {"q": "doe"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and "Doe1, Pat" in html
    assert "HX-Request" in response["Vary"]


def test_pagination_keeps_the_filters(tenant_a, login):
    for i in range(55):
        add_provider(tenant_a, seed=100 + i, status="active")
    html = login(tenant_a.coordinator).get(url(tenant_a, "providers"), {"status": "active"})
    html = html.content.decode()
    assert "Page 1 of 2" in html
    assert "?status=active&amp;page=2" in html


@pytest.mark.parametrize("query", [{}, {"status": "active", "expiring": "90", "sort": "-expiry"}])
def test_the_list_page_query_count_does_not_grow_with_the_roster(tenant_a, login, query):
    coordinator = tenant_a.membership(tenant_a.coordinator)
    today = timezone.localdate()

    def grow(start, stop):
        for i in range(start, stop):
            p = add_provider(
                tenant_a, seed=1000 + i, coordinator=coordinator, primary_taxonomy="207R00000X"
            )
            add_credential(tenant_a, p, expiry_date=today + timedelta(days=i))
            add_credential(
                tenant_a, p, kind="dea", number="", expiry_date=today + timedelta(days=40)
            )

    client = login(tenant_a.coordinator)
    grow(0, 5)
    client.get(url(tenant_a, "providers"), query)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url(tenant_a, "providers"), query).status_code == 200
    grow(5, 50)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url(tenant_a, "providers"), query)
    assert response.status_code == 200 and "Doe1049" in response.content.decode()
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]


# --- bulk assignment -----------------------------------------------------------------------------
def test_bulk_assign_sets_the_coordinator_and_records_one_event_per_provider(tenant_a, login):
    providers = [add_provider(tenant_a, seed=i) for i in range(1, 4)]
    coordinator = tenant_a.membership(tenant_a.coordinator)
    client = login(tenant_a.coordinator)
    response = client.post(
        url(tenant_a, "providers_bulk_assign"),
        {
            "provider": [str(p.pk) for p in providers[:2]],
            "coordinator": str(coordinator.pk),
            "return_query": "?status=active",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url(tenant_a, "providers") + "?status=active"
    by_name = {p.last_name: p.coordinator_id for p in providers_of(tenant_a)}
    assert by_name == {"Doe1": coordinator.pk, "Doe2": coordinator.pk, "Doe3": None}
    bulk = [e for e in events(tenant_a, "roster.provider.updated") if e.data.get("bulk")]
    assert sorted(e.target_id for e in bulk) == sorted(str(p.pk) for p in providers[:2])
    assert bulk[0].data["changes"]["coordinator"]["to"] == str(coordinator.pk)


def test_bulk_unassign_and_a_foreign_provider_id_is_ignored(tenant_a, tenant_b, login):
    coordinator = tenant_a.membership(tenant_a.coordinator)
    mine = add_provider(tenant_a, coordinator=coordinator)
    theirs = add_provider(tenant_b)
    login(tenant_a.coordinator).post(
        url(tenant_a, "providers_bulk_assign"),
        {"provider": [str(mine.pk), str(theirs.pk)], "coordinator": "none"},
    )
    assert providers_of(tenant_a)[0].coordinator_id is None
    with tenant_context(tenant_b.org):
        theirs.refresh_from_db()
    assert theirs.updated_at == theirs.created_at or theirs.coordinator_id is None


def test_auditor_cannot_bulk_assign_and_nothing_changes(tenant_a, login):
    provider = add_provider(tenant_a)
    response = login(tenant_a.auditor).post(
        url(tenant_a, "providers_bulk_assign"),
        {
            "provider": [str(provider.pk)],
            "coordinator": str(tenant_a.membership(tenant_a.coordinator).pk),
        },
    )
    assert response.status_code == 403
    assert providers_of(tenant_a)[0].coordinator_id is None


# --- who may see and do what -------------------------------------------------------------------
def page_urls(tenant, provider, credential):
    return {
        "list": url(tenant, "providers"),
        "new": url(tenant, "provider_new"),
        "detail": url(tenant, "provider_detail", provider_id=provider.pk),
        "edit": url(tenant, "provider_edit", provider_id=provider.pk),
        "credential_new": url(tenant, "credential_new", provider_id=provider.pk),
        "credential_edit": url(
            tenant, "credential_edit", provider_id=provider.pk, credential_id=credential.pk
        ),
        "taxonomy": url(tenant, "taxonomy_options") + "?q=internal",
        "requirements": url(tenant, "provider_requirements"),
        "requirements_type": url(tenant, "provider_requirements_type", provider_type="MD"),
    }


def test_auditor_reads_every_page_but_gets_403_on_every_write(tenant_a, login):
    provider = add_provider(tenant_a)
    credential = add_credential(tenant_a, provider)
    client = login(tenant_a.auditor)
    urls = page_urls(tenant_a, provider, credential)
    for name in ("list", "detail", "taxonomy", "requirements", "requirements_type"):
        assert client.get(urls[name]).status_code == 200, name
    for name in ("new", "edit", "credential_new", "credential_edit"):
        assert client.get(urls[name]).status_code == 403, name
        assert client.post(urls[name], form_data()).status_code == 403, name
    assert client.post(urls["requirements"], {"code": "RN", "name": "Nurse"}).status_code == 403
    assert len(providers_of(tenant_a)) == 1
    with tenant_context(tenant_a.org):
        assert Credential.objects.count() == 1


# --- credentials through the form -------------------------------------------------------------
def test_malpractice_limits_typed_in_dollars_are_stored_as_integer_cents(tenant_a, login):
    provider = add_provider(tenant_a)
    response = login(tenant_a.coordinator).post(
        url(tenant_a, "credential_new", provider_id=provider.pk),
        {
            "kind": "malpractice",
            "number": "POL-1",
            "issuer": "Acme Mutual",
            "state": "",
            "issue_date": "2026-01-01",
            "expiry_date": "2027-01-01",
            "status": "active",
            "carrier": "Acme Mutual",
            "policy_number": "POL-1",
            "per_claim": "$1,000,000",
            "aggregate": "3,000,000.50",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(tenant_a.org):
        (credential,) = Credential.objects.all()
    assert credential.details == {
        "carrier": "Acme Mutual",
        "policy_number": "POL-1",
        "per_claim_cents": 100_000_000,
        "aggregate_cents": 300_000_050,
    }
    assert events(tenant_a, "roster.credential.created", credential.pk)


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"issue_date": "2026-05-01", "expiry_date": "2026-01-01"}, "before the issue date"),
        ({"per_claim": "lots"}, "Enter an amount in dollars"),
        ({"per_claim": "5,000,000", "aggregate": "1,000,000"}, "larger than the aggregate"),
        ({"kind": "dea", "number": "AB1234567"}, "fails its check digit"),
        ({"state": "XX"}, "valid choice"),
    ],
)
def test_a_bad_credential_is_refused_with_the_reason_and_nothing_is_written(
    tenant_a, login, overrides, message
):
    provider = add_provider(tenant_a)
    data = {
        "kind": "malpractice",
        "status": "active",
        "number": "P1",
        "issue_date": "",
        "expiry_date": "",
        "per_claim": "",
        "aggregate": "",
        **overrides,
    }
    response = login(tenant_a.coordinator).post(
        url(tenant_a, "credential_new", provider_id=provider.pk), data
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant_context(tenant_a.org):
        assert Credential.objects.count() == 0


def test_changing_the_credential_kind_rerenders_its_fields_and_keeps_what_was_typed(
    tenant_a, login
):
    provider = add_provider(tenant_a)
    response = login(tenant_a.coordinator).get(
        url(tenant_a, "credential_new", provider_id=provider.pk),
        {"kind": "work_history", "employer": "Cedar Clinic", "number": "X"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "<html" not in html
    assert 'name="employer"' in html and 'value="Cedar Clinic"' in html
    assert 'name="expiry_date"' not in html and 'name="start_date"' in html


def test_editing_a_credential_renews_it_and_records_the_change(tenant_a, login):
    provider = add_provider(tenant_a)
    credential = add_credential(tenant_a, provider, expiry_date=date(2026, 1, 31))
    response = login(tenant_a.coordinator).post(
        url(tenant_a, "credential_edit", provider_id=provider.pk, credential_id=credential.pk),
        {
            "kind": "state_license",
            "number": "A1",
            "issuer": "",
            "state": "CA",
            "issue_date": "",
            "expiry_date": "2028-01-31",
            "status": "active",
        },
    )
    assert response.status_code == 302
    with tenant_context(tenant_a.org):
        credential.refresh_from_db()
    assert credential.expiry_date == date(2028, 1, 31)
    (event,) = events(tenant_a, "roster.credential.updated", credential.pk)
    assert event.data["changes"]["expiry_date"] == {"from": "2026-01-31", "to": "2028-01-31"}


def test_the_taxonomy_search_finds_codes_by_name_and_by_code(tenant_a, login):
    client = login(tenant_a.coordinator)
    by_name = client.get(url(tenant_a, "taxonomy_options"), {"q": "internal med"}).content.decode()
    assert 'value="207R00000X"' in by_name
    by_code = client.get(url(tenant_a, "taxonomy_options"), {"primary_taxonomy": "363lf"})
    assert 'value="363LF0000X"' in by_code.content.decode()


# --- API ---------------------------------------------------------------------------------------
def test_api_round_trip_never_shows_dob_or_ssn_and_audits_reads(tenant_a, client):
    key = make_key(tenant_a, Role.COORDINATOR)
    coordinator = tenant_a.membership(tenant_a.coordinator)
    body = {
        "npi": valid_npi(42),
        "first_name": "Lena",
        "last_name": "Ortiz",
        "provider_type": "NP",
        "primary_taxonomy": "363LF0000X",
        "practice_states": ["or", "WA"],
        "dob": "1985-07-01",
        "ssn": "987-65-4321",
        "coordinator": str(coordinator.pk),
        "committee_decision_date": "2025-01-15",
    }
    created = api(client, "POST", "providers", body, key=key)
    assert created.status_code == 201, created.content
    out = created.json()
    assert "dob" not in out and "ssn" not in out and "ssn_encrypted" not in out
    assert out["has_dob"] is True and out["ssn_last4"] == "4321"
    assert out["practice_states"] == ["OR", "WA"]
    assert out["recredentialing_due_date"] == "2028-01-15"
    assert (
        "987654321" not in created.content.decode() and "1985-07-01" not in created.content.decode()
    )
    pid = out["id"]

    got = api(client, "GET", f"providers/{pid}", key=key)
    assert got.status_code == 200 and got.json()["coordinator"] == str(coordinator.pk)
    (viewed,) = events(tenant_a, "roster.provider.viewed", pid)
    assert viewed.data == {"part": "file", "via": "api"} and viewed.actor_kind == "api_key"

    patched = api(
        client, "PATCH", f"providers/{pid}", {"status": "active", "caqh_id": "1234"}, key=key
    )
    assert patched.status_code == 200 and patched.json()["status"] == "active"

    cred = api(
        client,
        "POST",
        f"providers/{pid}/credentials",
        {"kind": "state_license", "number": "NP1", "state": "OR", "expiry_date": "2027-03-01"},
        key=key,
    )
    assert cred.status_code == 201, cred.content
    cid = cred.json()["id"]
    listed = api(client, "GET", f"providers/{pid}/credentials", key=key).json()
    assert [c["id"] for c in listed["results"]] == [cid]
    renewed = api(client, "PATCH", f"credentials/{cid}", {"expiry_date": "2029-03-01"}, key=key)
    assert renewed.status_code == 200 and renewed.json()["expiry_date"] == "2029-03-01"
    assert api(client, "GET", f"credentials/{cid}", key=key).json()["number"] == "NP1"
    assert len(events(tenant_a, "roster.provider.viewed", pid)) == 3

    found = api(client, "GET", "providers?q=ortiz&expiring=3650", key=key).json()
    assert [p["id"] for p in found["results"]] == [pid] and found["results"][0]["next_expiry"]
    revealed = api(client, "POST", f"providers/{pid}/reveal", {"field": "ssn"}, key=key)
    assert revealed.status_code == 200 and revealed.json() == {"field": "ssn", "value": "987654321"}
    assert revealed["Cache-Control"] == "no-store"
    assert events(tenant_a, "roster.provider.protected_revealed", pid)


def test_api_refuses_bad_input_with_details_and_duplicates_with_409(tenant_a, client):
    key = make_key(tenant_a, Role.COORDINATOR)
    existing = add_provider(tenant_a)
    bad = api(
        client,
        "POST",
        "providers",
        {
            "first_name": "A",
            "last_name": "B",
            "provider_type": "MD",
            "npi": "1234567890",
            "practice_states": ["ZZ"],
        },
        key=key,
    )
    assert bad.status_code == 400
    assert set(bad.json()["details"]) == {"npi", "practice_states"}
    dup = api(
        client,
        "POST",
        "providers",
        {"first_name": "A", "last_name": "B", "provider_type": "MD", "npi": existing.npi},
        key=key,
    )
    assert dup.status_code == 409 and dup.json()["code"] == "conflict"
    unknown = api(
        client, "PATCH", f"providers/{existing.pk}", {"coordinator": str(existing.pk)}, key=key
    )
    assert unknown.status_code == 400 and "coordinator" in unknown.json()["details"]
    assert len(providers_of(tenant_a)) == 1


def test_api_auditor_key_reads_but_cannot_write_or_reveal(tenant_a, client):
    key = make_key(tenant_a, Role.AUDITOR)
    provider = add_provider(tenant_a, ssn=SSN)
    assert api(client, "GET", "providers", key=key).status_code == 200
    assert api(client, "GET", f"providers/{provider.pk}", key=key).status_code == 200
    reveal = api(client, "POST", f"providers/{provider.pk}/reveal", {"field": "ssn"}, key=key)
    assert reveal.status_code == 403 and SSN not in reveal.content.decode()
    assert (
        api(
            client, "PATCH", f"providers/{provider.pk}", {"status": "inactive"}, key=key
        ).status_code
        == 403
    )
    assert providers_of(tenant_a)[0].status == "active"


def test_api_another_organizations_provider_is_404(tenant_a, tenant_b, client):
    key_b = make_key(tenant_b, Role.ADMIN)
    provider = add_provider(tenant_a)
    credential = add_credential(tenant_a, provider)
    for path in (
        f"providers/{provider.pk}",
        f"providers/{provider.pk}/credentials",
        f"credentials/{credential.pk}",
    ):
        assert api(client, "GET", path, key=key_b).status_code == 404, path
    assert (
        api(
            client, "POST", f"providers/{provider.pk}/reveal", {"field": "ssn"}, key=key_b
        ).status_code
        == 404
    )
    assert events(tenant_a, "roster.provider.viewed") == []


def test_api_list_pages_with_a_cursor_without_gaps_or_repeats(tenant_a, client):
    key = make_key(tenant_a, Role.AUDITOR)
    made = {str(add_provider(tenant_a, seed=i).pk) for i in range(7)}
    seen, path = [], "providers?page_size=3"
    while path:
        page = api(client, "GET", path, key=key).json()
        seen += [p["id"] for p in page["results"]]
        path = page["next"].split("/api/v1/", 1)[1] if page["next"] else None
    assert len(seen) == 7 and set(seen) == made


def test_api_list_rejects_a_bad_filter(tenant_a, client):
    key = make_key(tenant_a, Role.AUDITOR)
    response = api(client, "GET", "providers?status=retired", key=key)
    assert response.status_code == 400 and "status" in response.json()["details"]


# --- demo roster -------------------------------------------------------------------------------
def test_the_demo_roster_is_synthetic_mixed_and_seeded_once(tenant_a):
    from demo.seeders.roster import seed_demo_roster
    from roster.services.requirements import work_history_gaps

    owner = tenant_a.membership(tenant_a.owner)
    with tenant_context(tenant_a.org):
        assert seed_demo_roster(tenant_a.org, owner, count=120) == 120
        assert seed_demo_roster(tenant_a.org, owner, count=120) == 0  # idempotent
        providers = list(Provider.objects.all())
        credentials = list(Credential.objects.all())
    today = timezone.localdate()
    assert len(providers) == 120
    assert all(npi_problem(p.npi) is None for p in providers)
    assert len({p.npi for p in providers}) == 120
    shared = {"1234567893", "1720377294", "1568946812", "1760485387", "1679576722"}
    assert not shared & {p.npi for p in providers}
    assert all(npi_check_digit(p.npi[:9]) == int(p.npi[9]) for p in providers)
    coordinators = {m.pk for m in [tenant_a.membership(tenant_a.coordinator)]}
    assert {p.coordinator_id for p in providers} <= coordinators | {None}
    assert any(p.coordinator_id for p in providers)
    expiries = [c.expiry_date for c in credentials if c.kind == "state_license"]
    days = [(e - today).days for e in expiries if e]
    assert any(d < 0 for d in days) and any(0 <= d <= 30 for d in days)
    assert any(30 < d <= 60 for d in days) and any(60 < d <= 90 for d in days)
    assert any(d > 90 for d in days) and None in expiries
    assert any(
        p.caqh_last_attested and (today - p.caqh_last_attested).days > 120 for p in providers
    )
    assert any(
        p.recredentialing_due_date and 0 <= (p.recredentialing_due_date - today).days <= 120
        for p in providers
    )
    by_provider = {}
    for c in credentials:
        by_provider.setdefault(c.provider_id, []).append(c)
    assert any(work_history_gaps(cs) for cs in by_provider.values())
    assert {p.status for p in providers} == {"active", "applicant", "inactive", "terminated"}
    assert all(p.ssn_last4 and p.dob_encrypted for p in providers)
    with tenant_context(tenant_a.org):
        revealed = {
            svc.provider_reveal(org=tenant_a.org, actor=owner, provider=p, field="ssn")
            for p in providers[:10]
        }
    assert all(s.startswith("9") for s in revealed)  # never-issued SSN area
    (event,) = events(tenant_a, "roster.demo_seeded")
    assert event.data["providers"] == 120 and event.data["credentials"] == len(credentials)


def test_saving_the_edit_form_unchanged_records_no_change(tenant_a, login):
    provider = add_provider(
        tenant_a, primary_taxonomy="207R00000X", taxonomy_codes=["207RC0000X"], email="a@b.org"
    )
    client = login(tenant_a.coordinator)
    page = client.get(url(tenant_a, "provider_edit", provider_id=provider.pk))
    form = page.context["form"]
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(value, list):
            data[name] = value
        elif value is None:
            data[name] = ""
        elif hasattr(value, "isoformat"):
            data[name] = value.isoformat()
        else:
            data[name] = value
    response = client.post(url(tenant_a, "provider_edit", provider_id=provider.pk), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert events(tenant_a, "roster.provider.updated", provider.pk) == []
