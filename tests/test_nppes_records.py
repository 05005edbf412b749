"""What the NPPES parser keeps (endpoints, the authorized official of an organization, the
certification date, licenses de-duplicated however they are typed), where it shows (the NPPES
view of the provider) and what the nightly refresh compares (the authorized official)."""

from __future__ import annotations

import copy

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from screening.nppes import services as svc
from screening.nppes.models import NppesCheck
from screening.nppes.parse import parse_answer
from tests.fixtures_nppes import FakeNppes, individual, retarget, sample, use_fake
from tests.test_nppes_refresh import add_provider, check_of, mismatches, refresh

pytestmark = pytest.mark.django_db

# Endpoints as the NPI Registry API v2.1 returns them (keys and values as served).
DIRECT = {
    "endpointType": "DIRECT",
    "endpointTypeDescription": "Direct Messaging Address",
    "endpoint": "jdoe@direct.examplehealth.org",
    "affiliation": "N",
    "use": "DIRECT",
    "useDescription": "Direct",
    "contentType": "OTHER",
    "contentTypeDescription": "Other",
    "contentOtherDescription": "Clinical summaries",
    "country_code": "US",
    "country_name": "United States",
    "address_type": "DOM",
    "address_1": "100 MAIN ST",
    "city": "SACRAMENTO",
    "state": "CA",
    "postal_code": "958141234",
}
FHIR = {
    "endpointType": "FHIR",
    "endpointTypeDescription": "FHIR URL",
    "endpoint": "https://fhir.examplehealth.org/r4",
    "affiliation": "Y",
    "affiliationName": "EXAMPLE HEALTH SYSTEM",
    "use": "OTHER",
    "useDescription": "Other",
    "useOtherDescription": "Patient access",
    "contentType": "OTHER",
    "contentTypeDescription": "Other",
    "country_code": "US",
    "address_type": "DOM",
    "city": "SACRAMENTO",
    "state": "CA",
    "postal_code": "95814",
}
SC_LICENSES = [
    {"code": code, "desc": "Nurse practitioner", "primary": primary, "state": st, "license": lic}
    for code, primary, st, lic in (
        ("363LF0000X", True, "SC", "SC002712-L"),
        ("363LA2200X", False, "SC", "SC002712-l"),
        ("363L00000X", False, "SC", "SC002712L"),
        ("363L00000X", False, "NC", "SC002712L"),
    )
]


@pytest.fixture
def fake(settings):
    server = FakeNppes().start()
    use_fake(settings, server, retries=0)
    yield server
    server.stop()


def with_endpoints(answer: dict, *endpoints, certified="2024-02-15") -> dict:
    answer = copy.deepcopy(answer)
    answer["results"][0]["endpoints"] = list(endpoints)
    answer["results"][0]["basic"]["certification_date"] = certified
    return answer


def organization(npi: str, *, first="TIMOTHY", last="BARTON", title="MANAGING MEMBER") -> dict:
    """The recorded NPI-2 answer (CSP Anesthesia LLC), served for `npi`, official replaced."""
    answer = retarget(sample("organization_2019_npi1568946812"), npi)
    basic = answer["results"][0]["basic"]
    basic["authorized_official_first_name"] = first
    basic["authorized_official_last_name"] = last
    basic["authorized_official_title_or_position"] = title
    if (first, last) != ("TIMOTHY", "BARTON"):
        basic["authorized_official_middle_name"] = ""
    return answer


# --- parsing ---------------------------------------------------------------------------------
def test_the_authorized_official_of_a_recorded_organization_answer_is_kept():
    record = parse_answer(sample("organization_2019_npi1568946812")).record
    official = record.authorized_official
    assert record.is_organization
    assert (official.first_name, official.middle_name, official.last_name) == (
        "TIMOTHY",
        "GORDON",
        "BARTON",
    )
    assert (official.credential, official.title, official.phone) == (
        "CRNA",
        "MANAGING MEMBER",
        "888-408-0200",
    )
    assert record.as_json()["authorized_official"]["title"] == "MANAGING MEMBER"


def test_an_individual_has_no_authorized_official():
    record = parse_answer(sample("individual_2022_two_taxonomies_npi1760485387")).record
    assert record.authorized_official is None


def test_endpoints_and_the_certification_date_are_kept():
    answer = with_endpoints(sample("individual_2019_npi1720377294"), DIRECT, FHIR)
    record = parse_answer(answer).record
    assert [(e.type, e.endpoint) for e in record.endpoints] == [
        ("DIRECT", "jdoe@direct.examplehealth.org"),
        ("FHIR", "https://fhir.examplehealth.org/r4"),
    ]
    assert record.endpoints[1].affiliation and record.endpoints[1].affiliation_name
    assert record.certification_date.isoformat() == "2024-02-15"
    stored = record.as_json()
    assert stored["certification_date"] == "2024-02-15"
    assert stored["endpoints"][0]["type_description"] == "Direct Messaging Address"


@pytest.mark.parametrize("empty", [None, "", "--"])
def test_an_empty_certification_date_or_endpoint_list_in_any_encoding_is_none(empty):
    answer = copy.deepcopy(sample("individual_2022_two_taxonomies_npi1760485387"))
    answer["results"][0]["basic"]["certification_date"] = empty
    answer["results"][0]["endpoints"] = [{"endpointType": "DIRECT", "endpoint": empty}]
    record = parse_answer(answer).record
    assert record.certification_date is None and record.endpoints == []


