"""The documents ZIP of a roster import, attacked: damaged, lying, bombs, traversal, floods.

Hostile archives are built byte by byte (`raw_zip`) or made with zipfile and patched. Every
one ends as a clear refusal with nothing written, through the API, the import page and the
command; the work an archive costs is measured in decompressed bytes, counted where
zipfile hands them out, never in seconds.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from rest_framework.throttling import SimpleRateThrottle

from credex.tenancy import tenant_context
from roster.models import CredentialRequirement, ImportJob, ImportStatus
from tests.factories import PDF_BYTES, valid_npi
from tests.test_import import PNG_BYTES, counts, csv_bytes, row, stored_files, zip_bytes


# --- building archives ------------------------------------------------------------------------
@dataclass
class Entry:
    name: str
    data: bytes  # the uncompressed bytes
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0
    crc: int | None = None  # default: the real CRC
    size: int | None = None  # declared uncompressed size; default: the real one
    local_name: str | None = None  # the name in the local header; default: the same
    external_attr: int = 0
    create_system: int = 0
    compressed: bytes | None = None  # precomputed compressed bytes (reused for big entries)


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def raw_zip(entries: list[Entry]) -> bytes:
    """A ZIP written by hand, so every field can say what a test wants it to say."""
    out, directory = bytearray(), bytearray()
    for e in entries:
        if e.compressed is not None:
            body = e.compressed
        else:
            body = deflate(e.data) if e.method == zipfile.ZIP_DEFLATED else e.data
        crc = zlib.crc32(e.data) if e.crc is None else e.crc
        size = len(e.data) if e.size is None else e.size
        name = e.name.encode()
        local = (e.local_name if e.local_name is not None else e.name).encode()
        offset = len(out)
        out += struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, e.flags, e.method, 0, 0x21, crc, len(body), size,
            len(local), 0,
        )  # fmt: skip
        out += local + body
        directory += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", (e.create_system << 8) | 20, 20, e.flags, e.method,
            0, 0x21, crc, len(body), size, len(name), 0, 0, 0, 0, e.external_attr, offset,
        )  # fmt: skip
        directory += name
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), len(out), 0
    )
    return bytes(out + directory + end)


def sizes_of(data: bytes) -> zipfile.ZipInfo:
    return zipfile.ZipFile(io.BytesIO(data)).infolist()[0]


# --- counting the work --------------------------------------------------------------------------
@pytest.fixture
def reads(monkeypatch):
    """Every byte zipfile decompresses for anyone, and every entry anyone opens."""
    seen = {"bytes": 0, "opened": []}
    real_read, real_open = zipfile.ZipExtFile.read, zipfile.ZipFile.open

    def read(self, n=-1):
        data = real_read(self, n)
        seen["bytes"] += len(data)
        return data

    def open_(self, name, *args, **kwargs):
        seen["opened"].append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipExtFile, "read", read)
    monkeypatch.setattr(zipfile.ZipFile, "open", open_)
    return seen


@pytest.fixture
def _throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


def api_post(client, tenant, csv_data: bytes, documents: bytes | None):
    files = {"file": SimpleUploadedFile("roster.csv", csv_data)}
    if documents is not None:
        files["documents"] = SimpleUploadedFile("docs.zip", documents)
    return client.post("/api/v1/imports", files, HTTP_X_CREDEX_ORGANIZATION=tenant.org.slug)


def page_post(client, tenant, csv_data: bytes, documents: bytes):
    return client.post(
        f"/o/{tenant.org.slug}/imports/",
        {
            "file": SimpleUploadedFile("roster.csv", csv_data),
            "documents": SimpleUploadedFile("docs.zip", documents),
        },
    )


def nothing_written(tenant, *, jobs: int = 0):
    assert counts(tenant.org) == {
        "providers": 0,
        "credentials": 0,
        "documents": 0,
        "roster_events": 0,
    }
    assert not stored_files()
    with tenant_context(tenant.org):
        assert ImportJob.objects.count() == jobs


ONE_ROW = csv_bytes([row(1, document_file="lic.pdf")])


# --- refused at upload, from the directory alone (400 / the field's message) ---------------------
def _bomb() -> bytes:
    # 19 MiB of zeros deflates to about 19 KB: a ratio near 1000:1.
    return raw_zip([Entry("lic.pdf", b"%PDF-1.4\n" + bytes(19 * 1024 * 1024))])


def _nested() -> bytes:
    return zip_bytes({"lic.pdf": PDF_BYTES, "more/inner.zip": zip_bytes({"a.pdf": PDF_BYTES})})


def _encrypted() -> bytes:
    return raw_zip([Entry("lic.pdf", PDF_BYTES, flags=0x1)])


def _symlink() -> bytes:
    return raw_zip(
        [Entry("lic.pdf", b"/etc/passwd", create_system=3, external_attr=(0o120777 << 16))]
    )


def _duplicate() -> bytes:
    return raw_zip([Entry("lic.pdf", PDF_BYTES), Entry("lic.pdf", b"%PDF-1.4 other")])


def _bzip2() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_BZIP2) as zf:
        zf.writestr("lic.pdf", PDF_BYTES)
    return buffer.getvalue()


def _truncated() -> bytes:
    data = zip_bytes({"lic.pdf": PDF_BYTES * 20})
    return data[: len(data) // 2]  # the directory at the end is gone


HOSTILE_AT_UPLOAD = {
    "zip bomb": (_bomb, "more than 100:1"),
    "nested zip": (_nested, "another archive (more/inner.zip)"),
    "encrypted entry": (_encrypted, "encrypted (password-protected)"),
    "parent traversal": (lambda: raw_zip([Entry("../../etc/lic.pdf", PDF_BYTES)]), "(..)"),
    "absolute path": (lambda: raw_zip([Entry("/var/lic.pdf", PDF_BYTES)]), "absolute path"),
    "drive letter": (lambda: raw_zip([Entry("C:/lic.pdf", PDF_BYTES)]), "absolute path"),
    "backslash": (lambda: raw_zip([Entry("..\\lic.pdf", PDF_BYTES)]), "backslash"),
    "control character": (lambda: raw_zip([Entry("lic\x01.pdf", PDF_BYTES)]), "control"),
    "symlink": (_symlink, "is a link"),
    "duplicate name": (_duplicate, "two files named lic.pdf"),
    "bzip2 method": (_bzip2, "method 12"),
    "truncated": (_truncated, "not a ZIP file"),
    "not a zip": (lambda: b"PK\x03\x04 but nothing more", "not a ZIP file"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_AT_UPLOAD))
def test_a_hostile_archive_is_refused_by_the_api_with_a_400_and_nothing_written(
    case, tenant_a, login, _throttle, reads
):
    build, expected = HOSTILE_AT_UPLOAD[case]
    response = api_post(login(tenant_a.coordinator), tenant_a, ONE_ROW, build())
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert expected in body["details"]["documents"], body
    assert reads["bytes"] == 0, "a document was decompressed to refuse the archive"
    nothing_written(tenant_a)


@pytest.mark.parametrize("case", ["zip bomb", "nested zip", "parent traversal", "encrypted entry"])
def test_a_hostile_archive_is_refused_on_the_import_page_next_to_the_zip_field(
    case, tenant_a, login
):
    build, expected = HOSTILE_AT_UPLOAD[case]
    response = page_post(login(tenant_a.coordinator), tenant_a, ONE_ROW, build())
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="err-documents"' in html and expected.split("(")[0] in html
    nothing_written(tenant_a)


def test_the_command_refuses_a_hostile_archive_with_exit_1(tenant_a, tmp_path):
    (tmp_path / "roster.csv").write_bytes(ONE_ROW)
    (tmp_path / "docs.zip").write_bytes(_nested())
    with pytest.raises(CommandError) as exc:
        call_command(
            "import_roster",
            str(tmp_path / "roster.csv"),
            org=tenant_a.org.slug,
            documents=str(tmp_path / "docs.zip"),
            stdout=io.StringIO(),
        )
    assert exc.value.returncode == 1 and "another archive" in str(exc.value)
    nothing_written(tenant_a)


def test_too_many_entries_are_refused_before_the_directory_is_parsed(
    tenant_a, login, _throttle, settings, monkeypatch
):
    settings.IMPORT_MAX_ZIP_ENTRIES = 5
    parsed = []
    real = zipfile.ZipFile._RealGetContents
    monkeypatch.setattr(
        zipfile.ZipFile, "_RealGetContents", lambda self: parsed.append(1) or real(self)
    )
    many = raw_zip([Entry(f"f{i}.pdf", PDF_BYTES) for i in range(6)])
    response = api_post(login(tenant_a.coordinator), tenant_a, ONE_ROW, many)
    assert response.status_code == 400
    assert "more than 5 files" in response.json()["details"]["documents"]
    assert parsed == [], "the directory was parsed before the count was checked"
    nothing_written(tenant_a)


def test_an_end_record_that_understates_the_entry_count_is_still_refused(
    tenant_a, login, _throttle, settings
):
    settings.IMPORT_MAX_ZIP_ENTRIES = 5
    many = bytearray(raw_zip([Entry(f"f{i}.pdf", PDF_BYTES) for i in range(6)]))
    many[-14:-10] = struct.pack("<2H", 1, 1)  # the end record claims one entry
    response = api_post(login(tenant_a.coordinator), tenant_a, ONE_ROW, bytes(many))
    assert response.status_code == 400, response.content
    assert "5" in response.json()["details"]["documents"]
    nothing_written(tenant_a)


def test_the_declared_total_beyond_the_uncompressed_cap_is_refused(
    tenant_a, login, _throttle, settings, reads
):
    settings.IMPORT_MAX_ZIP_UNCOMPRESSED_BYTES = 200_000
    docs = zip_bytes({f"f{i}.pdf": PDF_BYTES + bytes(90_000) for i in range(3)})
    response = api_post(login(tenant_a.coordinator), tenant_a, ONE_ROW, docs)
    assert response.status_code == 400
    assert "uncompressed" in response.json()["details"]["documents"]
    assert reads["bytes"] == 0
    nothing_written(tenant_a)


# --- damaged entries, found when a named entry is read (the import is rejected) -----------------
def _bad_crc() -> bytes:
    return raw_zip([Entry("lic.pdf", PDF_BYTES, crc=zlib.crc32(PDF_BYTES) ^ 0xFFFF)])


def _declares_smaller() -> bytes:
    # The reported case: the entry says it is smaller than its data (the CRC then fails).
    data = PDF_BYTES + b"%" + b"x" * 5000
    return raw_zip([Entry("lic.pdf", data, size=len(PDF_BYTES))])


def _declares_smaller_with_matching_crc() -> bytes:
    data = PDF_BYTES + b"%" + b"x" * 5000
    return raw_zip(
        [Entry("lic.pdf", data, size=len(PDF_BYTES), crc=zlib.crc32(data[: len(PDF_BYTES)]))]
    )


def _declares_larger() -> bytes:
    return raw_zip(
        [Entry("lic.pdf", PDF_BYTES, method=zipfile.ZIP_STORED, size=len(PDF_BYTES) * 3)]
    )


def _data_cut_short() -> bytes:
    """The entry's data is cut but the directory (moved up) still claims all of it."""
    whole = raw_zip([Entry("lic.pdf", PDF_BYTES * 30, method=zipfile.ZIP_STORED)])
    info = sizes_of(whole)
    start = 30 + len("lic.pdf")
    cut = 200
    data_end = start + info.compress_size
    damaged = bytearray(whole[: data_end - cut] + whole[data_end:])
    damaged[-6:-2] = struct.pack("<L", data_end - cut)  # directory offset in the end record
    return bytes(damaged)


