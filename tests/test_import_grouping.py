"""Import errors grouped by rule: typos first with counts, documents once per provider."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from credex.tenancy import tenant_context
from roster.models import CredentialRequirement
from tests.test_import import _api_post, _page, _throttle, counts, csv_bytes, row  # noqa: F401

pytestmark = pytest.mark.usefixtures("_throttle")


def _require_documents(tenant, *kinds):
    with tenant_context(tenant.org):
        for kind in kinds:
            CredentialRequirement.objects.create(
                organization=tenant.org, provider_type="MD", kind=kind, document_required=True
            )


def _typos_and_missing_documents() -> bytes:
    # Four providers, none with a document; two typos (a bad NPI, an unknown state).
    return csv_bytes(
        [
            row(201),
            row(202, npi="1234567890"),
            row(203, credential_state="XX"),
            row(204, first_name="Ann", last_name="Lee"),
        ]
    )


def test_the_api_groups_typos_first_and_documents_once_per_provider(tenant_a, login):
    _require_documents(tenant_a, "state_license", "dea")
    client = login(tenant_a.coordinator)
    body = _api_post(client, tenant_a, _typos_and_missing_documents()).json()
    assert body["status"] == "rejected"
    assert body["error_count"] == 10  # 2 typos + 4 providers x 2 documents: the raw list stays
    assert len(body["errors"]) == 10
    groups = body["error_groups"]
    assert [g["rule"] for g in groups] == [
        "column:npi",
        "column:credential_state",
        "document_required",
    ]
    assert [g["count"] for g in groups] == [1, 1, 8]
    docs = groups[-1]
    assert docs["rows"] == 4 and len(docs["items"]) == 4
    lee = next(i for i in docs["items"] if i["row"] == 5)
    assert (
        lee["reason"]
        == "Row 5 (Ann Lee): needs a DEA registration document, a state license document."
    )
    assert lee["documents"] == ["DEA registration", "State license"]
    assert counts(tenant_a.org)["providers"] == 0


def test_a_group_shows_five_rows_and_keeps_the_rest_behind_a_click(tenant_a, login):
    client = login(tenant_a.coordinator)
    rows = [row(300 + i, credential_expiry_date="soon") for i in range(8)]
    body = _api_post(client, tenant_a, csv_bytes(rows)).json()
    (group,) = body["error_groups"]
    assert group["rule"] == "column:credential_expiry_date"
    assert group["count"] == 8 and group["rows"] == 8 and len(group["items"]) == 5
    html = client.get(f"{_page(tenant_a)}{body['id']}/").content.decode()
    assert "Show 3 more" in html and "<details" in html
    assert "Every problem, row by row (8)" in html


def test_the_import_page_shows_typos_first_and_documents_per_provider(tenant_a, login):
    _require_documents(tenant_a, "state_license", "dea")
    client = login(tenant_a.coordinator)
    response = client.post(
        _page(tenant_a),
        {"file": SimpleUploadedFile("team.csv", _typos_and_missing_documents())},
    )
    html = client.get(response["Location"]).content.decode()
    assert "Nothing was imported" in html and "10 problems" in html
    npi, state, docs = (
        html.index(s)
        for s in ("<code>npi</code>", "<code>credential_state</code>", "Required documents missing")
    )
    assert npi < state < docs
    assert '8</span> <span class="muted">documents for 4 providers' in html
    assert "Row 5 (Ann Lee): needs a DEA registration document, a state license document." in html
    assert html.count("needs a DEA registration document") == 4  # once per provider, not per doc
    assert "errors.csv" in html  # the raw list as a download
    assert "Every problem, row by row (10)" in html  # and expandable
