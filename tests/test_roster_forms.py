"""The roster pages' Django forms (roster/views/*_forms.py): what a browser posts is typed once,
a value that is not one is refused with the page's message, a 4xx and nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from credex.links import link_token
from credex.tenancy import tenant_context
from roster.models import Document, InboxItem, UploadLink
from roster.services import documents as documents_svc
from roster.services import inbox as inbox_svc
from roster.services.documents.links import UPLOAD_LINK
from roster.services.providers import credential_create
from tests.factories import make_provider, pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _generous_limits(settings, monkeypatch):
    # The counters live in the shared Redis: limits these tests cannot reach.
    settings.INVALID_UPLOAD_LINK_REQUESTS_PER_HOUR = 100_000
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


@pytest.fixture
def provider(tenant_a):
    return make_provider(
        tenant_a.org, seed=7, first_name="Rosa", last_name="Diaz", email="rosa.diaz@example.org"
    )


@pytest.fixture
def item(tenant_a, provider):
    today = timezone.localdate()
    with tenant_context(tenant_a.org):
        credential_create(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            provider=provider,
            kind="state_license",
            number="L-1",
            state="CA",
            issue_date=today - timedelta(days=700),
            expiry_date=today + timedelta(days=20),
        )
        inbox_svc.inbox_generate(org=tenant_a.org, today=today)
        return InboxItem.objects.get()


def audit_actions(tenant, prefix):
    with tenant_context(tenant.org):
        return list(
            AuditEvent.objects.filter(organization=tenant.org, action__startswith=prefix)
            .order_by("seq")
            .values_list("action", flat=True)
        )


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("abc", "Choose how many days to snooze."),
        ("", "Choose how many days to snooze."),
        ("9" * 30, "Snooze for 1 to 365 days."),
        ("0", "Snooze for 1 to 365 days."),
    ],
)
def test_snooze_days_that_are_not_a_day_count_are_refused_in_place(
    tenant_a, item, login, days, message
):
    client = login(tenant_a.coordinator)
    slug = tenant_a.org.slug
    one = client.post(f"/o/{slug}/inbox/{item.pk}/snooze/", {"days": days}, HTTP_HX_REQUEST="true")
    bulk = client.post(
        f"/o/{slug}/inbox/bulk/",
        {"action": "snooze", "days": days, "items": [str(item.pk)]},
        HTTP_HX_REQUEST="true",
    )
    assert (one.status_code, bulk.status_code) == (400, 400)
    assert message in one.content.decode() and message in bulk.content.decode()
    with tenant_context(tenant_a.org):
        assert InboxItem.objects.get().status == "open"
    assert audit_actions(tenant_a, "roster.inbox.item.") == []


def test_a_snooze_ignores_a_garbage_return_query_and_a_non_uuid_item(tenant_a, item, login):
    client = login(tenant_a.coordinator)
    response = client.post(
        f"/o/{tenant_a.org.slug}/inbox/bulk/",
        {"action": "snooze", "days": "7", "items": [str(item.pk), "not-a-uuid"], "q": "x" * 5000},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/o/{tenant_a.org.slug}/inbox/"
    with tenant_context(tenant_a.org):
        snoozed = InboxItem.objects.get()
    assert snoozed.status == "snoozed"
    assert snoozed.snoozed_until == timezone.localdate() + timedelta(days=7)


@pytest.mark.parametrize("days", ["abc", "9" * 30, "0", "-3"])
def test_an_upload_link_for_a_day_count_out_of_range_is_refused(tenant_a, provider, login, days):
    response = login(tenant_a.coordinator).post(
        f"/o/{tenant_a.org.slug}/documents/provider/{provider.pk}/links/",
        {"kinds": ["license"], "days": days},
    )
    assert response.status_code == 400
    assert "Choose from 1 to" in response.content.decode()
    with tenant_context(tenant_a.org):
        assert not UploadLink.objects.exists()


def test_an_unknown_coordinator_is_refused_with_the_page_message(tenant_a, provider, login):
    response = login(tenant_a.coordinator).post(
        f"/o/{tenant_a.org.slug}/providers/assign/",
        {"provider": [str(provider.pk)], "coordinator": "nobody", "return_query": "no-question"},
        follow=True,
    )
    assert response.redirect_chain[0][0] == f"/o/{tenant_a.org.slug}/providers/"
    assert "Choose a coordinator to assign." in response.content.decode()
    assert audit_actions(tenant_a, "roster.provider.updated") == []


def test_the_public_upload_page_refuses_a_kind_not_requested_and_a_missing_file(
    tenant_a, provider, client
):
    with tenant_context(tenant_a.org):
        link = documents_svc.upload_link_create(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.coordinator),
            provider=provider,
            kinds=["license"],
        )
    page = f"/u/{link_token(UPLOAD_LINK, link)}/"
    assert client.get(page).status_code == 200
    other = client.post(page, {"kind": "cv", "file": SimpleUploadedFile("a.pdf", pdf_bytes())})
    assert other.status_code == 400
    assert "Choose one of the requested documents and upload it again." in other.content.decode()
    missing = client.post(page, {"kind": "license"})
    assert missing.status_code == 400
    assert "Choose a file first (PDF, PNG or JPEG)." in missing.content.decode()
    with tenant_context(tenant_a.org):
        assert not Document.objects.exists()
    sent = client.post(page, {"kind": "license", "file": SimpleUploadedFile("a.pdf", pdf_bytes())})
    assert sent.status_code == 302
    with tenant_context(tenant_a.org):
        assert Document.objects.get().kind == "license"
