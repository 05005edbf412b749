"""Reads of provider data are audited (issue 9, item 11).

The rule (roster.services.providers.provider_record_read): a successful response that shows
one provider's file, or any part of it, records exactly one `roster.provider.viewed` naming
that provider; a list records exactly one `roster.provider.list_viewed` naming the providers
on the page; a 404 or 403 records nothing. The event data names the part and the channel,
never a value from the file.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from roster.models import Credential
from tests.factories import make_provider, populate_every_tenant_table
from verifications.models import CredentialPackage, ExtractionSuggestion, ReverificationPacket

pytestmark = pytest.mark.django_db


def head(org) -> int:
    with tenant_context(org):
        last = AuditEvent.objects.filter(organization=org).order_by("-seq").first()
    return last.seq if last else 0


def written_since(org, seq) -> list[AuditEvent]:
    with tenant_context(org):
        return list(AuditEvent.objects.filter(organization=org, seq__gt=seq).order_by("seq"))


def page(tenant, name, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": tenant.org.slug, **kwargs})


def api_get(client, tenant, path):
    return client.get(f"/api/v1/{path}", HTTP_X_CREDEX_ORGANIZATION=tenant.org.slug)


@pytest.fixture
def world(tenant_a):
    """One provider with one row of everything (credential, extraction, packet, package...)."""
    provider = populate_every_tenant_table(tenant_a, seed=11)
    with tenant_context(tenant_a.org):
        return {
            "provider": provider,
            "credential": Credential.objects.get(provider=provider),
            "suggestion": ExtractionSuggestion.objects.get(document__provider=provider),
            "packet": ReverificationPacket.objects.get(provider=provider),
            "package": CredentialPackage.objects.get(provider=provider),
        }


def assert_one_read(tenant, before, provider, *, part, via, user):
    """Exactly one event was written by the response: the read of `provider`, by `user`."""
    (event,) = written_since(tenant.org, before)
    assert event.action == "roster.provider.viewed"
    assert event.target_type == "roster.provider" and event.target_id == str(provider.pk)
    assert event.data == {"part": part, "via": via}
    assert (event.actor_kind, event.actor_id, event.actor_label) == (
        "member",
        str(user.pk),
        user.email,
    )


def test_api_reads_of_an_extraction_a_packet_and_a_package_each_record_one_read(
    tenant_a, world, login
):
    client = login(tenant_a.coordinator)
    for path, part in (
        (f"extractions/{world['suggestion'].pk}", "extraction"),
        (f"packets/{world['packet'].pk}", "packet"),
        (f"packages/{world['package'].pk}", "package"),
    ):
        before = head(tenant_a.org)
        response = api_get(client, tenant_a, path)
        assert response.status_code == 200, (path, response.content)
        assert_one_read(
            tenant_a, before, world["provider"], part=part, via="api", user=tenant_a.coordinator
        )


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("provider_edit", "edit form"),
        ("credential_new", "credential form"),
        ("enrollment_provider", "enrollments"),
        ("committee_provider", "committee"),
        ("nppes_provider", "nppes"),
        ("psv_verify", "verification form"),
    ],
)
def test_provider_pages_each_record_one_read(tenant_a, world, login, name, part):
    client = login(tenant_a.coordinator)
    provider = world["provider"]
    before = head(tenant_a.org)
    response = client.get(page(tenant_a, name, provider_id=provider.pk))
    assert response.status_code == 200
    assert_one_read(tenant_a, before, provider, part=part, via="web", user=tenant_a.coordinator)


def test_the_credential_edit_form_records_a_read_of_that_credential(tenant_a, world, login):
    client = login(tenant_a.coordinator)
    provider, credential = world["provider"], world["credential"]
    before = head(tenant_a.org)
    response = client.get(
        page(tenant_a, "credential_edit", provider_id=provider.pk, credential_id=credential.pk)
    )
    assert response.status_code == 200
    assert_one_read(
        tenant_a,
        before,
        provider,
        part=f"credential:{credential.pk}",
        via="web",
        user=tenant_a.coordinator,
    )


def test_the_provider_list_api_records_one_event_naming_exactly_the_providers_on_the_page(
    tenant_a, login
):
    providers = [make_provider(tenant_a.org, seed=20 + i) for i in range(3)]
    client = login(tenant_a.coordinator)
    before = head(tenant_a.org)
    response = api_get(client, tenant_a, "providers?page_size=2")
    assert response.status_code == 200
    shown = [p["id"] for p in response.json()["results"]]
    assert len(shown) == 2 and set(shown) < {str(p.pk) for p in providers}
    (event,) = written_since(tenant_a.org, before)
    assert event.action == "roster.provider.list_viewed"
    assert event.target_type == "roster.provider" and event.target_id == ""
    assert event.data == {"part": "list", "via": "api", "count": 2, "providers": shown}
    assert event.actor_label == tenant_a.coordinator.email
    # No value from the file (the list carries ssn_last4, e-mail, phone, address) is logged.
    assert set(event.data) == {"part", "via", "count", "providers"}


def test_the_provider_list_page_records_one_event_naming_the_providers_shown(tenant_a, login):
    providers = [make_provider(tenant_a.org, seed=30 + i) for i in range(3)]
    client = login(tenant_a.coordinator)
    before = head(tenant_a.org)
    response = client.get(page(tenant_a, "providers"), {"q": providers[0].last_name})
    assert response.status_code == 200
    (event,) = written_since(tenant_a.org, before)
    assert event.action == "roster.provider.list_viewed"
    assert event.data == {
        "part": "list",
        "via": "web",
        "count": 1,
        "providers": [str(providers[0].pk)],
    }


def test_an_empty_list_shows_no_provider_and_records_nothing(tenant_a, login):
    client = login(tenant_a.coordinator)
    before = head(tenant_a.org)
    assert api_get(client, tenant_a, "providers").json()["results"] == []
    assert client.get(page(tenant_a, "providers")).status_code == 200
    assert written_since(tenant_a.org, before) == []


def test_another_organizations_provider_is_404_and_no_read_is_recorded(
    tenant_a, tenant_b, world, login
):
    """Org B's ids through org A's URLs (and org A's through org B's) answer 404, silently."""
    foreign = populate_every_tenant_table(tenant_b, seed=12)
    with tenant_context(tenant_b.org):
        foreign_ids = {
            "suggestion": ExtractionSuggestion.objects.get(document__provider=foreign).pk,
            "packet": ReverificationPacket.objects.get(provider=foreign).pk,
            "package": CredentialPackage.objects.get(provider=foreign).pk,
            "credential": Credential.objects.get(provider=foreign).pk,
        }
    client = login(tenant_a.coordinator)
    before_a, before_b = head(tenant_a.org), head(tenant_b.org)
    for path in (
        f"extractions/{foreign_ids['suggestion']}",
        f"packets/{foreign_ids['packet']}",
        f"packages/{foreign_ids['package']}",
        f"providers/{foreign.pk}",
    ):
        assert api_get(client, tenant_a, path).status_code == 404, path
    for name in (
        "provider_edit",
        "credential_new",
        "enrollment_provider",
        "committee_provider",
        "nppes_provider",
        "psv_verify",
    ):
        assert client.get(page(tenant_a, name, provider_id=foreign.pk)).status_code == 404, name
    url = page(
        tenant_a, "credential_edit", provider_id=foreign.pk, credential_id=foreign_ids["credential"]
    )
    assert client.get(url).status_code == 404
    assert written_since(tenant_a.org, before_a) == []
    assert written_since(tenant_b.org, before_b) == []


def test_a_refused_read_403_records_nothing(tenant_a, world, login):
    """The auditor reads the roster but not the edit forms (roster.change): 403, no event."""
    client = login(tenant_a.auditor)
    before = head(tenant_a.org)
    for name in ("provider_edit", "credential_new", "psv_verify"):
        response = client.get(page(tenant_a, name, provider_id=world["provider"].pk))
        assert response.status_code == 403, name
    assert written_since(tenant_a.org, before) == []


def test_a_worklist_names_each_provider_on_its_page_once_and_no_other(tenant_a, login):
    """Two enrollments of one provider and one of another: the page names the two providers,
    once each, in the order shown; a provider off the page is not named."""
    from enrollment.models import Enrollment, Payer

    first, second, absent = (make_provider(tenant_a.org, seed=50 + i) for i in range(3))
    with tenant_context(tenant_a.org):
        payers = [Payer.objects.create(organization=tenant_a.org, name=f"Plan {i}") for i in "AB"]
        for provider, payer in ((first, payers[0]), (first, payers[1]), (second, payers[0])):
            Enrollment.objects.create(organization=tenant_a.org, provider=provider, payer=payer)
    client = login(tenant_a.coordinator)
    before = head(tenant_a.org)
    response = api_get(client, tenant_a, "enrollments")
    assert response.status_code == 200
    shown = list(dict.fromkeys(e["provider"] for e in response.json()["results"]))
    (event,) = written_since(tenant_a.org, before)
    assert event.action == "roster.provider.list_viewed"
    assert event.data["providers"] == shown and event.data["count"] == 2
    assert sorted(shown) == sorted([str(first.pk), str(second.pk)])
    assert str(absent.pk) not in event.data["providers"]
