"""The hook points are wired after app loading: each upstream hook has the downstream receiver
that DESIGN.md's layers expect, the dashboard's blocks are registered in their fixed order, and
a roster upload through its page reaches verifications through the hook (and a receiver's
refusal rolls the upload back)."""

from __future__ import annotations

import pytest

from billing import hooks as billing_hooks
from billing import receivers as billing_receivers
from committee import receivers as committee_receivers
from credex import dashboard
from credex.errors import Conflict
from credex.hooks import HookPoint
from credex.tenancy import tenant_context
from enrollment import receivers as enrollment_receivers
from exchange.receivers import listings as exchange_listing_receivers
from exchange.receivers import pricing as exchange_pricing_receivers
from exchange.receivers import releases as exchange_release_receivers
from roster import hooks as roster_hooks
from roster.models import Document
from screening import hooks as screening_hooks
from screening import selectors as screening_selectors
from screening.services import hooks as screening_receivers
from tests.factories import make_provider, pdf_bytes
from tests.test_documents import events, upload
from verifications import hooks as verifications_hooks
from verifications.selectors import queue as psv_queue
from verifications.services import hooks as verifications_receivers

EXPECTED = {
    roster_hooks.document_received: [verifications_receivers.document_received],
    roster_hooks.documents_imported: [verifications_receivers.documents_imported],
    roster_hooks.provider_screening_due: [screening_receivers.provider_screening_due],
    roster_hooks.roster_imported: [screening_receivers.roster_imported],
    roster_hooks.provider_flags: [screening_selectors.provider_flag_source],
    screening_hooks.run_screened: [verifications_receivers.run_screened],
    screening_hooks.nppes_checked: [verifications_receivers.nppes_checked],
    screening_hooks.sam_api_checked: [verifications_receivers.sam_api_checked],
    screening_hooks.sam_api_check_last: [verifications_receivers.sam_api_check_last],
    roster_hooks.contract_renewals: [enrollment_receivers.contract_renewals],
    roster_hooks.inbox_items_due: [exchange_release_receivers.inbox_items_due],
    verifications_hooks.package_committee_review: [committee_receivers.package_committee_review],
    verifications_hooks.payer_contacts: [enrollment_receivers.payer_contacts],
    screening_hooks.exclusion_confirmed: [exchange_listing_receivers.exclusion_confirmed],
    verifications_hooks.verification_superseded: [
        exchange_listing_receivers.verification_superseded
    ],
    roster_hooks.provider_seats_changed: [billing_receivers._seats_changed],
    billing_hooks.exchange_fee_rule: [exchange_pricing_receivers.exchange_fee_rule],
}


def _declared(module) -> list[HookPoint]:
    return [v for v in vars(module).values() if isinstance(v, HookPoint)]


@pytest.mark.parametrize("hook", list(EXPECTED), ids=lambda h: h.name)
def test_each_hook_point_has_its_downstream_receiver_after_app_loading(hook):
    assert list(hook.receivers) == EXPECTED[hook]


def test_every_declared_hook_point_is_expected_and_documented_where_it_is_declared():
    declared = _declared(roster_hooks) + _declared(screening_hooks)
    declared += _declared(verifications_hooks) + _declared(billing_hooks)
    assert set(declared) == set(EXPECTED)
    for hook in declared:
        doc = hook.__doc__ or ""
        # What it passes, in which transaction, what a receiver may do, who receives it.
        for part in ("Passes", "transaction", "receiver", "Receivers:"):
            assert part in doc, (hook.name, part)


def test_the_dashboard_blocks_are_registered_by_their_apps_in_a_fixed_order():
    names = [b.name for b in dashboard.blocks()]
    assert names == [
        "counts",
        "providers",
        "expiring",
        "recred",
        "caqh",
        "psv",
        "enrollments",
        "screening",
        "documents",
        "chart",
        "mine",
        "start_here",
        "flagged",
    ]
    by_name = {b.name: b for b in dashboard.blocks()}
    assert by_name["psv"].build is psv_queue.dashboard_psv_block
    assert by_name["screening"].build is screening_selectors.dashboard_screening_block


def test_a_licence_uploaded_on_the_page_reaches_verifications_through_the_hook(
    tenant_a, login, django_capture_on_commit_callbacks
):
    provider = make_provider(tenant_a.org, seed=41)
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(login(tenant_a.coordinator), tenant_a, provider, pdf_bytes())
    assert response.status_code in (200, 302)
    # verifications' receiver queued the extraction of the licence for after the commit.
    assert [c for c in callbacks if "extraction" in getattr(c, "__qualname__", "")]


def test_a_receiver_that_refuses_rolls_the_upload_back(tenant_a, login):
    provider = make_provider(tenant_a.org, seed=42)

    def refuse(*, org, document):
        raise Conflict("Not now.")

    roster_hooks.document_received.register(refuse)
    try:
        response = upload(login(tenant_a.coordinator), tenant_a, provider, pdf_bytes())
    finally:
        roster_hooks.document_received.unregister(refuse)
    assert 400 <= response.status_code < 500
    with tenant_context(tenant_a.org):
        assert not Document.objects.filter(provider=provider).exists()
    assert not [e for e in events(tenant_a.org) if e.action == "roster.document.uploaded"]
