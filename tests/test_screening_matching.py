"""The matching rules, one by one, on small indexes; then end to end on the real LEIE and SAM
samples: exact NPI, name + date of birth, name + state, business name, hyphenated and
former names, suffixes, diacritics, fuzzy "possible" with a score, and the negatives."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from credex.tenancy import tenant_context
from screening.loaders import load_dataset
from screening.matching import IndexedRecord, SourceIndex, Subject, match_subject
from screening.models import HitKind, ScreeningHit
from screening.normalize import (
    business_key,
    first_name_key,
    fold,
    is_truncated_busname,
    last_name_keys,
    provider_business_names,
    provider_name_keys,
    soundex,
)
from screening.services import screening_run_now
from tests.factories import make_provider

FIXTURES = Path(__file__).parent / "fixtures_screening"
SAM_AS_OF = date(2023, 11, 22)  # the sample's newest Creation_Date (its name has no date)


def record(row_id, first="", last="", *, dob=None, state="", npi="", business=""):
    return IndexedRecord(
        row_id,
        f"key{row_id}",
        f"hash{row_id}",
        npi,
        dob,
        state,
        first_name_key(first),
        "|".join(last_name_keys(last)),
        business_key(business),
        business if is_truncated_busname(business) else "",
    )


def index_of(*records):
    index = SourceIndex(source="leie", version_id=None, built_on=date(2026, 11, 1))
    index.add_all(records)
    return index


def subject(first, last, *, former=(), dob=None, states=("CA",), npi="", businesses=()):
    return Subject(
        id="p",
        npi=npi,
        names=provider_name_keys(first_name=first, last_name=last, former_names=list(former)),
        states=frozenset(states),
        dob=lambda: dob,
        business_names=tuple(provider_business_names(legal_name=b)[0] for b in businesses),
    )


def only(matches):
    assert len(matches) == 1, matches
    return matches[0]


# --- normalization -----------------------------------------------------------------------


def test_names_fold_case_punctuation_and_diacritics():
    assert fold("O'Brien-Núñez") == "OBRIEN-NUNEZ"
    assert fold("Zoë  Łukasiewicz") == "ZOE LUKASIEWICZ"
    assert last_name_keys("Smith Jr.") == ("SMITH",)
    assert last_name_keys("SMITH, III") == ("SMITH",)
    assert last_name_keys("Smith-Jones") == ("SMITHJONES", "SMITH", "JONES")
    assert last_name_keys("de la Cruz") == ("DELACRUZ", "CRUZ")
    assert last_name_keys("van der Berg-Smit") == ("VANDERBERGSMIT", "BERGSMIT", "BERG", "SMIT")
    assert first_name_key("Dr. Mary Ann") == "MARY"
    assert business_key("Acme Health, L.L.C.") == business_key("ACME HEALTH LLC") == "ACMEHEALTH"
    assert [soundex(w) for w in ("ROBERT", "RUPERT", "ASHCRAFT", "TYMCZAK", "PFISTER")] == [
        "R163",
        "R163",
        "A261",
        "T522",
        "P236",
    ]


# --- the rules ---------------------------------------------------------------------------


def test_an_equal_npi_is_an_exact_hit_whatever_the_name():
    index = index_of(record(1, "ZED", "OTHERNAME", npi="1234567893"), record(2, "A", "B"))
    match = only(match_subject(index, subject("Pat", "Doe", npi="1234567893")))
    assert (match.kind, match.score, match.matched_fields) == (HitKind.NPI, 100, ["npi"])
    assert match.record.row_id == 1


def test_name_and_date_of_birth_is_an_exact_hit():
    index = index_of(record(1, "JANE", "DOE", dob=date(1970, 5, 6), state="NY"))
    match = only(match_subject(index, subject("Jane", "Doe", dob=date(1970, 5, 6))))
    assert match.kind == HitKind.NAME_DOB and match.score == 100
    assert match.matched_fields == ["first_name", "last_name", "dob"]


def test_the_same_name_with_another_date_of_birth_is_not_a_hit():
    index = index_of(record(1, "JANE", "DOE", dob=date(1970, 5, 6), state="CA"))
    assert match_subject(index, subject("Jane", "Doe", dob=date(1971, 5, 6))) == []
    # ...not even a similar name with another date of birth.
    index = index_of(record(1, "JANE", "DOEE", dob=date(1970, 5, 6), state="CA"))
    assert match_subject(index, subject("Jane", "Doe", dob=date(1971, 5, 6))) == []


def test_name_and_state_is_a_hit_for_a_record_without_a_date_of_birth():
    index = index_of(record(1, "JANE", "DOE", state="TX"))
    match = only(match_subject(index, subject("Jane", "Doe", dob=date(1970, 1, 1), states=["TX"])))
    assert match.kind == HitKind.NAME_STATE
    assert match.matched_fields == ["first_name", "last_name", "state"]


def test_a_name_alone_in_another_state_is_only_possible():
    index = index_of(record(1, "JANE", "DOE", state="TX"))
    match = only(match_subject(index, subject("Jane", "Doe", states=["CA"])))
    assert match.kind == HitKind.POSSIBLE and "no state in common" in match.explanation["notes"][0]


def test_an_npi_hit_also_lists_the_name_fields_that_matched():
    index = index_of(record(1, "JANE", "DOE", dob=date(1970, 5, 6), npi="1234567893"))
    match = only(
        match_subject(index, subject("Jane", "Doe", dob=date(1970, 5, 6), npi="1234567893"))
    )
    assert match.kind == HitKind.NPI
    assert match.matched_fields == ["npi", "first_name", "last_name", "dob"]


def test_either_part_of_a_hyphenated_last_name_matches():
    index = index_of(
        record(1, "MARY", "JONES", dob=date(1980, 2, 3)),
        record(2, "ANNA", "GARCIA-LOPEZ", dob=date(1975, 7, 8)),
    )
    mary = only(match_subject(index, subject("Mary", "Smith-Jones", dob=date(1980, 2, 3))))
    assert mary.kind == HitKind.NAME_DOB and mary.explanation["last_name_part"] == "JONES"
    anna = only(match_subject(index, subject("Anna", "Lopez", dob=date(1975, 7, 8))))
    assert anna.record.row_id == 2 and anna.explanation["last_name_part"] == "LOPEZ"


def test_suffixes_and_credentials_are_ignored():
    index = index_of(record(1, "JOHN", "SMITH JR", dob=date(1960, 1, 2)))
    assert only(match_subject(index, subject("John", "Smith", dob=date(1960, 1, 2)))).kind == (
        HitKind.NAME_DOB
    )
    index = index_of(record(1, "JOHN", "SMITH", dob=date(1960, 1, 2)))
    assert match_subject(index, subject("John", "Smith III, MD", dob=date(1960, 1, 2)))


def test_a_former_name_matches_and_says_so():
    index = index_of(record(1, "JANE", "ROE", dob=date(1982, 4, 4)))
    match = only(
        match_subject(index, subject("Jane", "Doe", former=["Jane Roe"], dob=date(1982, 4, 4)))
    )
    assert match.kind == HitKind.NAME_DOB
    assert match.explanation["name_used"] == "former name “Jane Roe”"
    # A one-word former name is a former last name with the current first name.
    assert match_subject(index, subject("Jane", "Doe", former=["Roe"], dob=date(1982, 4, 4)))


def test_diacritics_and_punctuation_do_not_prevent_a_match():
    index = index_of(record(1, "JOSE", "NUNEZ OBRIEN", state="FL"))
    match = only(match_subject(index, subject("José", "Núñez O'Brien", states=["FL"])))
    assert match.kind == HitKind.NAME_STATE


def test_a_similar_name_in_the_same_state_is_possible_with_its_score():
    index = index_of(record(1, "JONATHAN", "SMYTHE", state="OH"), record(2, "JONATHAN", "SMYTHE"))
    match = only(match_subject(index, subject("Jonathon", "Smythe", states=["OH"])))
    assert match.kind == HitKind.POSSIBLE and match.record.row_id == 1
    assert 90 <= match.score < 100
    assert match.matched_fields == ["name_similar", "state"]
    assert match.explanation["compared"] == {
        "ours": "JONATHON SMYTHE",
        "theirs": "JONATHAN SMYTHE",
    }


def test_a_similar_name_with_the_same_date_of_birth_is_possible():
    index = index_of(record(1, "KATHERINE", "MILLER", dob=date(1990, 9, 9), state="WA"))
    match = only(match_subject(index, subject("Katherine", "Miler", dob=date(1990, 9, 9))))
    assert match.kind == HitKind.POSSIBLE and match.matched_fields == ["name_similar", "dob"]


def test_a_similar_name_with_nothing_else_in_common_is_not_raised():
    index = index_of(record(1, "JONATHAN", "SMYTHE", state="OH"))
    assert match_subject(index, subject("Jonathon", "Smythe", states=["CA"])) == []


def test_a_business_name_matches_an_entity_record():
    index = index_of(record(1, business="#1 MARKETING SERVICE, INC"))
    match = only(match_subject(index, subject("X", "Y", businesses=["1 Marketing Service Inc."])))
    assert (match.kind, match.matched_fields) == (HitKind.BUSINESS, ["business_name"])


def test_an_ampersand_is_read_as_and_before_punctuation_is_dropped():
    assert business_key("SMITH & JONES MEDICAL SUPPLY, INC.") == "SMITHANDJONESMEDICALSUPPLY"
    assert business_key("Smith&Jones") == business_key("SMITH AND JONES") == "SMITHANDJONES"
    assert business_key("SMITH & JONES") != business_key("SMITH JONES")


def test_a_busname_cut_at_30_characters_matches_as_the_start_of_our_name():
    cut = "SMITH AND JONES MEDICAL SUPPLI"  # "SMITH & JONES MEDICAL SUPPLIES, INC." in LEIE
    assert len(cut) == 30
    index = index_of(record(1, business=cut))
    match = only(
        match_subject(index, subject("", "", businesses=["Smith & Jones Medical Supplies, Inc."]))
    )
    assert match.kind == HitKind.BUSINESS and match.explanation["prefix_match"] is True
    assert "cuts business names at 30 characters" in match.explanation["notes"][0]
    # A cut inside a designator ("..., IN" of INC) still matches.
    index = index_of(record(2, business="ACME DURABLE MEDICAL EQUIP, IN"))
    assert only(
        match_subject(index, subject("", "", businesses=["Acme Durable Medical Equip, Inc"]))
    )


def test_a_name_shorter_than_30_characters_is_not_matched_as_a_prefix():
    index = index_of(record(1, business="SMITH AND JONES MEDICAL"))
    assert match_subject(index, subject("", "", businesses=["Smith & Jones Medical Supply"])) == []


def test_a_different_business_name_does_not_match_a_cut_busname():
    index = index_of(record(1, business="SMITH AND JONES MEDICAL SUPPLI"))
    assert match_subject(index, subject("", "", businesses=["Smith & Jones Dental Supply"])) == []


def test_an_npi_of_zeros_matches_nothing_by_npi():
    index = index_of(record(1, npi="0000000000"), record(2, "Jane", "Doe", npi="1234567893"))
    assert match_subject(index, subject("Pat", "Roe", npi="0000000000")) == []
    assert index.by_npi == {"1234567893": [1]}


# --- end to end on the real samples -------------------------------------------------------


@pytest.fixture
def lists(db):
    # The supplement sample is from October 2016: the list under it must not be newer
    # (a supplement older than the active list is refused).
    load_dataset(
        source="leie", origin=str(FIXTURES / "UPDATED_head_2026.csv"), as_of=date(2016, 10, 1)
    )
    leie = load_dataset(source="leie", origin=str(FIXTURES / "1610EXCL.csv")).version
    sam = load_dataset(
        source="sam", origin=str(FIXTURES / "extract_v2_sample_2023-11.csv"), as_of=SAM_AS_OF
    )
    return leie, sam.version


def test_a_run_records_each_hit_with_fields_score_version_and_the_source_record(tenant_a, lists):
    leie, sam = lists
    org = tenant_a.org
    by_npi = make_provider(org, seed=1, first_name="Mo", last_name="Alley", npi="1790709913")
    by_dob = make_provider(org, seed=2, first_name="Crystal", last_name="Alberty", npi="")
    with tenant_context(org):
        from roster.services.providers import provider_update

        provider_update(
            org=org,
            actor=tenant_a.membership(tenant_a.owner),
            provider=by_dob,
            dob=date(1972, 9, 9),
        )
    by_state = make_provider(org, seed=3, first_name="Antonio", last_name="Flores", state="TX")
    by_former = make_provider(
        org,
        seed=4,
        first_name="Marquis",
        last_name="Ng",
        former_names=["Marquis Hooper"],
        state="NV",
    )
    clean = make_provider(org, seed=5, first_name="Nobody", last_name="Onthelist")

    with tenant_context(org):
        run = screening_run_now(org=org)
        hits = {h.provider_id: h for h in ScreeningHit.objects.all()}

    assert run.status == "done" and run.counts["new"]["npi"] == 1
    npi_hit = hits[by_npi.pk]
    assert (npi_hit.kind, npi_hit.source, npi_hit.dataset_version) == ("npi", "leie", leie)
    assert npi_hit.record_snapshot["LASTNAME"] == "ALI"
    assert npi_hit.record_snapshot["NPI"] == "1790709913"
    assert npi_hit.record_snapshot["EXCLTYPE"] == "1128a4"
    assert len(npi_hit.source_record_key) == 32 and len(npi_hit.record_hash) == 32
    assert npi_hit.provider_snapshot["dob"] == "not on file"
    dob_hit = hits[by_dob.pk]
    assert dob_hit.kind == "name_dob" and dob_hit.matched_fields == [
        "first_name",
        "last_name",
        "dob",
    ]
    assert dob_hit.record_snapshot["DOB"] == "1972-09-09"
    assert dob_hit.provider_snapshot["dob"] == "on file"  # never the value itself
    state_hit = hits[by_state.pk]
    assert (state_hit.kind, state_hit.source, state_hit.dataset_version) == (
        "name_state",
        "sam",
        sam,
    )
    assert state_hit.source_record_key == "SAM:S4MRRFG44"
    assert state_hit.record_snapshot["Termination Date"] == "Indefinite"
    former_hit = hits[by_former.pk]
    assert former_hit.kind == "name_state"
    assert former_hit.explanation["name_used"] == "former name “Marquis Hooper”"
    assert clean.pk not in hits


def test_each_match_says_whether_the_dates_of_birth_agree():
    index = index_of(
        record(1, "ZED", "OTHER", dob=date(1950, 1, 1), npi="1234567893"),
        record(2, "JANE", "DOE", dob=date(1970, 5, 6)),
    )
    matches = match_subject(index, subject("Jane", "Doe", dob=date(1970, 5, 6), npi="1234567893"))
    assert {m.record.row_id: m.explanation["dob"] for m in matches} == {1: "different", 2: "same"}
