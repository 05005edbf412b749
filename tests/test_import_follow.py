"""The setting "documents can follow a roster import": missing documents become requests."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from roster.models import (
    CredentialRequirement,
    InboxItem,
    InboxKind,
    Provider,
    ProviderStatus,
    UploadLink,
)
from tests.test_import import _api_post, _page, _throttle, counts, csv_bytes, row  # noqa: F401

pytestmark = pytest.mark.usefixtures("_throttle")


def _require_documents(tenant, *kinds):
    with tenant_context(tenant.org):
        for kind in kinds:
            CredentialRequirement.objects.create(
                organization=tenant.org, provider_type="MD", kind=kind, document_required=True
            )


def _turn_on(tenant, login):
    """The owner turns the setting on through the settings page (audited)."""
    client = login(tenant.owner)
    response = client.post(
        f"/o/{tenant.org.slug}/settings/",
        {
            "name": tenant.org.name,
            "recredentialing_cycle_months": "36",
            "psv_validity_days": "120",
            "import_documents_can_follow": "on",
        },
    )
    assert response.status_code == 302
    tenant.org.refresh_from_db()
    assert tenant.org.import_documents_can_follow
    with tenant_context(tenant.org):
        event = AuditEvent.objects.get(organization=tenant.org, action="org.settings.changed")
    assert event.data["changes"]["import_documents_can_follow"] == {"from": False, "to": True}


def _requests(org):
    with tenant_context(org):
        items = list(
            InboxItem.objects.filter(organization=org, kind=InboxKind.DOCUMENT_REQUESTED)
            .select_related("provider", "credential")
            .order_by("key")
        )
        links = list(UploadLink.objects.filter(organization=org).select_related("provider"))
        actions = list(AuditEvent.objects.filter(organization=org).values_list("action", flat=True))
    return items, links, actions


def test_with_the_setting_off_missing_documents_reject_the_file_as_before(tenant_a, login):
    _require_documents(tenant_a, "state_license")
    body = _api_post(login(tenant_a.coordinator), tenant_a, csv_bytes([row(401)])).json()
    assert body["status"] == "rejected"
    assert [g["rule"] for g in body["error_groups"]] == ["document_required"]
    items, links, _ = _requests(tenant_a.org)
    assert counts(tenant_a.org)["providers"] == 0 and items == [] and links == []


def test_with_the_setting_on_the_page_imports_applicants_and_requests_each_document(
    tenant_a, login, mailoutbox, django_capture_on_commit_callbacks
):
    _require_documents(tenant_a, "state_license", "dea")
    _turn_on(tenant_a, login)
    client = login(tenant_a.coordinator)
    data = csv_bytes([row(402), row(403, email="")])  # no ZIP; the second has no e-mail
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_page(tenant_a), {"file": SimpleUploadedFile("t.csv", data)})
    html = client.get(response["Location"]).content.decode()
    assert "Imported 2 rows" in html
    assert "4 documents requested" in html and "1 upload link" in html
    with tenant_context(tenant_a.org):
        providers = {p.last_name: p for p in Provider.objects.filter(organization=tenant_a.org)}
    assert {p.status for p in providers.values()} == {ProviderStatus.APPLICANT}
    items, links, actions = _requests(tenant_a.org)
    assert sorted((i.provider.last_name, i.requested_document_label) for i in items) == [
        ("Lee402", "DEA registration"),
        ("Lee402", "License"),
        ("Lee403", "DEA registration"),
        ("Lee403", "License"),
    ]
    # The license row's credential is the one the license request is about.
    assert {i.credential.kind for i in items if i.credential} == {"state_license"}
    [link] = links
    assert link.provider.last_name == "Lee402" and sorted(link.requested_kinds) == [
        "dea",
        "license",
    ]
    [mail] = [m for m in mailoutbox if "upload" in m.subject]
    assert mail.to == ["ann402@clinic.example"]
    assert actions.count("roster.inbox.item.created") == 4
    assert actions.count("roster.upload_link.created") == 1
    assert "roster.import.completed" in actions
    inbox = client.get(f"/o/{tenant_a.org.slug}/inbox/?kind=document_requested")
    assert inbox.status_code == 200 and b"Document requested" in inbox.content


def test_with_the_setting_on_the_api_imports_a_row_naming_a_file_without_a_zip(
    tenant_a, login, mailoutbox, django_capture_on_commit_callbacks
):
    _require_documents(tenant_a, "state_license")
    _turn_on(tenant_a, login)
    client = login(tenant_a.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = _api_post(client, tenant_a, csv_bytes([row(404, document_file="lee.pdf")]))
    body = response.json()
    assert response.status_code == 201 and body["status"] == "done", body
    items, links, _ = _requests(tenant_a.org)
    assert [i.requested_document_label for i in items] == ["License"]
    assert [link.requested_kinds for link in links] == [["license"]]
    assert [m.to for m in mailoutbox if "upload" in m.subject] == [["ann404@clinic.example"]]
    with tenant_context(tenant_a.org):
        event = AuditEvent.objects.get(organization=tenant_a.org, action="roster.import.completed")
    assert event.data["documents_requested"] == 1 and event.data["upload_links"] == 1


def test_with_the_setting_on_a_field_error_still_rejects_everything(
    tenant_a, login, mailoutbox, django_capture_on_commit_callbacks
):
    _require_documents(tenant_a, "state_license", "dea")
    _turn_on(tenant_a, login)
    client = login(tenant_a.coordinator)
    data = csv_bytes([row(405), row(406, credential_state="XX")])
    with django_capture_on_commit_callbacks(execute=True):
        body = _api_post(client, tenant_a, data).json()
    assert body["status"] == "rejected"
    assert [g["rule"] for g in body["error_groups"]] == ["column:credential_state"]
    items, links, actions = _requests(tenant_a.org)
    assert counts(tenant_a.org)["providers"] == 0 and items == [] and links == []
    assert "roster.inbox.item.created" not in actions and mailoutbox == []


def test_only_owners_and_admins_change_the_setting_through_the_api(tenant_a, login):
    import json

    def patch(user, value):
        return login(user).generic(
            "PATCH",
            "/api/v1/organization",
            json.dumps({"import_documents_can_follow": value}),
            content_type="application/json",
            HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug,
        )

    assert patch(tenant_a.coordinator, True).status_code == 403
    tenant_a.org.refresh_from_db()
    assert not tenant_a.org.import_documents_can_follow
    response = patch(tenant_a.admin, True)
    assert response.status_code == 200 and response.json()["import_documents_can_follow"]
    with tenant_context(tenant_a.org):
        event = AuditEvent.objects.get(organization=tenant_a.org, action="org.settings.changed")
    assert event.data["changes"] == {"import_documents_can_follow": {"from": False, "to": True}}
