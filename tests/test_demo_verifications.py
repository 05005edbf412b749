"""The verification demo seeders used by `make run`: renewed licences uploaded through the real
service (their extraction is enqueued, nothing applied) and payer contacts; both idempotent."""

from __future__ import annotations

import pytest

from credex.tenancy import tenant_context
from demo.seeders.roster import seed_demo_roster
from demo.seeders.verifications import seed_demo_extractions, seed_demo_payer_contacts
from enrollment.models import PayerContact
from enrollment.services import payer_create
from roster.models import Document
from verifications.models import ExtractionSuggestion
from verifications.services.extraction import extraction_run

pytestmark = pytest.mark.django_db


def test_demo_renewals_are_uploaded_once_and_wait_for_review(
    tenant_a, django_capture_on_commit_callbacks
):
    owner = tenant_a.membership(tenant_a.owner)
    with tenant_context(tenant_a.org):
        seed_demo_roster(tenant_a.org, owner, count=30)
        with django_capture_on_commit_callbacks() as callbacks:
            uploaded = seed_demo_extractions(tenant_a.org, owner)
        assert uploaded == 3
        assert seed_demo_extractions(tenant_a.org, owner) == 0
        documents = list(Document.objects.filter(original_name__startswith="demo-renewal-"))
        assert len(documents) == 3 and len(callbacks) == 3  # one extraction each, on commit
        text_pdf = next(d for d in documents if d.content_type == "application/pdf")
        before = (text_pdf.credential.expiry_date, text_pdf.credential.number)
        suggestion = extraction_run(org=tenant_a.org, document=text_pdf)
        text_pdf.credential.refresh_from_db()
    assert suggestion.status == "pending"
    assert suggestion.fields["number"]["value"] == before[1]
    assert suggestion.fields["expiry_date"]["value"] > before[0].isoformat()  # the renewal
    assert (text_pdf.credential.expiry_date, text_pdf.credential.number) == before
    with tenant_context(tenant_a.org):
        assert ExtractionSuggestion.objects.count() == 1


def test_demo_payer_contacts_are_added_once_per_payer(tenant_a):
    owner = tenant_a.membership(tenant_a.owner)
    with tenant_context(tenant_a.org):
        payer_create(org=tenant_a.org, actor=owner, name="Cascade Medicare Advantage")
        assert seed_demo_payer_contacts(tenant_a.org, owner) == 1
        assert seed_demo_payer_contacts(tenant_a.org, owner) == 0
        (contact,) = PayerContact.objects.all()
    assert contact.email == "credentialing@cascade-medicare-advantage.example"


def test_demo_complete_files_are_ready_for_committee_and_seeded_once(tenant_a):
    from committee.selectors import provider_readiness
    from demo.seeders.roster import DEMO_FILE_PREFIX, seed_demo_complete_files
    from demo.seeders.verifications import seed_demo_verifications
    from roster.models import Provider

    owner = tenant_a.membership(tenant_a.owner)
    with tenant_context(tenant_a.org):
        seed_demo_roster(tenant_a.org, owner, count=80)
        seed_demo_verifications(tenant_a.org, owner)
        ready_before = [
            p
            for p in Provider.objects.all()
            if provider_readiness(org=tenant_a.org, provider=p).ready
        ]
        completed = seed_demo_complete_files(tenant_a.org, owner, count=3)
        assert seed_demo_complete_files(tenant_a.org, owner, count=3) == 0
        ready_after = [
            p
            for p in Provider.objects.all()
            if provider_readiness(org=tenant_a.org, provider=p).ready
        ]
        placeholders = Document.objects.filter(original_name__startswith=DEMO_FILE_PREFIX)
        assert {d.status for d in placeholders} == {"accepted"}
        assert not ExtractionSuggestion.objects.exists()  # placeholders are not read
    assert completed == 3
    assert len(ready_after) == len(ready_before) + 3
