"""OIG LEIE and SAM loaders on the real-format samples: every column, the date formats, blank
NPIs, supplements and reinstatements, malformed files (each rejected naming its line, the
previous version still active), loading from a loopback URL, the command."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from datetime import date
from functools import partial
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from screening.loaders import DatasetError, load_dataset, record_snapshots
from screening.models import DatasetKind, DatasetVersion, LeieRecord, SamRecord

FIXTURES = Path(__file__).parent / "fixtures_screening"
UPDATED = FIXTURES / "UPDATED_head_2026.csv"
EXCL = FIXTURES / "1610EXCL.csv"
REIN = FIXTURES / "1610REIN.csv"
OLD_REIN = FIXTURES / "rein1512.csv"
SAM = FIXTURES / "extract_v2_sample_2023-11.csv"
SAM_AS_OF = date(2023, 11, 22)  # the sample's name carries no date
# The supplement samples are from October 2016: a list under them must not be newer (a
# supplement older than the active list is refused).
BASE = date(2016, 10, 1)

pytestmark = pytest.mark.django_db


def active(source):
    return DatasetVersion.objects.get(source=source, is_active=True)


def leie_row(version, **lookup):
    return LeieRecord.objects.get(version=version, **lookup)


def write(tmp_path, name, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# --- the real samples --------------------------------------------------------------------


def test_the_2026_full_file_loads_entities_with_blank_names_dates_and_npis():
    result = load_dataset(source="leie", origin=str(UPDATED), as_of=date(2026, 11, 1))

    v = result.version
    assert result.created and v.is_active and v.kind == DatasetKind.FULL
    assert (v.row_count, v.file_rows, v.as_of) == (2, 2, date(2026, 11, 1))
    assert v.sha256 == hashlib.sha256(UPDATED.read_bytes()).hexdigest()
    marketing = leie_row(v, busname="#1 MARKETING SERVICE, INC")
    assert (marketing.lastname, marketing.firstname, marketing.npi) == ("", "", "")
    assert marketing.dob is None and marketing.reindate is None and marketing.waiverdate is None
    assert (marketing.general, marketing.specialty) == ("OTHER BUSINESS", "SOBER HOME")
    assert (marketing.address, marketing.city, marketing.state, marketing.zip) == (
        "239 BRIGHTON BEACH AVENUE",
        "BROOKLYN",
        "NY",
        "11235",
    )
    assert (marketing.excltype, marketing.excldate) == ("1128a1", date(2020, 3, 19))
    assert marketing.norm_business == "1MARKETINGSERVICE"
    pharmacy = leie_row(v, busname="101 FIRST CARE PHARMACY INC")
    assert pharmacy.npi == "1972902351"
    assert pharmacy.excltype == "1128b8" and pharmacy.excldate == date(2022, 3, 20)


def test_every_column_of_a_2016_supplement_row_is_parsed_and_padding_trimmed():
    load_dataset(source="leie", origin=str(UPDATED), as_of=BASE)
    v = load_dataset(source="leie", origin=str(EXCL)).version

    assert v.kind == DatasetKind.EXCLUSIONS and v.as_of == date(2016, 10, 1)
    assert v.file_rows == 148 and v.applied == 148 and v.row_count == 150
    ali = leie_row(v, lastname="ALI", firstname="MUHAMMAD")
    assert [getattr(ali, f) for f in ("midname", "busname", "general", "specialty", "upin")] == [
        "WASIM",  # published as "WASIM " (trailing space)
        "",
        "DOCTOR(MD, DO)",  # a comma inside a quoted value
        "GENERAL PRACTICE",
        "",
    ]
    assert (ali.npi, ali.dob, ali.address, ali.city, ali.state, ali.zip) == (
        "1790709913",
        date(1964, 8, 3),
        "P O BOX 150160",
        "ATLANTA",
        "GA",
        "30315",
    )
    assert (ali.excltype, ali.excldate, ali.reindate, ali.waiverdate, ali.wvrstate) == (
        "1128a4",
        date(2016, 11, 20),
        None,
        None,
        "",
    )
    # "1128a1   " is right-padded in the file; NPI 0000000000 means none.
    nassery = leie_row(v, lastname="NASSERY")
    assert nassery.excltype == "1128a1" and nassery.npi == "1992763510"
    assert leie_row(v, lastname="ALBERTY").npi == ""
    assert (
        LeieRecord.objects.filter(version=v, npi="").count()
        == LeieRecord.objects.filter(version=v).exclude(npi__regex=r"^\d{10}$").count()
    )


def test_the_old_reinstatement_file_reads_two_digit_year_dates_of_birth():
    load_dataset(source="leie", origin=str(UPDATED), as_of=date(2015, 12, 1))
    v = load_dataset(source="leie", origin=str(OLD_REIN), kind=DatasetKind.EXCLUSIONS).version

    alston = leie_row(v, lastname="ALSTON-DAVIS")
    assert alston.dob == date(1947, 4, 1)  # "04/01/47"
    assert alston.upin == "U13082" and alston.npi == "1578683975"
    assert alston.reindate == date(2015, 12, 8) and alston.excldate == date(2002, 8, 20)
    assert alston.norm_lasts == "ALSTONDAVIS|ALSTON|DAVIS"
    wool = leie_row(v, lastname="WOOL")
    assert wool.dob == date(1961, 5, 22) and wool.npi == ""


def test_the_sam_extract_parses_indefinite_terminations_and_non_ascii_comments():
    v = load_dataset(source="sam", origin=str(SAM), as_of=SAM_AS_OF).version

    assert v.row_count == 16  # the extract repeats TERRA KLEAN's row; both are kept
    zte = SamRecord.objects.get(version=v, name="ZTE CORPORATION")
    assert zte.classification == "Firm" and zte.termination_date is None
    assert zte.termination_indefinite is True
    assert zte.active_date == date(2019, 12, 13) and zte.creation_date == date(2019, 12, 13)
    assert zte.address_1 == "NO.55, HI-TECH SOUTH ROAD, NANSHAN DISTRICT"
    assert (zte.country, zte.zip_code, zte.unique_entity_id, zte.sam_number) == (
        "CHN",
        "518057",
        "HWEKRJ3F3N29",
        "S4MRB9MLP",
    )
    assert zte.norm_business == "ZTE" and zte.norm_first == ""
    torres = SamRecord.objects.get(version=v, last="TORRES")
    assert "“Effect”" in torres.additional_comments and "3141-3148" in torres.additional_comments
    assert torres.termination_date == date(2025, 8, 20) and not torres.termination_indefinite
    assert torres.cross_reference.startswith("(also VMC CONSTRUCTION, LLC")
    flores = SamRecord.objects.get(version=v, last="FLORES")
    assert (flores.first, flores.suffix, flores.city, flores.state_province) == (
        "ANTONIO",
        "III",
        "SAN ANTONIO",
        "TX",
    )
    assert flores.record_key == "SAM:S4MRRFG44" and flores.npi == ""
    assert (flores.norm_first, flores.norm_lasts) == ("ANTONIO", "FLORES")
    berzunza = SamRecord.objects.get(version=v, last="BERZUNZA LARA")
    assert berzunza.prefix == "MR." and berzunza.norm_lasts == "BERZUNZALARA|BERZUNZA|LARA"


def test_the_loader_runs_as_the_application_role_with_copy():
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)
    assert load_dataset(source="sam", origin=str(SAM), as_of=SAM_AS_OF).created


# --- malformed files: rejected with the line, the version in use stays --------------------


@pytest.fixture
def loaded():
    return load_dataset(source="leie", origin=str(UPDATED)).version


def assert_rejected(tmp_path, loaded, data: bytes, *, line: int, match: str, name="UPDATED.csv"):
    rows_before = LeieRecord.objects.count()
    with pytest.raises(DatasetError, match=match) as exc:
        load_dataset(source="leie", origin=write(tmp_path, name, data))
    assert exc.value.details["line"] == line
    assert f"Line {line}" in exc.value.message
    assert active("leie") == loaded
    assert DatasetVersion.objects.filter(source="leie").count() == 1
    assert LeieRecord.objects.count() == rows_before
    return exc.value


def test_a_file_with_the_wrong_header_is_rejected_and_the_previous_version_stays(tmp_path, loaded):
    data = UPDATED.read_bytes().replace(b"EXCLTYPE", b"EXCL_TYPE", 1)
    assert_rejected(tmp_path, loaded, data, line=1, match="header column 14 is 'EXCL_TYPE'")


def test_a_sam_header_is_not_accepted_as_leie(tmp_path, loaded):
    assert_rejected(tmp_path, loaded, SAM.read_bytes(), line=1, match="has 18 columns")


def test_a_row_with_a_missing_column_is_rejected_with_its_line(tmp_path, loaded):
    lines = EXCL.read_bytes().split(b"\n")
    lines[5] = lines[5].rsplit(b",", 1)[0]  # drop WVRSTATE
    assert_rejected(
        tmp_path, loaded, b"\n".join(lines), line=6, match="expected 18 columns, found 17"
    )


def test_a_file_cut_in_the_middle_of_a_quoted_value_is_rejected_with_its_line(tmp_path, loaded):
    data = EXCL.read_bytes()
    cut = data[: data.rindex(b'"WOODWARD"') + 35]  # ends inside "DOCTOR(MD, DO)"
    assert_rejected(tmp_path, loaded, cut, line=148, match="truncated or a quote is not closed")


def test_a_file_cut_between_values_is_rejected_with_its_line(tmp_path, loaded):
    data = EXCL.read_bytes()
    cut = data[: data.rindex(b'"WOODWARD"') + 18]  # "WOODWARD","PAUL",
    assert_rejected(tmp_path, loaded, cut, line=148, match="expected 18 columns, found 3")


def test_a_file_in_another_encoding_is_rejected_naming_the_line_and_byte(tmp_path, loaded):
    data = EXCL.read_bytes().replace(
        b'"ANNAND","MARGARET"', '"ANNAND","MARGARÉT"'.encode("latin-1")
    )
    error = assert_rejected(tmp_path, loaded, data, line=8, match="byte 0xC9 at column 17")
    assert "UTF-8" in error.message


def test_an_impossible_date_is_rejected_naming_line_and_column(tmp_path, loaded):
    data = EXCL.read_bytes().replace(b'"19640803"', b'"19641303"')
    error = assert_rejected(tmp_path, loaded, data, line=3, match="column DOB: '19641303'")
    assert error.details["column"] == "DOB"


def test_an_empty_file_is_rejected(tmp_path, loaded):
    assert_rejected(tmp_path, loaded, b"", line=1, match="empty")


def test_a_sam_row_with_a_bad_termination_date_is_rejected_and_sam_stays_as_it_was(tmp_path):
    first = load_dataset(source="sam", origin=str(SAM), as_of=SAM_AS_OF).version
    data = SAM.read_bytes().replace(b'"10/19/2026"', b'"2026-10-19"')
    with pytest.raises(DatasetError, match="Line 4, column Termination Date"):
        load_dataset(source="sam", origin=write(tmp_path, "sam.csv", data), as_of=SAM_AS_OF)
    assert active("sam") == first
    assert SamRecord.objects.filter(version=first).count() == 16


def test_a_missing_file_is_a_clear_error():
    with pytest.raises(DatasetError, match="Could not read"):
        load_dataset(source="leie", origin="/nonexistent/UPDATED.csv")


# --- versions, supplements, reinstatements ------------------------------------------------


def test_loading_the_same_full_file_again_changes_nothing():
    first = load_dataset(source="leie", origin=str(UPDATED))
    again = load_dataset(source="leie", origin=str(UPDATED))
    assert again.created is False and again.version == first.version
    assert DatasetVersion.objects.filter(source="leie").count() == 1


def test_a_new_full_file_replaces_the_active_version_and_old_rows_are_purged(tmp_path):
    v1 = load_dataset(source="leie", origin=str(UPDATED)).version
    body = UPDATED.read_bytes()
    v2 = load_dataset(source="leie", origin=write(tmp_path, "a.csv", body + b"\n")).version
    v3 = load_dataset(source="leie", origin=write(tmp_path, "b.csv", body + b"\n\n")).version
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert [v.is_active for v in (v1, v2, v3)] == [False, False, True]
    assert v1.rows_purged and not LeieRecord.objects.filter(version=v1).exists()
    assert not v2.rows_purged and LeieRecord.objects.filter(version=v2).count() == 2


def test_an_exclusion_supplement_adds_records_once_even_if_applied_twice(tmp_path):
    load_dataset(source="leie", origin=str(UPDATED), as_of=BASE)
    v = load_dataset(source="leie", origin=str(EXCL)).version
    assert (v.applied, v.row_count) == (148, 150)
    again = load_dataset(source="leie", origin=str(EXCL))
    assert again.created is False and active("leie") == v
    # The same rows under another file name: a new version, but nothing new in it.
    renamed = load_dataset(
        source="leie", origin=write(tmp_path, "x.csv", EXCL.read_bytes() + b"\n"), kind="exclusions"
    ).version
    assert (renamed.applied, renamed.row_count) == (0, 150)


def test_a_reinstatement_supplement_ends_the_exclusion_it_names(tmp_path):
    load_dataset(source="leie", origin=str(UPDATED), as_of=BASE)
    excl = load_dataset(source="leie", origin=str(EXCL)).version
    # OIG's REIN file repeats the exclusion's values with REINDATE set.
    header, *rows = EXCL.read_text().splitlines()
    ali = next(r for r in rows if r.startswith('"ALI"'))
    rein_row = ali.replace('"20161120","00000000","00000000"', '"20161120","20170105","00000000"')
    path = write(tmp_path, "1701REIN.csv", f"{header}\n{rein_row}\n".encode())

    v = load_dataset(source="leie", origin=path).version

    assert v.kind == DatasetKind.REINSTATEMENTS and v.base == excl and v.applied == 1
    assert leie_row(v, lastname="ALI").reindate == date(2017, 1, 5)
    assert leie_row(excl, lastname="ALI").reindate is None  # the older version is untouched
    assert LeieRecord.objects.filter(version=v, reindate__isnull=True).count() == 149


def test_a_reinstatement_of_a_record_not_on_the_list_applies_nothing():
    load_dataset(source="leie", origin=str(UPDATED), as_of=BASE)
    v = load_dataset(source="leie", origin=str(REIN)).version
    assert (v.file_rows, v.applied, v.row_count) == (64, 0, 2)


def test_a_supplement_with_no_full_list_loaded_is_refused():
    with pytest.raises(DatasetError, match="load the full UPDATED.csv first"):
        load_dataset(source="leie", origin=str(EXCL))
    assert not DatasetVersion.objects.exists()


def test_a_sam_extract_inside_a_zip_is_unpacked(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("SAM_Exclusions_Public_Extract_V2_23325.CSV", SAM.read_bytes())
    path = write(tmp_path, "SAM_Exclusions_Public_Extract_V2_23325.ZIP", buffer.getvalue())
    v = load_dataset(source="sam", origin=path).version
    assert v.row_count == 16 and v.as_of == date(2023, 11, 21)  # day 325 of 2023


# --- a loopback URL ----------------------------------------------------------------------


@pytest.fixture
def file_server():
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(FIXTURES))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_files_are_loaded_from_a_url(file_server):
    full = load_dataset(source="leie", origin=f"{file_server}/UPDATED_head_2026.csv").version
    assert full.origin == f"{file_server}/UPDATED_head_2026.csv" and full.row_count == 2
    # No date in the name: the server's Last-Modified date is the list's date.
    assert full.as_of == date.fromtimestamp(UPDATED.stat().st_mtime)
    # (The 2016 sample is older than this list: it is applied with the list's own date.)
    supplement = load_dataset(
        source="leie", origin=f"{file_server}/1610EXCL.csv", as_of=full.as_of
    ).version
    assert supplement.kind == DatasetKind.EXCLUSIONS and supplement.row_count == 150
    sam = load_dataset(source="sam", origin=f"{file_server}/extract_v2_sample_2023-11.csv")
    assert sam.version.row_count == 16


def test_a_url_that_answers_404_is_a_clear_error(file_server):
    with pytest.raises(DatasetError, match="HTTP 404"):
        load_dataset(source="leie", origin=f"{file_server}/nothing.csv")


# --- the command -------------------------------------------------------------------------


def test_load_exclusions_loads_a_file_and_reports_the_version():
    out = io.StringIO()
    call_command(
        "load_exclusions", "--source", "sam", str(SAM), "--as-of", "2023-11-22", stdout=out
    )
    v = active("sam")
    assert "16 records" in out.getvalue() and str(v.pk) in out.getvalue()
    assert v.as_of == date(2023, 11, 22)


def test_load_exclusions_refuses_a_malformed_file_naming_the_line(tmp_path):
    call_command("load_exclusions", "--source", "leie", str(UPDATED), stdout=io.StringIO())
    bad = write(tmp_path, "UPDATED.csv", UPDATED.read_bytes().replace(b',"1128a1",', b","))
    with pytest.raises(CommandError, match="Line 2: expected 18 columns.*stays active"):
        call_command("load_exclusions", "--source", "leie", bad)


def test_a_full_file_with_only_its_header_is_rejected(tmp_path, loaded):
    header = UPDATED.read_bytes().split(b"\n")[0] + b"\n"
    assert_rejected(tmp_path, loaded, header, line=2, match="header but no records")


# --- the as-of date never goes back; versions list their files (issue 9, item 15) ---------


def test_an_older_supplement_is_refused_by_the_command_and_the_list_keeps_its_date(tmp_path):
    call_command(
        "load_exclusions",
        "--source",
        "leie",
        str(UPDATED),
        "--as-of",
        "2016-09-01",
        stdout=io.StringIO(),
    )
    call_command("load_exclusions", "--source", "leie", str(EXCL), stdout=io.StringIO())
    current = active("leie")
    assert current.as_of == date(2016, 10, 1)
    # A December 2015 reinstatement file, after the October 2016 exclusions.
    old = write(tmp_path, "1512REIN.csv", OLD_REIN.read_bytes())

    with pytest.raises(CommandError) as refused:
        call_command("load_exclusions", "--source", "leie", old, stdout=io.StringIO())

    message = str(refused.value)
    assert "1512REIN.csv (reinstatements as of 2015-12-01) is older than the active LEIE list" in (
        message
    )
    assert "as of 2016-10-01, 1610EXCL.csv" in message and "refused" in message
    assert "would move the list's as-of date back" in message
    assert active("leie") == current and active("leie").as_of == date(2016, 10, 1)
    assert DatasetVersion.objects.filter(source="leie").count() == 2


def test_a_supplement_of_the_same_month_as_the_list_is_applied():
    load_dataset(source="leie", origin=str(UPDATED), as_of=date(2016, 10, 1))
    v = load_dataset(source="leie", origin=str(EXCL)).version
    assert v.is_active and v.as_of == date(2016, 10, 1) and v.applied == 148


def test_a_supplement_that_applies_none_of_its_rows_says_so_as_a_warning():
    load_dataset(source="leie", origin=str(UPDATED), as_of=BASE)
    out, err = io.StringIO(), io.StringIO()

    call_command("load_exclusions", "--source", "leie", str(REIN), stdout=out, stderr=err)

    v = active("leie")
    assert (v.file_rows, v.applied) == (64, 0)
    assert "0 of 64 rows applied" in out.getvalue()
    warning = "1610REIN.csv: 0 of 64 rows applied (none of its reinstated records is on the"
    assert warning in err.getvalue() and "the list is unchanged" in err.getvalue()
    assert v.warnings and v.warnings[0].startswith("1610REIN.csv: 0 of 64 rows applied")


def test_the_version_lists_its_files_and_each_record_names_its_file_and_line():
    full = load_dataset(source="leie", origin=str(UPDATED), as_of=BASE).version
    v = load_dataset(source="leie", origin=str(EXCL)).version
    rein = FIXTURES / "1610REIN.csv"
    v2 = load_dataset(source="leie", origin=str(rein)).version

    assert full.files == [
        {
            "filename": "UPDATED_head_2026.csv",
            "kind": "full",
            "as_of": "2016-10-01",
            "sha256": full.sha256,
            "file_rows": 2,
            "applied": 2,
        }
    ]
    assert [(f["filename"], f["as_of"], f["applied"]) for f in v.files] == [
        ("UPDATED_head_2026.csv", "2016-10-01", 2),
        ("1610EXCL.csv", "2016-10-01", 148),
    ]
    assert [f["filename"] for f in v2.files] == [
        "UPDATED_head_2026.csv",
        "1610EXCL.csv",
        "1610REIN.csv",
    ]
    ali = leie_row(v2, lastname="ALI", firstname="MUHAMMAD")
    marketing = leie_row(v2, busname="#1 MARKETING SERVICE, INC")
    assert (ali.file_index, marketing.file_index) == (1, 0)
    snapshots = record_snapshots("leie", [ali.pk, marketing.pk])
    assert (snapshots[ali.pk]["_file"], snapshots[ali.pk]["_line"]) == ("1610EXCL.csv", ali.line)
    # The line is the record's line in that file (header = line 1).
    lines = EXCL.read_text().splitlines()
    assert lines[ali.line - 1].startswith('"ALI","MUHAMMAD"')
    assert snapshots[marketing.pk]["_file"] == "UPDATED_head_2026.csv"
    assert snapshots[marketing.pk]["_line"] == marketing.line
