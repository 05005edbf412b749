"""Credential package build time: a provider with 10 attached PDFs (30 pages in all), built
through `package_build` (read the file, render the front matter with WeasyPrint, merge with
pypdf, write the outline, store with its sha256, audit) against the real database.

Target (issue 4): under 3 s. Prints the median and best of RUNS builds, pages and pages/s,
and a baseline measured in the same run: the same documents flattened the naive way (every
attached page rasterised at 150 dpi and re-embedded as an image page, as a "print to PDF"
merge would), to show what merging the PDFs as they are saves.

Runs in a scratch database it creates and drops, with files in a temporary folder.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credex.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402

from credex import dbsetup  # noqa: E402

RUNS = 5
# Pages of each of the 10 attached PDFs: 30 in all.
DOCUMENT_PAGES = [2, 3, 4, 3, 2, 3, 4, 3, 3, 3]
KINDS = ["license", "dea", "cds", "board_cert", "malpractice", "cv", "diploma", "attestation",
         "life_support", "license"]  # fmt: skip
TARGET_S = 3.0


def use_scratch_database() -> str:
    name = f"bench_package_{os.getpid()}"
    for alias in ("default", "owner"):
        settings.DATABASES[alias]["NAME"] = name
        connections[alias].settings_dict["NAME"] = name
    dbsetup.bootstrap(drop_first=True, verbosity=0)
    return name


def text_pdf(title: str, pages: int) -> bytes:
    """A document with real text and a table on each page (WeasyPrint), like a scanned-in
    license or a malpractice declarations page exported to PDF."""
    from weasyprint import HTML

    rows = "".join(f"<tr><td>Line {i}</td><td>Value {i * 7}</td></tr>" for i in range(18))
    body = "".join(
        f"<section style='page-break-after:always'><h1>{title}</h1><p>Page {n + 1} of {pages}."
        " Issued by the board; verify at the board's website.</p>"
        f"<table border=1>{rows}</table></section>"
        for n in range(pages)
    )
    return HTML(string=f"<html><body>{body}</body></html>").write_pdf()


def setup(org, membership):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from credex.tenancy import tenant_context
    from roster.models import Provider
    from roster.services.documents import document_upload
    from roster.services.providers import credential_create

    with tenant_context(org):
        provider = Provider.objects.create(
            organization=org,
            first_name="Bench",
            last_name="Provider",
            npi="1234567893",
            provider_type="MD",
            practice_states=["CA"],
            status="active",
        )
        credential_create(
            org=org, actor=membership, provider=provider, kind="state_license", state="CA",
            number="A1", expiry_date=None,
        )  # fmt: skip
        for i, (kind, pages) in enumerate(zip(KINDS, DOCUMENT_PAGES, strict=True)):
            document_upload(
                org=org,
                actor=membership,
                provider=provider,
                kind=kind,
                file=SimpleUploadedFile(f"doc{i}.pdf", text_pdf(f"Document {i + 1}", pages)),
                accept=True,
            )
    return provider


def build_once(org, membership, provider):
    from credex.tenancy import tenant_context
    from verifications.services.packages import package_build, package_request

    with tenant_context(org):
        package = package_request(org=org, actor=membership, provider=provider)
    start = time.perf_counter()
    with tenant_context(org):
        package_build(org=org, package_id=package.pk)
    elapsed = time.perf_counter() - start
    with tenant_context(org):
        package.refresh_from_db()
    assert package.status == "ready", package.error
    return elapsed, package


def naive_flatten(org, provider) -> float:
    """Baseline: front matter rendered once, then every attached page rasterised at 150 dpi
    and re-embedded as an image page."""
    import pypdfium2 as pdfium
    from PIL import Image

    from credex.tenancy import tenant_context
    from verifications.packages.builder import _render, load_attachments
    from verifications.selectors.packages import package_content

    start = time.perf_counter()
    with tenant_context(org):
        content = package_content(org=org, provider=provider)
        attachments, _ = load_attachments(content.documents)
        front = _render(content, "baseline", attachments, content.missing, None).write_pdf()
        images = []
        for document in content.documents:
            with document.file.open("rb") as fh:
                pdf = pdfium.PdfDocument(fh.read())
            for page in pdf:
                images.append(page.render(scale=150 / 72).to_pil().convert("RGB"))
        out = io.BytesIO()
        images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=150)
        assert len(front) and out.tell() and isinstance(images[0], Image.Image)
    return time.perf_counter() - start


def main() -> int:
    from credex.models import Membership, Role, User
    from credex.services import organization_create
    from credex.tenancy import tenant_context

    name = use_scratch_database()
    media = tempfile.TemporaryDirectory(prefix="bench-package-")
    settings.MEDIA_ROOT = media.name
    try:
        owner = User.objects.create_user(email="owner@bench-package.example", password=None)
        org = organization_create(name="Bench Package Clinic", owner=owner)
        user = User.objects.create_user(email="coord@bench-package.example", password=None)
        with tenant_context(org):
            membership = Membership.objects.create(
                organization=org, user=user, role=Role.COORDINATOR
            )
        membership.organization = org
        provider = setup(org, membership)
        build_once(org, membership, provider)  # warm-up: fonts, templates, imports
        times, package = [], None
        for _ in range(RUNS):
            elapsed, package = build_once(org, membership, provider)
            times.append(elapsed)
        median = statistics.median(times)
        attached = sum(DOCUMENT_PAGES)
        pages = package.page_count
        print(
            f"credential package: {len(DOCUMENT_PAGES)} attached PDFs ({attached} pages) + "
            f"{pages - attached} front-matter pages = {pages} pages, {package.size / 1024:.0f} KiB"
        )
        print(
            f"  package_build, {RUNS} runs: median {median:.2f} s   best {min(times):.2f} s   "
            f"{pages / median:.1f} pages/s"
        )
        baseline = naive_flatten(org, provider)
        print(
            f"  baseline (naive: rasterise every attached page at 150 dpi): {baseline:.2f} s "
            f"-> package_build is {baseline / median:.1f}x faster"
        )
        verdict = "meets" if median < TARGET_S else "MISSES"
        print(f"  target: under {TARGET_S:.0f} s -> {verdict}")
    finally:
        connections.close_all()
        dbsetup.drop_database(name)
        media.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
