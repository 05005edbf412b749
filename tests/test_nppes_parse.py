"""Parsing every recorded NPPES answer and every documented format variant (no network)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from screening.nppes.compare import (
    RosterSide,
    compare,
    credential_tokens,
    marked_pair,
    norm_license,
    norm_street,
)
from screening.nppes.parse import (
    MalformedAnswer,
    clean,
    format_postal,
    parse_answer,
    parse_epoch,
)
from tests.fixtures_nppes import individual, sample


def test_the_2019_individual_sample_parses_integers_epochs_in_seconds_and_gender():
    answer = parse_answer(sample("individual_2019_npi1720377294"), npi="1720377294")
    r = answer.record
    assert answer.kind == "found"
    assert r.npi == "1720377294"  # `number` was an int
    assert r.enumeration_type == "NPI-1" and not r.is_organization
    assert (r.first_name, r.middle_name, r.last_name) == ("ELISE", "AILEEN", "HIZA")
    assert r.credential == "M.D."
    assert r.sex == "F"  # from `gender`
    assert r.created_at == datetime(2011, 4, 5, tzinfo=UTC)  # 1301961600 s
    assert r.last_updated_at == datetime(2018, 5, 8, tzinfo=UTC)
    assert r.enumeration_date == date(2011, 4, 5)
    assert r.status == "A" and not r.deactivated
    assert r.location.line1 == "111 VICTORIA RD"
    assert r.location.postal_code == "288014811"  # 9 digits, no hyphen
    assert format_postal(r.location.postal_code) == "28801-4811"
    assert r.mailing.city == "ASHEVILLE"
    assert r.practice_locations[0].city == "ATLANTA"
    assert r.primary_taxonomy.code == "207X00000X"
    assert r.secondary_codes == ["390200000X"]
    assert [(lic.state, lic.number) for lic in r.licenses] == [("NC", "2017-01132")]


def test_the_2022_sample_parses_string_numbers_epochs_in_milliseconds_and_dash_empties():
    r = parse_answer(sample("individual_2022_two_taxonomies_npi1760485387")).record
    assert r.npi == "1760485387"  # `number` is a string
    assert r.created_at == datetime(2005, 5, 27, 18, 40, 16, tzinfo=UTC)  # 1117219216000 ms
    assert r.last_updated_at.year == 2012
    assert r.name_suffix == ""  # "--" means empty
    assert r.name_prefix == "Dr."
    assert r.middle_name == "R."
    assert r.location.postal_code == "55767"  # 5 digits
    assert r.location.line2 == ""  # missing key
    assert r.taxonomy_codes == ["207R00000X", "208000000X"]
    assert r.primary_taxonomy.code == "207R00000X"
    assert r.identifiers[0]["issuer"] == ""  # null


def test_sex_replaces_gender_and_either_is_read():
    answer = individual("1234567893", extra_basic={"sex": "M"})
    assert parse_answer(answer).record.sex == "M"
    answer["results"][0]["basic"].pop("sex")
    answer["results"][0]["basic"]["gender"] = "F"
    assert parse_answer(answer).record.sex == "F"


@pytest.mark.parametrize("empty", [None, "", "--", "  ", "N/A"])
def test_every_flavour_of_empty_reads_as_empty(empty):
    answer = individual("1234567893", middle=empty, suffix=empty, credential=empty)
    r = parse_answer(answer).record
    assert (r.middle_name, r.name_suffix, r.credential) == ("", "", "")
    del answer["results"][0]["basic"]["middle_name"]
    assert parse_answer(answer).record.middle_name == ""
    assert clean(empty) == ""


def test_a_taxonomy_code_repeating_with_different_state_licenses_gives_one_code_and_each_license():
    answer = individual(
        "1234567893",
        taxonomies=[
            {"code": "207R00000X", "primary": True, "state": "CA", "license": "A12345"},
            {"code": "207R00000X", "primary": False, "state": "NV", "license": "9876"},
            {"code": "207R00000X", "primary": False, "state": "NV", "license": "9876"},
            {"code": "208000000X", "primary": False, "state": "", "license": ""},
        ],
    )
    r = parse_answer(answer).record
    assert r.taxonomy_codes == ["207R00000X", "208000000X"]
    assert r.secondary_codes == ["208000000X"]
    assert [(lic.state, lic.number) for lic in r.licenses] == [("CA", "A12345"), ("NV", "9876")]


def test_an_organization_npi_2_parses_its_name_and_authorized_official_is_not_the_name():
    r = parse_answer(sample("organization_2019_npi1568946812")).record
    assert r.is_organization
    assert r.organization_name == "CSP ANESTHESIA LLC"
    assert r.first_name == "" and r.credential == ""
    assert r.location.city == "VILLA RICA"
    assert r.licenses == []  # taxonomy without a license


def test_the_empty_sample_is_not_found_and_the_error_sample_is_a_structured_error():
    assert parse_answer(sample("empty_result")).kind == "not_found"
    errors = parse_answer(sample("error_04_no_valid_criteria"))
    assert errors.kind == "errors"
    assert errors.errors[0].as_json() == {
        "number": "04",
        "description": "No valid search criteria provided",
        "field": "generic",
    }


def test_several_errors_at_once_are_all_kept():
    payload = {
        "Errors": [
            {"description": "NPI must be 10 digits", "field": "number", "number": "06"},
            {"description": "Unsupported version", "field": "version", "number": "17"},
        ]
    }
    assert [e.number for e in parse_answer(payload).errors] == ["06", "17"]


def test_a_result_for_another_npi_is_not_taken_as_the_answer():
    answer = sample("individual_2019_npi1720377294")
    assert parse_answer(answer, npi="1760485387").kind == "not_found"


def test_something_that_is_not_a_registry_answer_is_malformed():
    with pytest.raises(MalformedAnswer):
        parse_answer({"hello": "world"})
    with pytest.raises(MalformedAnswer):
        parse_answer(["not", "an", "object"])


def test_a_deactivated_npi_is_recognized_by_status_or_by_a_deactivation_date():
    r = parse_answer(individual("1234567893", status="D")).record
    assert r.deactivated
    answer = individual("1234567893", extra_basic={"deactivation_date": "2024-02-01"})
    assert parse_answer(answer).record.deactivated
    answer = individual(
        "1234567893",
        extra_basic={"deactivation_date": "2024-02-01", "reactivation_date": "2024-05-01"},
    )
    assert not parse_answer(answer).record.deactivated


def test_epochs_in_seconds_and_milliseconds_agree():
    assert parse_epoch(1301961600) == parse_epoch("1301961600000")
    assert parse_epoch("") is None and parse_epoch("--") is None


def test_license_numbers_street_lines_and_credentials_normalize():
    assert norm_license("2017-01132") == norm_license("201701132")
    assert norm_license("0043634") == "43634"
    assert norm_street("49 Jesse Hill Jr Drive SE # 307") == norm_street(
        "49 JESSE HILL JR DR SE STE 307"
    )
    assert credential_tokens("M.D., PH.D.") == ["MD", "PHD"]
    assert credential_tokens("PA-C") == ["PAC"]


def test_comparing_the_2019_sample_with_a_matching_roster_finds_no_difference():
    r = parse_answer(sample("individual_2019_npi1720377294")).record
    ours = RosterSide(
        first_name="Elise",
        middle_name="A",
        last_name="Hiza",
        provider_type="MD",
        primary_taxonomy="207X00000X",
        taxonomy_codes=("207X00000X", "390200000X"),
        address_line1="111 Victoria Road",
        city="Asheville",
        state="NC",
        postal_code="28801",
        licenses=(("NC", "201701132"),),
    )
    assert compare(ours, r) == []


def test_side_by_side_marks_only_the_words_that_differ():
    pair = marked_pair(
        "name",
        {"first": "Jane", "last": "Doe"},
        {"first": "JANE", "last": "SMITH"},
    )
    assert pair["ours"] == [[("Jane", False), ("Doe", True)]]
    assert pair["nppes"] == [[("JANE", False), ("SMITH", True)]]