def _names_differ() -> bytes:
    return raw_zip([Entry("lic.pdf", PDF_BYTES, local_name="evil.pdf")])


def _corrupt_deflate() -> bytes:
    body = bytearray(deflate(PDF_BYTES * 10))
    body[len(body) // 2 :] = b"\xff" * (len(body) - len(body) // 2)
    return raw_zip([Entry("lic.pdf", PDF_BYTES * 10, compressed=bytes(body))])


def _zip_inside_named_pdf() -> bytes:
    return zip_bytes({"lic.pdf": zip_bytes({"a.pdf": PDF_BYTES})})


DAMAGED_ENTRIES = {
    "bad crc": (_bad_crc, "checksum"),
    "declares a smaller size than its data": (_declares_smaller, "damaged"),
    # zipfile alone returns the declared prefix, which is a whole PDF here.
    "declares a smaller size with a matching crc": (_declares_smaller_with_matching_crc, "damaged"),
    "declares a larger size": (_declares_larger, "but it holds"),
    "data cut short": (_data_cut_short, "damaged"),
    "names differ": (_names_differ, "name differs"),
    "corrupt deflate data": (_corrupt_deflate, "damaged"),
    "a zip named .pdf": (_zip_inside_named_pdf, "ZIP archive"),
}


@pytest.mark.parametrize("case", sorted(DAMAGED_ENTRIES))
def test_a_damaged_named_entry_rejects_the_import_through_the_api(case, tenant_a, login, _throttle):
    build, expected = DAMAGED_ENTRIES[case]
    response = api_post(login(tenant_a.coordinator), tenant_a, ONE_ROW, build())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "rejected"
    assert [(e["row"], e["column"], e["value"]) for e in body["errors"]] == [
        (2, "document_file", "lic.pdf")
    ]
    assert expected in body["errors"][0]["reason"], body["errors"]
    nothing_written(tenant_a, jobs=1)


@pytest.mark.parametrize("case", ["bad crc", "declares a smaller size than its data"])
def test_a_damaged_named_entry_is_reported_on_the_import_page(case, tenant_a, login):
    client = login(tenant_a.coordinator)
    build, expected = DAMAGED_ENTRIES[case]
    response = page_post(client, tenant_a, ONE_ROW, build())
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "Nothing was imported" in html and expected in html
    nothing_written(tenant_a, jobs=1)


def test_a_damaged_entry_the_csv_does_not_name_is_never_read(tenant_a, login, _throttle, reads):
    docs = raw_zip(
        [
            Entry("lic.pdf", PDF_BYTES),
            Entry("other.pdf", PDF_BYTES, crc=zlib.crc32(PDF_BYTES) ^ 1),
        ]
    )
    response = api_post(login(tenant_a.coordinator), tenant_a, ONE_ROW, docs)
    assert response.status_code == 201 and response.json()["status"] == "done", response.json()
    assert "other.pdf" not in reads["opened"]
    assert set(reads["opened"]) == {"lic.pdf"}


def test_an_outsider_cannot_import_a_zip_into_another_organization(
    tenant_a, tenant_b, login, _throttle
):
    response = api_post(login(tenant_b.owner), tenant_a, ONE_ROW, _bad_crc())
    assert response.status_code == 404
    nothing_written(tenant_a)


# --- the reported request: 40 entries of 19 MiB and a bad last row -------------------------------
def _padded_png(size: int, seed: int) -> bytes:
    """A real PNG padded to `size` bytes that compresses about 40:1 (under the bomb ratio)."""
    noise = hashlib.shake_256(seed.to_bytes(4, "big")).digest(1024)  # 1 KB that won't compress
    block = noise + bytes(40 * 1024 - len(noise))
    return (PNG_BYTES + block * (size // len(block) + 1))[:size]


def _forty_big_entries(size: int) -> tuple[bytes, list[str]]:
    entries = []
    for i in range(40):
        entries.append(Entry(f"doc{i}.png", _padded_png(size, i)))
    return raw_zip(entries), [e.name for e in entries]


def test_the_reported_zip_of_forty_19_mib_entries_is_refused_before_any_is_read(
    tenant_a, login, _throttle, reads
):
    """865 KB, 40 entries of 19 MiB each, 41 rows with the last invalid: held a request 84 s."""
    zeros = Entry("x", b"%PDF-1.4\n" + bytes(19 * 1024 * 1024 - 9))
    zeros.compressed = deflate(zeros.data)
    docs = raw_zip(
        [
            Entry(
                f"doc{i}.pdf", zeros.data, compressed=zeros.compressed, crc=zlib.crc32(zeros.data)
            )
            for i in range(40)
        ]
    )
    assert len(docs) < 1024 * 1024
    rows = [row(100 + i, document_file=f"doc{i}.pdf") for i in range(40)]
    rows.append(row(140, npi="123"))
    response = api_post(login(tenant_a.coordinator), tenant_a, csv_bytes(rows), docs)
    assert response.status_code == 400
    assert reads["bytes"] == 0 and reads["opened"] == []
    nothing_written(tenant_a)


def test_a_bad_row_refuses_the_file_before_any_document_is_decompressed(
    tenant_a, login, _throttle, settings, reads
):
    """The same shape under the bomb ratio: 40 named entries near the size limit."""
    settings.DOCUMENT_MAX_BYTES = 2 * 1024 * 1024
    docs, names = _forty_big_entries(2 * 1024 * 1024 - 4096)
    rows = [row(100 + i, document_file=name) for i, name in enumerate(names)]
    rows.append(row(140, npi="123"))  # the last row is invalid
    response = api_post(login(tenant_a.coordinator), tenant_a, csv_bytes(rows), docs)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "rejected"
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(42, "npi")]
    assert reads["bytes"] == 0 and reads["opened"] == []
    nothing_written(tenant_a, jobs=1)


def test_a_clean_file_reads_each_named_entry_and_no_other(
    tenant_a, login, _throttle, settings, reads
):
    settings.DOCUMENT_MAX_BYTES = 2 * 1024 * 1024
    size = 256 * 1024
    docs, names = _forty_big_entries(size)
    named = names[:3]  # 37 entries are in the ZIP but not in the CSV
    rows = [row(100 + i, document_file=name) for i, name in enumerate(named)]
    response = api_post(login(tenant_a.coordinator), tenant_a, csv_bytes(rows), docs)
    assert response.status_code == 201 and response.json()["status"] == "done", response.json()
    assert sorted(set(reads["opened"])) == named
    # Each named entry read twice (checked, then stored), never beyond its size.
    assert reads["bytes"] == 2 * size * len(named)


def test_reading_stops_at_the_total_budget_whatever_the_entries_declare(tenant_a, settings, reads):
    """The streaming budget holds even for archives that passed inspection."""
    from roster.importer import ArchiveRefused, DocumentArchive

    settings.IMPORT_MAX_ZIP_UNCOMPRESSED_BYTES = 300 * 1024
    docs, names = _forty_big_entries(256 * 1024)
    archive = DocumentArchive(zipfile.ZipFile(io.BytesIO(docs)))
    archive.read(names[0])
    with pytest.raises(ArchiveRefused, match="add up to more than"):
        archive.read(names[1])
    assert archive.bytes_read <= 300 * 1024 + 64 * 1024
    assert reads["bytes"] == archive.bytes_read


def test_the_inline_import_of_a_required_document_works_with_a_zip_built_by_hand(tenant_a):
    """The hand-built archives are real ZIPs: a clean one imports like any other."""
    with tenant_context(tenant_a.org):
        CredentialRequirement.objects.create(
            organization=tenant_a.org, provider_type="MD", kind="state_license",
            document_required=True,
        )  # fmt: skip
    from tests.test_import import run

    job = run(tenant_a, ONE_ROW, documents=raw_zip([Entry("lic.pdf", PDF_BYTES)]))
    assert job.status == ImportStatus.DONE, job.errors
    assert counts(tenant_a.org)["documents"] == 1
    assert valid_npi(1)
