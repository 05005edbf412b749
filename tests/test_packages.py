"""Credential packages: the builder (page count, bookmarks, every section, missing elements,
images as pages, damaged files, checksum), the service's audit trail, and a real worker."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfReader

from audit.models import AuditEvent
from committee.models import CommitteeReview
from credex.tenancy import tenant_context
from tests.factories import jpeg_bytes, make_provider, pdf_bytes, png_bytes
from verifications.models import CredentialPackage, PackageStatus

pytestmark = pytest.mark.django_db


def text_pdf(title: str, pages: int = 1) -> bytes:
    """A PDF with real text on each page (WeasyPrint), like a scanned-in license."""
    from weasyprint import HTML

    body = "".join(
        f"<section style='page-break-after:always'><h1>{title}</h1><p>Page {i + 1}</p></section>"
        for i in range(pages)
    )
    return HTML(string=f"<html><body>{body}</body></html>").write_pdf()


def upload(org, member, provider, kind, data, name, credential=None, accept=True):
    from roster.services.documents import document_upload

    return document_upload(
        org=org,
        actor=member,
        provider=provider,
        kind=kind,
        file=SimpleUploadedFile(name, data),
        filename=name,
        credential=credential,
        accept=accept,
    )


def rich_provider(tenant, *, seed=7001, documents=True, verify=True):
    """A provider with credentials, requirements, verifications, screening, NPPES, a committee
    decision and accepted documents (PDFs and an image), built through the services."""
    from roster.services.providers import credential_create
    from roster.services.requirements import requirement_set_for_type
    from tests.factories import populate_nppes, populate_screening
    from verifications.services.records import verification_record

    org = tenant.org
    owner = tenant.membership(tenant.owner)
    provider = make_provider(
        org,
        seed=seed,
        first_name="Maria",
        last_name=f"Alvarez{seed}",
        practice_states=["CA", "NV"],
        primary_taxonomy_id=None,
    )
    with tenant_context(org):
        requirement_set_for_type(
            org=org,
            actor=owner,
            provider_type="MD",
            required={"state_license": True, "dea": False, "board_cert": False},
        )
        license_ca = credential_create(
            org=org,
            actor=owner,
            provider=provider,
            kind="state_license",
            state="CA",
            number="A123456",
            issuer="Medical Board of California",
            issue_date=date(2020, 1, 15),
            expiry_date=timezone.localdate() + timedelta(days=400),
            status="active",
        )
        dea = credential_create(
            org=org,
            actor=owner,
            provider=provider,
            kind="dea",
            number="BA1234563",
            state="CA",
            expiry_date=timezone.localdate() + timedelta(days=200),
            status="active",
        )
        if verify:
            verification_record(
                org=org,
                actor=owner,
                provider=provider,
                credential=license_ca,
                source="state_board",
                source_state="CA",
                source_name="Medical Board of California",
                method="web",
                result="verified",
                reference="https://search.dca.ca.gov/",
            )
        populate_screening(org, provider, owner)
        populate_nppes(org, provider, owner)
        CommitteeReview.objects.create(
            organization=org,
            provider=provider,
            cycle="initial",
            meeting_date=date(2026, 10, 1),
            decision="approved",
            decision_date=date(2026, 10, 1),
        )
        if documents:
            upload(
                org,
                owner,
                provider,
                "license",
                text_pdf("Medical license", 2),
                "lic.pdf",
                credential=license_ca,
            )
            upload(
                org, owner, provider, "dea", text_pdf("DEA registration"), "dea.pdf", credential=dea
            )
            upload(org, owner, provider, "cv", png_bytes(40, 60), "cv.png")
            upload(org, owner, provider, "attestation", jpeg_bytes(30, 20), "att.jpg")
            # Not accepted: never in a package.
            upload(org, owner, provider, "malpractice", pdf_bytes(3), "m.pdf", accept=False)
    return provider


def build(tenant, provider):
    from verifications.services.packages import package_build, package_request

    with tenant_context(tenant.org):
        package = package_request(
            org=tenant.org, actor=tenant.membership(tenant.coordinator), provider=provider
        )
        package_build(org=tenant.org, package_id=package.pk)
        package.refresh_from_db()
    return package


def read(package) -> PdfReader:
    with package.file.open("rb") as fh:
        return PdfReader(io.BytesIO(fh.read()))


def front_text(reader: PdfReader, pages: int) -> str:
    return "\n".join(reader.pages[i].extract_text() for i in range(pages))


def outline_titles(reader: PdfReader) -> list:
    def walk(items):
        out = []
        for item in items:
            if isinstance(item, list):
                out.append(walk(item))
            else:
                out.append(item.title)
        return out

    return walk(reader.outline)


# --- the builder ----------------------------------------------------------------------------
def test_a_package_has_every_section_as_a_bookmark_and_the_documents_under_documents(tenant_a):
    provider = rich_provider(tenant_a)
    package = build(tenant_a, provider)
    assert package.status == PackageStatus.READY, package.error
    reader = read(package)
    titles = outline_titles(reader)
    assert titles[:7] == [
        "Cover",
        "Contents",
        "Credentials summary",
        "Primary-source verification log",
        "Screening status",
        "Committee decision",
        "Documents",
    ]
    assert titles[7] == [
        "License — CA A123456",
        "DEA registration — CA BA1234563",
        "Curriculum vitae",
        "Attestation / release",
    ]
    assert [s["title"] for s in package.sections if s["level"] == 1] == titles[:7]


def test_page_count_is_the_front_matter_plus_every_attached_page(tenant_a):
    provider = rich_provider(tenant_a)
    package = build(tenant_a, provider)
    reader = read(package)
    documents_page = next(s["page"] for s in package.sections if s["title"] == "Documents")
    front = documents_page - 1
    # license 2 pages + DEA 1 page + two images of one page each; the unaccepted PDF is out.
    assert package.page_count == len(reader.pages) == front + 2 + 1 + 1 + 1
    # Each bookmark points at the page the sections list says.
    for item, section in zip(reader.outline, package.sections, strict=False):
        if not isinstance(item, list):
            assert reader.get_destination_page_number(item) + 1 == section["page"]


def test_the_front_matter_names_the_provider_and_shows_every_section_heading(tenant_a):
    provider = rich_provider(tenant_a)
    package = build(tenant_a, provider)
    reader = read(package)
    documents_page = next(s["page"] for s in package.sections if s["title"] == "Documents")
    text = front_text(reader, documents_page - 1)
    for heading in (
        "Credential package",
        "Missing required elements",
        "Contents",
        "Credentials summary",
        "Primary-source verification log",
        "Screening status",
        "Committee decision",
    ):
        assert heading in text, heading
    assert provider.full_name in text
    assert provider.npi in text
    assert "Acme Health" in text
    assert "Medical Board of California" in text  # the PSV log row
    assert "OIG LEIE" in text and "SAM.gov" in text and "NPPES" in text
    assert "Approved" in text
    assert f"of {package.page_count}" in text  # "Page X of Y" over the whole package
    assert str(package.pk) in text
    # The attached license's own text is there too, after the front matter.
    assert "Medical license" in reader.pages[documents_page - 1].extract_text()


def test_missing_required_elements_are_listed_on_the_cover(tenant_a):
    provider = rich_provider(tenant_a, documents=False, verify=False)
    package = build(tenant_a, provider)
    messages = [m["message"] for m in package.missing]
    # NV is a practice state without a license; the license document is required.
    assert "No current state license for NV." in messages
    assert "State license: no document on file." in messages
    # Elements without a current primary-source verification.
    assert any(m.startswith("State license (CA) A123456: no primary-source") for m in messages)
    assert any(m.startswith("NPPES NPI Registry: no check") for m in messages)
    cover = read(package).pages[0].extract_text()
    assert "No current state license for NV." in cover
    assert "no primary-source verification" in cover
    assert "Documents" not in [s["title"] for s in package.sections]


def test_images_become_one_letter_page_each(tenant_a):
    provider = make_provider(tenant_a.org, seed=7100)
    owner = tenant_a.membership(tenant_a.owner)
    with tenant_context(tenant_a.org):
        upload(tenant_a.org, owner, provider, "cv", png_bytes(1200, 300), "wide.png")
        upload(tenant_a.org, owner, provider, "diploma", jpeg_bytes(300, 2000), "tall.jpg")
    package = build(tenant_a, provider)
    reader = read(package)
    first = next(s["page"] for s in package.sections if s["title"] == "Documents")
    assert package.page_count == first + 1
    for page in reader.pages[first - 1 :]:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (612, 792)
        assert page.images, "the image is drawn on the page"


def test_a_damaged_pdf_is_listed_as_not_included_and_the_package_still_builds(tenant_a):
    provider = make_provider(tenant_a.org, seed=7200)
    owner = tenant_a.membership(tenant_a.owner)
    with tenant_context(tenant_a.org):
        good = upload(tenant_a.org, owner, provider, "cv", pdf_bytes(2), "cv.pdf")
        bad = upload(tenant_a.org, owner, provider, "license", pdf_bytes(1), "lic.pdf")
        # The stored bytes go bad after upload (disk damage, a truncated copy).
        with open(bad.file.path, "wb") as fh:
            fh.write(b"%PDF-1.7\n garbage without any objects")
    package = build(tenant_a, provider)
    assert package.status == PackageStatus.READY
    messages = [m["message"] for m in package.missing]
    assert (
        "License (lic.pdf) could not be included: the file is damaged or unreadable. "
        "Upload a new copy." in messages
    )
    assert [s["title"] for s in package.sections if s["level"] == 2] == ["Curriculum vitae"]
    reader = read(package)
    assert "could not be included" in reader.pages[0].extract_text()
    assert good.pk  # the good one is attached: 2 pages after the front matter
    first = next(s["page"] for s in package.sections if s["title"] == "Documents")
    assert package.page_count == first + 1


def test_the_stored_sha256_and_size_match_the_file(tenant_a):
    package = build(tenant_a, rich_provider(tenant_a))
    with package.file.open("rb") as fh:
        data = fh.read()
    assert package.sha256 == hashlib.sha256(data).hexdigest()
    assert package.size == len(data)
    assert package.file.name == f"packages/{tenant_a.org.pk}/{package.provider_id}/{package.pk}.pdf"


def test_request_and_build_are_audited_with_the_checksum_and_pages(tenant_a):
    package = build(tenant_a, rich_provider(tenant_a))
    with tenant_context(tenant_a.org):
        events = {
            e.action: e
            for e in AuditEvent.objects.filter(organization=tenant_a.org, target_id=str(package.pk))
        }
    assert events["verifications.package.requested"].actor_kind == "member"
    built = events["verifications.package.built"]
    assert built.actor_kind == "system"
    assert built.data["sha256"] == package.sha256
    assert built.data["pages"] == package.page_count


def test_a_build_that_raises_marks_the_package_failed_and_audits_it(tenant_a, monkeypatch):
    from verifications.packages import builder

    def boom(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(builder, "_render", boom)
    package = build(tenant_a, make_provider(tenant_a.org, seed=7300))
    assert package.status == PackageStatus.FAILED
    assert "renderer crashed" in package.error
    assert not package.file
    with tenant_context(tenant_a.org):
        assert AuditEvent.objects.filter(
            target_id=str(package.pk), action="verifications.package.failed"
        ).exists()
        assert not AuditEvent.objects.filter(
            target_id=str(package.pk), action="verifications.package.built"
        ).exists()


def test_building_twice_builds_once(tenant_a):
    from verifications.services.packages import package_build

    package = build(tenant_a, make_provider(tenant_a.org, seed=7400))
    sha = package.sha256
    with tenant_context(tenant_a.org):
        package_build(org=tenant_a.org, package_id=package.pk)
        package.refresh_from_db()
        built = AuditEvent.objects.filter(
            target_id=str(package.pk), action="verifications.package.built"
        ).count()
    assert package.sha256 == sha and built == 1


def test_an_auditor_cannot_request_a_package(tenant_a):
    from credex.errors import Forbidden
    from verifications.services.packages import package_request

    provider = make_provider(tenant_a.org, seed=7500)
    with tenant_context(tenant_a.org), pytest.raises(Forbidden):
        package_request(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.auditor), provider=provider
        )
    with tenant_context(tenant_a.org):
        assert not CredentialPackage.objects.filter(provider=provider).exists()


def test_every_page_renders_and_the_front_matter_is_not_blank(tenant_a, tmp_path):
    """Each page rasterizes (a viewer can show it); the cover carries ink. With
    PACKAGE_PREVIEW_DIR set, the PNGs are also written there to look at."""
    import pypdfium2 as pdfium

    package = build(tenant_a, rich_provider(tenant_a))
    out = os.environ.get("PACKAGE_PREVIEW_DIR") or str(tmp_path)
    with package.file.open("rb") as fh:
        data = fh.read()
    pdf = pdfium.PdfDocument(data)
    assert len(pdf) == package.page_count
    for i in range(len(pdf)):
        image = pdf[i].render(scale=1.0).to_pil().convert("L")
        image.save(os.path.join(out, f"page-{i + 1}.png"))
        if i == 0:
            darkest, _ = image.getextrema()
            assert darkest < 100  # text and the cover band are drawn, not a white page
