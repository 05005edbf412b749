"""manage.py nppes_refresh and nppes_lookup against the loopback registry."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from tests.fixtures_nppes import FakeNppes, individual, sample, use_fake
from tests.test_nppes_refresh import add_provider, mismatches


@pytest.fixture
def fake(settings):
    server = FakeNppes().start()
    use_fake(settings, server, retries=0)
    yield server
    server.stop()


def test_nppes_refresh_checks_the_organization_and_prints_counts(tenant_a, fake):
    p1, p2 = add_provider(tenant_a, seed=1), add_provider(tenant_a, seed=2)
    fake.answer(p1.npi, individual(p1.npi, last="SMITH"))
    fake.answer(p2.npi, individual(p2.npi))
    out = io.StringIO()
    call_command("nppes_refresh", "--org", tenant_a.org.slug, stdout=out)
    assert "2 checked" in out.getvalue() and "1 mismatches opened" in out.getvalue()
    assert [m.field for m in mismatches(tenant_a)] == ["name"]


def test_nppes_refresh_of_one_npi_asks_only_for_it(tenant_a, fake):
    p1, p2 = add_provider(tenant_a, seed=1), add_provider(tenant_a, seed=2)
    fake.answer(p2.npi, individual(p2.npi))
    call_command("nppes_refresh", "--org", tenant_a.org.slug, "--npi", p2.npi, stdout=io.StringIO())
    assert fake.count() == 1 and fake.count(p2.npi) == 1
    with pytest.raises(CommandError, match="No provider"):
        call_command("nppes_refresh", "--org", tenant_a.org.slug, "--npi", "1234567893")
    with pytest.raises(CommandError, match="No organization"):
        call_command("nppes_refresh", "--org", "nope")
    assert p1.npi != p2.npi


def test_nppes_lookup_prints_the_record_and_audits_the_call(tenant_a, fake):
    fake.answer("1760485387", sample("individual_2022_two_taxonomies_npi1760485387"))
    out = io.StringIO()
    call_command("nppes_lookup", "1760485387", "--org", tenant_a.org.slug, stdout=out)
    text = out.getvalue()
    assert "Paul R. Dewey" in text and "207R00000X Internal Medicine (primary)" in text
    assert "license MN 43634" in text and "55767" in text
    with tenant_context(tenant_a.org):
        event = AuditEvent.objects.get(action="nppes.lookup")
    assert event.source == "NPPES" and event.actor_label == "nppes"
    with pytest.raises(CommandError, match="10 digits"):
        call_command("nppes_lookup", "12345")
