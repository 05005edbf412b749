"""SAM extract loading beyond the V2 sample: a 2016 V1 extract (28 columns, DUNS, no UEI or
Creation_Date) is loaded with DUNS kept and the UEI left empty; a SAM file whose name carries
no date needs an explicit as-of (command and service), which is checked against the data."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEvent
from screening.loaders import (
    SAM_HEADER,
    SAM_V1_HEADER,
    DatasetError,
    load_dataset,
    record_snapshots,
)
from screening.models import DatasetVersion, SamRecord

FIXTURES = Path(__file__).parent / "fixtures_screening"
V1 = FIXTURES / "SAM_Exclusions_Public_Extract_16202.CSV"
V2 = FIXTURES / "extract_v2_sample_2023-11.csv"

pytestmark = pytest.mark.django_db


def platform_events(action: str) -> list[AuditEvent]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.audit_platform', 'on', true)")
    return list(AuditEvent.objects.filter(organization__isnull=True, action=action).order_by("seq"))


def active():
    return DatasetVersion.objects.filter(source="sam", is_active=True).first()


def copy_as(tmp_path, source: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(source.read_bytes())
    return str(path)


# --- V1 -----------------------------------------------------------------------------------


def test_the_v1_header_is_the_published_28_column_layout():
    assert len(SAM_V1_HEADER) == 28
    assert SAM_V1_HEADER[15] == "DUNS" and SAM_V1_HEADER[-3:] == ["SAM Number", "CAGE", "NPI"]
    assert "Unique Entity ID" not in SAM_V1_HEADER and "Creation_Date" not in SAM_V1_HEADER
    with V1.open(newline="", encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == SAM_V1_HEADER


def test_a_v1_extract_is_loaded_with_duns_and_no_uei_dated_by_its_name():
    version = load_dataset(source="sam", origin=str(V1)).version

    assert version.is_active and version.row_count == 5
    assert version.as_of == date(2016, 7, 20)  # _16202: day 202 of 2016
    firm = SamRecord.objects.get(version=version, name="NORTHWIND MEDICAL SUPPLY, INC.")
    assert (firm.duns, firm.unique_entity_id, firm.cage) == ("123456789", "", "1ABC2")
    assert firm.creation_date is None and firm.open_data_flag == ""
    assert firm.active_date == date(2015, 3, 1) and firm.termination_date == date(2018, 2, 28)
    assert firm.address_2 == "SUITE 2" and firm.cross_reference == "(also NORTHWIND MED LLC)"
    assert firm.norm_business and firm.norm_first == ""
    marsh = SamRecord.objects.filter(version=version, last="MARSH").order_by("line")
    assert [m.excluding_agency for m in marsh] == ["HHS", "OPM"]
    assert marsh[0].npi == "1234567893" and marsh[0].termination_indefinite
    assert marsh[0].ct_code == "Z1" and "§ 1320a-7" in marsh[0].additional_comments
    assert marsh[0].record_key == marsh[1].record_key == "SAM:S4MR1TEST1"
    assert marsh[0].record_hash != marsh[1].record_hash
    assert (marsh[0].norm_first, marsh[0].norm_lasts) == ("ELLEN", "MARSH")
    quinones = SamRecord.objects.get(version=version, first="OSCAR")
    assert quinones.last == "QUIÑONES" and quinones.zip_code == "331303038"
    sdn = SamRecord.objects.get(version=version, name="HARBOR LIGHT TRADING")
    assert sdn.sam_number == "" and sdn.record_key.startswith("H:")
    event = platform_events("screening.dataset.loaded")[-1]
    assert event.data["layout"] == "v1" and event.data["as_of"] == "2016-07-20"


def test_a_v1_hit_snapshot_shows_duns_and_a_v2_one_does_not():
    v1 = load_dataset(source="sam", origin=str(V1)).version
    firm = SamRecord.objects.get(version=v1, duns="123456789")
    assert record_snapshots("sam", [firm.pk])[firm.pk]["DUNS"] == "123456789"
    v2 = load_dataset(source="sam", origin=str(V2), as_of=date(2023, 11, 22)).version
    zte = SamRecord.objects.get(version=v2, name="ZTE CORPORATION")
    snapshot = record_snapshots("sam", [zte.pk])[zte.pk]
    assert "DUNS" not in snapshot and snapshot["Unique Entity ID"] == "HWEKRJ3F3N29"


def test_a_v1_extract_with_creation_dates_is_loaded_too(tmp_path):
    rows = list(csv.reader(io.StringIO(V1.read_text(encoding="utf-8"), newline="")))
    rows[0].append("Creation_Date")
    for row in rows[1:]:
        row.append("07/19/2016")
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL).writerows(rows)
    path = tmp_path / "SAM_Exclusions_Public_Extract_16202.CSV"
    path.write_text(out.getvalue(), encoding="utf-8")
    version = load_dataset(source="sam", origin=str(path)).version
    record = SamRecord.objects.filter(version=version).first()
    assert record.creation_date == date(2016, 7, 19) and record.unique_entity_id == ""


def test_a_v1_looking_header_that_differs_is_refused_naming_v1_and_the_fix(tmp_path):
    first = load_dataset(source="sam", origin=str(V1)).version
    data = V1.read_bytes().replace(b'"CT Code"', b'"CTCode"', 1)
    path = tmp_path / "SAM_Exclusions_Public_Extract_16203.CSV"
    path.write_bytes(data)
    with pytest.raises(DatasetError) as caught:
        load_dataset(source="sam", origin=str(path))
    message = caught.value.message
    assert "V1 SAM extract" in message and "'CTCode'" in message
    assert "Download the current V2 extract" in message
    assert active() == first


def test_a_v1_row_with_a_bad_date_names_its_line(tmp_path):
    data = V1.read_bytes().replace(b'"07/30/2007"', b'"2007-07-30"')
    path = tmp_path / "SAM_Exclusions_Public_Extract_16202.CSV"
    path.write_bytes(data)
    with pytest.raises(DatasetError, match="Line 4, column Active Date"):
        load_dataset(source="sam", origin=str(path))
    assert active() is None


# --- as-of ----------------------------------------------------------------------------------


def test_a_sam_file_without_a_date_in_its_name_is_refused_without_as_of(tmp_path):
    path = copy_as(tmp_path, V2, "exclusions.csv")
    with pytest.raises(DatasetError) as caught:
        load_dataset(source="sam", origin=path)
    assert "carries no date in its name" in caught.value.message
    assert "--as-of" in caught.value.message
    assert caught.value.details == {"as_of": "required"}
    assert not DatasetVersion.objects.exists()


def test_the_command_refuses_it_and_accepts_it_with_as_of(tmp_path):
    path = copy_as(tmp_path, V2, "exclusions.csv")
    with pytest.raises(CommandError, match="carries no date in its name"):
        call_command("load_exclusions", "--source", "sam", path, stdout=io.StringIO())
    assert not DatasetVersion.objects.exists()

    out = io.StringIO()
    call_command("load_exclusions", "--source", "sam", path, "--as-of", "2023-11-22", stdout=out)
    assert active().as_of == date(2023, 11, 22) and "as of 2023-11-22" in out.getvalue()


def test_an_as_of_before_the_newest_record_is_refused(tmp_path):
    path = copy_as(tmp_path, V2, "exclusions.csv")
    # The newest Creation_Date in the sample is 2023-11-22: a mistyped year is caught.
    with pytest.raises(DatasetError, match="before the newest record"):
        load_dataset(source="sam", origin=path, as_of=date(2013, 11, 22))
    assert not DatasetVersion.objects.exists()
    # A day of slack (Creation_Date is GSA's day).
    assert load_dataset(source="sam", origin=path, as_of=date(2023, 11, 21)).created


def test_an_as_of_in_the_future_is_refused(tmp_path):
    path = copy_as(tmp_path, V2, "exclusions.csv")
    later = timezone.localdate() + timedelta(days=2)
    with pytest.raises(DatasetError, match="in the future"):
        load_dataset(source="sam", origin=path, as_of=later)


def test_an_iso_date_in_the_name_is_the_as_of(tmp_path):
    path = copy_as(tmp_path, V2, "sam_exclusions_2023-11-24.csv")
    assert load_dataset(source="sam", origin=path).version.as_of == date(2023, 11, 24)


def test_the_zip_name_dates_a_csv_member_without_one(tmp_path):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("exclusions.csv", V2.read_bytes())
    path = tmp_path / "SAM_Exclusions_Public_Extract_V2_23327.ZIP"
    path.write_bytes(buffer.getvalue())
    assert load_dataset(source="sam", origin=str(path)).version.as_of == date(2023, 11, 23)


def test_a_v2_file_still_loads_with_the_v2_header():
    assert len(SAM_HEADER) == 31
    version = load_dataset(source="sam", origin=str(V2), as_of=date(2023, 11, 22)).version
    assert SamRecord.objects.filter(version=version).exclude(duns="").count() == 0
