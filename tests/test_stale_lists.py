"""An exclusion list older than 45 days does not pass for current: the screening page, the
dashboard and each OIG/SAM verification on the provider file say so in red, and the credential
package's screening page says the list is older than a month."""

from __future__ import annotations

import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from credex.templatetags.credex_ui import format_date
from credex.tenancy import tenant_context
from screening.loaders import load_dataset
from screening.models import DatasetVersion
from screening.services import screening_run_now
from tests.factories import make_provider

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures_screening"
WARNING = re.compile(
    r'<p class="stale-list">.*?(OIG|SAM) list as of <time datetime="([\d-]+)">[^<]+</time>, '
    r"older than 45 days — load the current list</p>",
    re.S,
)


def load_lists(leie_age_days: int, sam_age_days: int) -> None:
    today = timezone.localdate()
    load_dataset(
        source="leie",
        origin=str(FIXTURES / "UPDATED_head_2026.csv"),
        as_of=today - timedelta(days=leie_age_days),
    )
    load_dataset(
        source="sam",
        origin=str(FIXTURES / "extract_v2_sample_2023-11.csv"),
        as_of=today - timedelta(days=sam_age_days),
    )


def warnings(body: str) -> dict[str, str]:
    return dict(WARNING.findall(body))


@pytest.fixture
def screened(tenant_a):
    """A provider screened against an OIG list 60 days old and a SAM list 10 days old."""
    load_lists(60, 10)
    provider = make_provider(tenant_a.org, seed=5, first_name="Zed", last_name="Nobodyhere")
    with tenant_context(tenant_a.org):
        screening_run_now(org=tenant_a.org)
    return provider


def oig_as_of() -> str:
    return DatasetVersion.objects.get(source="leie", is_active=True).as_of.isoformat()


def test_the_screening_page_says_in_red_that_the_oig_list_is_old(tenant_a, screened, login):
    body = login(tenant_a.coordinator).get(f"/o/{tenant_a.org.slug}/screening/").content.decode()
    assert warnings(body) == {"OIG": oig_as_of()}  # SAM is 10 days old: no warning


def test_the_dashboard_says_so_too(tenant_a, screened, login):
    body = login(tenant_a.coordinator).get(f"/o/{tenant_a.org.slug}/").content.decode()
    assert warnings(body) == {"OIG": oig_as_of()}


def test_each_oig_verification_on_the_provider_file_says_its_list_was_old(
    tenant_a, screened, login
):
    body = (
        login(tenant_a.coordinator)
        .get(f"/o/{tenant_a.org.slug}/providers/{screened.pk}/")
        .content.decode()
    )
    psv = body[body.index('id="provider-psv"') :]
    assert warnings(psv) == {"OIG": oig_as_of()}


def test_current_lists_raise_no_warning(tenant_a, login):
    load_lists(44, 0)
    make_provider(tenant_a.org, seed=6)
    with tenant_context(tenant_a.org):
        screening_run_now(org=tenant_a.org)
    client = login(tenant_a.coordinator)
    for url in (f"/o/{tenant_a.org.slug}/", f"/o/{tenant_a.org.slug}/screening/"):
        body = client.get(url).content.decode()
        assert "stale-list" not in body, url


def pdf_text(package) -> str:
    with package.file.open("rb") as fh:
        data = fh.read()
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    )
    return out.stdout.decode()


def test_the_package_screening_page_says_the_list_is_older_than_a_month(tenant_a, screened):
    from verifications.services.packages import package_build, package_request

    with tenant_context(tenant_a.org):
        package = package_request(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.coordinator), provider=screened
        )
        package_build(org=tenant_a.org, package_id=package.pk)
        package.refresh_from_db()
    text = " ".join(pdf_text(package).split())
    screening = text[text.index("Screening status") :]
    # The PDF shows dates in the product's one format (credex_ui.format_date).
    as_of = format_date(date.fromisoformat(oig_as_of()))
    assert f"list as of {as_of}, older than a month" in screening
    assert screening.count("older than a month") == 1  # SAM was current