def test_licenses_typed_differently_in_case_and_punctuation_are_one_license():
    answer = individual("1234567893", taxonomies=SC_LICENSES)
    record = parse_answer(answer).record
    assert [(lic.state, lic.number) for lic in record.licenses] == [
        ("SC", "SC002712-L"),
        ("NC", "SC002712L"),  # another state: another license
    ]
    assert len(record.as_json()["licenses"]) == 2
    assert len(svc.prefill_from(record)["licenses"]) == 2


# --- the nightly refresh: the authorized official ---------------------------------------------
def test_a_new_authorized_official_on_an_organization_is_a_mismatch_until_accepted(
    tenant_a, tenant_b, fake
):
    p = add_provider(tenant_a)
    outsider = add_provider(tenant_b)
    fake.answer(p.npi, organization(p.npi))
    fake.answer(outsider.npi, organization(outsider.npi))
    refresh(tenant_a)
    refresh(tenant_b)
    # First sight: the official is acknowledged as is, nothing to compare it with.
    assert mismatches(tenant_a, field="authorized_official") == []
    assert check_of(tenant_a, p).authorized_official_known["last_name"] == "BARTON"

    fake.answer(p.npi, organization(p.npi, first="MARIA", last="LOPEZ", title="CEO"))
    refresh(tenant_a)
    (item,) = mismatches(tenant_a, field="authorized_official")
    assert item.status == "open" and item.severity == "medium"
    assert item.our_value["last_name"] == "BARTON" and item.nppes_value["last_name"] == "LOPEZ"

    # The next night NPPES still says LOPEZ: the item stays open (it is not "resolved" just
    # because the last answer already said LOPEZ).
    refresh(tenant_a)
    (item,) = mismatches(tenant_a, field="authorized_official")
    assert item.status == "open"

    with tenant_context(tenant_a.org):
        svc.nppes_mismatch_accept(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.coordinator), mismatch=item
        )
        event = AuditEvent.objects.get(action="nppes.mismatch.accepted", target_id=str(item.pk))
    assert event.data["applied"]["authorized_official"]["last_name"] == "LOPEZ"
    assert check_of(tenant_a, p).authorized_official_known["last_name"] == "LOPEZ"
    refresh(tenant_a)
    assert [m.status for m in mismatches(tenant_a, field="authorized_official")] == ["accepted"]
    # Org B's provider, same answers until now: untouched by org A's refreshes and decisions.
    assert mismatches(tenant_b, field="authorized_official") == []
    assert check_of(tenant_b, outsider).authorized_official_known["last_name"] == "BARTON"


def test_a_new_title_or_phone_of_the_same_official_is_not_a_change(tenant_a, fake):
    p = add_provider(tenant_a)
    fake.answer(p.npi, organization(p.npi))
    refresh(tenant_a)
    answer = organization(p.npi, title="PRESIDENT")
    answer["results"][0]["basic"]["authorized_official_telephone_number"] = "555-0100"
    answer["results"][0]["basic"]["authorized_official_first_name"] = "Timothy"
    fake.answer(p.npi, answer)
    refresh(tenant_a)
    assert mismatches(tenant_a, field="authorized_official") == []


def test_a_failed_check_keeps_the_acknowledged_official(tenant_a, fake):
    p = add_provider(tenant_a)
    fake.answer(p.npi, organization(p.npi))
    refresh(tenant_a)
    fake.answer(p.npi, {"result_count": 0, "results": []})
    refresh(tenant_a)
    check = check_of(tenant_a, p)
    assert check.outcome == "not_found"
    assert check.authorized_official_known["last_name"] == "BARTON"


# --- the NPPES view of the provider -----------------------------------------------------------
def test_the_nppes_view_shows_endpoints_the_official_the_certification_and_one_license(
    tenant_a, tenant_b, fake, login
):
    p = add_provider(tenant_a)
    org_p = add_provider(tenant_a, seed=2, first_name="Csp", last_name="Anesthesia")
    answer = with_endpoints(individual(p.npi, taxonomies=SC_LICENSES), DIRECT, FHIR)
    fake.answer(p.npi, answer)
    fake.answer(org_p.npi, organization(org_p.npi))
    refresh(tenant_a)
    client = login(tenant_a.coordinator)
    page = reverse("nppes_provider", kwargs={"org_slug": tenant_a.org.slug, "provider_id": p.pk})
    html = client.get(page).content.decode()
    assert "jdoe@direct.examplehealth.org" in html and "https://fhir.examplehealth.org/r4" in html
    assert "Certified by the provider" in html and "2024-02-15" in html
    licenses = html.split("<dt>Licenses (self-reported)</dt>")[1].split("</dd>")[0]
    assert licenses.count("<li>") == 2 and "SC002712-L" in licenses and "SC002712-l" not in licenses
    org_page = reverse(
        "nppes_provider", kwargs={"org_slug": tenant_a.org.slug, "provider_id": org_p.pk}
    )
    html = client.get(org_page).content.decode()
    assert "Authorized official" in html and "BARTON" in html and "MANAGING MEMBER" in html
    assert login(tenant_b.owner).get(page).status_code == 404
    with tenant_context(tenant_a.org):
        assert NppesCheck.objects.count() == 2
