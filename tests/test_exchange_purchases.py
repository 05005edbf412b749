"""Purchases on the exchange (issue 12 item 6): every eligibility rule refuses with its own
code and writes nothing; the happy path through the page and the API copies the record with
its provenance and evidence into the buyer's file, posts one balanced journal entry and
audits both chains; replays, key reuse, two buyers, concurrent buyers; the copied record
counts in the committee's window from the original date; who may do what; hostile input."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from billing.models import JournalEntry, LedgerAccount, Posting
from credex.errors import Conflict, Forbidden, InvalidInput, NotFound
from credex.tenancy import platform_path, tenant_context
from exchange.models import (
    ClinicianRelease,
    Listing,
    MemberDirectory,
    Order,
    Receipt,
    RequirementRule,
    RequirementsProfile,
)
from exchange.services.purchases import purchase_make
from roster.models import Provider
from tests.conftest import build_tenant
from tests.exchange_fixtures import EVIDENCE_PDF, add_clinician, build_trade, make_member
from tests.test_api import make_key
from verifications.models import Verification, VerificationEvidence


@pytest.fixture(autouse=True)
def _generous_throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


@pytest.fixture
def seller(db):
    return build_tenant("Riverbend Health", "riverbend.example", roles=("admin",))


@pytest.fixture
def buyer(db):
    return build_tenant("Lakeside Clinic", "lakeside.example")


@pytest.fixture
def third(db):
    return build_tenant("Hillcrest Group", "hillcrest.example", roles=("coordinator",))


@pytest.fixture
def trade(seller, buyer):
    return build_trade(seller, buyer, seed=5151)


def buy(trade, *, key=None, reason="", tenant=None, actor=None, listing_id=None):
    tenant = tenant or trade.buyer
    actor = actor or tenant.membership(tenant.coordinator or tenant.owner)
    with tenant_context(tenant.org):
        return purchase_make(
            org=tenant.org,
            actor=actor,
            listing_id=listing_id or trade.listing.pk,
            idempotency_key=key or str(uuid.uuid4()),
            override_reason=reason,
        )


def purchase_entries() -> int:
    with transaction.atomic(), platform_path():
        return JournalEntry.objects.filter(kind="exchange_purchase").count()


def state(trade) -> dict:
    """What a purchase writes, on both sides."""
    with tenant_context(trade.buyer.org):
        buyer = {
            "orders": Order.objects.count(),
            "copies": Verification.objects.filter(method="exchange").count(),
            "evidence": VerificationEvidence.objects.count(),
            "receipts": Receipt.objects.count(),
            "postings": Posting.objects.count(),
            "audit": AuditEvent.objects.filter(
                organization=trade.buyer.org, action__startswith="exchange.order"
            ).count(),
        }
    with tenant_context(trade.seller.org):
        seller = {
            "sale_count": Listing.objects.get(pk=trade.listing.pk).sale_count,
            "postings": Posting.objects.count(),
            "audit": AuditEvent.objects.filter(
                organization=trade.seller.org, action__startswith="exchange.order"
            ).count(),
        }
    return {
        "buyer": buyer,
        "seller": seller,
        "trades": MemberDirectory.objects.get(member=trade.seller.org).trade_count,
        "entries": purchase_entries(),
    }


def buyer_media_files(trade) -> list:
    from django.conf import settings

    root = settings.MEDIA_ROOT / "evidence" / str(trade.buyer.org.pk)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def refuse(trade, code, **kwargs):
    before = state(trade)
    with pytest.raises((Conflict, Forbidden, NotFound)) as caught:
        buy(trade, **kwargs)
    assert caught.value.code == code, (caught.value.code, caught.value.message)
    assert state(trade) == before, "a refused purchase wrote something"
    assert buyer_media_files(trade) == []
    return caught.value


# --- eligibility: each rule refuses with its own code, and nothing is written ---------------


def test_a_buyer_that_is_not_an_approved_member_is_refused(trade):
    MemberDirectory.objects.filter(member=trade.buyer.org).update(status="pending")
    refuse(trade, "buyer_not_member")


def test_a_suspended_seller_is_refused(trade):
    MemberDirectory.objects.filter(member=trade.seller.org).update(status="suspended")
    refuse(trade, "seller_suspended")


def test_a_seller_out_of_good_standing_is_refused(trade):
    MemberDirectory.objects.filter(member=trade.seller.org).update(good_standing=False)
    refuse(trade, "seller_not_in_good_standing")


@pytest.mark.parametrize(
    "change,code",
    [
        ({"status": "paused", "status_reason": "seller"}, "listing_paused"),
        ({"status": "withdrawn", "status_reason": "seller"}, "listing_withdrawn"),
        ({"status": "expired"}, "listing_expired"),
    ],
)
def test_a_listing_that_is_not_live_is_refused(trade, change, code):
    with tenant_context(trade.seller.org):
        Listing.objects.filter(pk=trade.listing.pk).update(**change)
    refuse(trade, code)


def test_a_live_listing_past_its_expiry_time_is_refused(trade):
    with tenant_context(trade.seller.org):
        Listing.objects.filter(pk=trade.listing.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    refuse(trade, "listing_expired")


def test_a_record_the_seller_corrected_after_listing_is_refused(trade):
    from verifications.services.records import verification_correct

    seller = trade.seller
    with tenant_context(seller.org):
        verification_correct(
            org=seller.org,
            actor=seller.membership(seller.owner),
            verification=trade.record,
            reason="Wrong licence number",
            details="Corrected",
        )
    # The correction withdraws the listing at once (exchange's verification_superseded hook).
    refuse(trade, "listing_withdrawn")
    with tenant_context(seller.org):
        listing = Listing.objects.get(pk=trade.listing.pk)
        assert (listing.status, listing.status_reason) == ("withdrawn", "superseded")
        # Were the listing live again by mistake, the purchase still reads the record itself.
        Listing.objects.filter(pk=listing.pk).update(status="live", status_reason="")
    refuse(trade, "record_superseded")


def test_a_licence_record_for_a_credential_not_on_the_buyers_file_is_refused(trade):
    from roster.models import Credential

    # The buyer tracks another licence number: the record would have nothing to be filed on.
    with tenant_context(trade.buyer.org):
        Credential.objects.filter(provider=trade.buyer_provider).update(number="OTHER-999")
    refuse(trade, "credential_not_on_file")


def test_a_licence_number_typed_differently_still_matches(trade):
    from roster.models import Credential

    with tenant_context(trade.buyer.org):
        credential = Credential.objects.filter(provider=trade.buyer_provider).first()
        typed = credential.number.lower().replace("-", " ")
        Credential.objects.filter(pk=credential.pk).update(number=typed)
    order, created = buy(trade)
    assert created
    with tenant_context(trade.buyer.org):
        assert order.verification.credential_id == credential.pk


def test_a_seller_without_a_current_release_is_refused(trade):
    with tenant_context(trade.seller.org):
        ClinicianRelease.objects.filter(provider=trade.seller_provider).update(
            revoked_at=timezone.now()
        )
    refuse(trade, "seller_release_missing")


def test_a_seller_release_for_other_types_only_is_refused(trade):
    with tenant_context(trade.seller.org):
        ClinicianRelease.objects.filter(provider=trade.seller_provider).update(
            scope_all=False, scope_sources=["dea"]
        )
    refuse(trade, "seller_release_missing")


def test_a_buyer_without_a_current_release_is_refused(trade):
    with tenant_context(trade.buyer.org):
        ClinicianRelease.objects.filter(provider=trade.buyer_provider).update(
            expires_on=timezone.localdate() - timedelta(days=1)
        )
    refuse(trade, "buyer_release_missing")


def test_a_clinician_not_on_the_buyers_roster_is_refused(trade):
    with tenant_context(trade.buyer.org):
        Provider.objects.filter(pk=trade.buyer_provider.pk).update(status="terminated")
    refuse(trade, "clinician_not_on_roster")


def _strict_requirements(tenant, max_age_days=5):
    with tenant_context(tenant.org):
        profile = RequirementsProfile.objects.create(organization=tenant.org)
        RequirementRule.objects.create(
            organization=tenant.org,
            profile=profile,
            source="state_board",
            max_age_days=max_age_days,
            methods=["web"],
        )


def test_unmet_requirements_refuse_without_a_reason_and_name_the_rule(trade):
    _strict_requirements(trade.buyer)
    error = refuse(trade, "requirements_unmet")
    assert error.details["unmet"] == [
        {"rule": "max_age", "message": "older than your 5-day maximum"}
    ]
    assert "older than your 5-day maximum" in error.message


def test_unmet_requirements_are_overridden_with_a_reason_stored_and_audited(trade):
    _strict_requirements(trade.buyer)
    order, created = buy(trade, reason="Committee meets tomorrow; board re-check booked.")
    assert created
    assert order.overridden_rules == [
        {"rule": "max_age", "message": "older than your 5-day maximum"}
    ]
    assert order.override_reason == "Committee meets tomorrow; board re-check booked."
    with tenant_context(trade.buyer.org):
        event = AuditEvent.objects.get(action="exchange.order.purchased")
    assert event.data["override_reason"] == order.override_reason
    assert event.data["overridden_rules"][0]["rule"] == "max_age"


def test_a_member_cannot_buy_its_own_listing(trade):
    seller = trade.seller
    before = state(trade)
    with pytest.raises(Conflict) as caught:
        buy(trade, tenant=seller, actor=seller.membership(seller.owner))
    assert caught.value.code == "own_listing"
    assert state(trade) == before


def test_the_same_buyer_cannot_buy_the_same_listing_twice(trade):
    first, _ = buy(trade)
    before = state(trade)
    with pytest.raises(Conflict) as caught:
        buy(trade)  # a new key: a second purchase, not a replay
    assert caught.value.code == "already_purchased"
    assert state(trade) == before
    with tenant_context(trade.buyer.org):
        assert list(Order.objects.values_list("id", flat=True)) == [first.pk]


def test_a_listing_the_buyer_cannot_see_is_not_found(trade):
    refuse(trade, "not_found", listing_id=uuid.uuid4())


def test_an_auditor_cannot_buy(trade):
    buyer = trade.buyer
    before = state(trade)
    with pytest.raises(Forbidden):
        buy(trade, actor=buyer.membership(buyer.auditor))
    assert state(trade) == before


# --- the happy path ------------------------------------------------------------------------


def test_a_purchase_copies_the_record_with_provenance_and_the_original_date(trade):
    order, created = buy(trade)
    assert created
    original = trade.record
    with tenant_context(trade.buyer.org):
        copy = Verification.objects.get(pk=order.verification_id)
        evidence = list(VerificationEvidence.objects.filter(verification=copy))
        buyer_credential = trade.buyer_provider.credentials.get()
    assert copy.organization_id == trade.buyer.org.pk
    assert copy.provider_id == trade.buyer_provider.pk
    assert copy.credential_id == buyer_credential.pk
    assert copy.method == "exchange" and copy.verifier_kind == "exchange"
    assert copy.verifier_label == "CredEx exchange: Riverbend Health"
    assert copy.verified_at == original.verified_at
    assert (copy.source, copy.source_state, copy.source_name, copy.result) == (
        original.source,
        original.source_state,
        original.source_name,
        original.result,
    )
    assert (copy.details, copy.reference) == (original.details, original.reference)
    assert copy.data["status"] == "active"
    assert copy.data["exchange"] == {
        "order_id": str(order.pk),
        "listing_id": str(trade.listing.pk),
        "seller_organization_id": str(trade.seller.org.pk),
        "seller_name": "Riverbend Health",
        "original_method": "web",
        "original_method_label": "Web lookup",
        "original_verifier": original.verifier_label,
        "original_verified_at": original.verified_at.isoformat(),
        "original_source": "state_board",
        "original_verification_id": str(original.pk),
    }
    # Evidence: the same bytes, re-stored in the buyer's storage, with the same sha256.
    with tenant_context(trade.seller.org):
        seller_sha = list(
            VerificationEvidence.objects.filter(verification=original).values_list(
                "sha256", flat=True
            )
        )
    assert [e.sha256 for e in evidence] == seller_sha == [hashlib.sha256(EVIDENCE_PDF).hexdigest()]
    assert evidence[0].file.name.startswith(f"evidence/{trade.buyer.org.pk}/{copy.pk}/")
    with evidence[0].file.open("rb") as handle:
        assert handle.read() == EVIDENCE_PDF
    assert [str(p) for p in buyer_media_files(trade)] == [evidence[0].file.path]
    # The order and the seller's counters.
    assert (order.price_cents, order.fee_cents, order.total_cents) == (2500, 250, 2750)
    assert order.seller_organization_id == trade.seller.org.pk
    assert order.original_verified_at == original.verified_at
    with tenant_context(trade.seller.org):
        assert Listing.objects.get(pk=trade.listing.pk).sale_count == 1
    assert MemberDirectory.objects.get(member=trade.seller.org).trade_count == 1
    with tenant_context(trade.buyer.org):
        assert Receipt.objects.get(order=order).seller_organization_id == trade.seller.org.pk


def test_a_purchase_posts_one_balanced_entry_of_three_legs(trade):
    with transaction.atomic(), platform_path():
        fees_before = (
            LedgerAccount.objects.filter(organization__isnull=True, kind="platform_fees")
            .values_list("balance_cents", flat=True)
            .first()
            or 0
        )
    order, _ = buy(trade)
    with transaction.atomic(), platform_path():
        entry = JournalEntry.objects.get(pk=order.journal_entry_id)
        legs = {
            (p.account.kind, p.organization_id): p.amount_cents
            for p in entry.postings.select_related("account")
        }
        fees_after = LedgerAccount.objects.get(
            organization__isnull=True, kind="platform_fees"
        ).balance_cents
    assert (entry.kind, entry.reference_type, entry.reference_id) == (
        "exchange_purchase",
        "exchange.order",
        str(order.pk),
    )
    assert legs == {
        ("exchange_due", trade.buyer.org.pk): 2750,
        ("exchange_proceeds", trade.seller.org.pk): -2500,
        ("platform_fees", None): -250,
    }
    assert sum(legs.values()) == 0
    with tenant_context(trade.buyer.org):
        assert LedgerAccount.objects.get(kind="exchange_due").balance_cents == 2750
    with tenant_context(trade.seller.org):
        assert LedgerAccount.objects.get(kind="exchange_proceeds").balance_cents == 2500
    assert fees_after - fees_before == 250


def test_a_purchase_is_audited_in_both_chains(trade):
    order, _ = buy(trade)
    with tenant_context(trade.buyer.org):
        bought = AuditEvent.objects.get(action="exchange.order.purchased")
    with tenant_context(trade.seller.org):
        sold = AuditEvent.objects.get(action="exchange.order.sold")
    for event in (bought, sold):
        assert event.target_id == str(order.pk)
        assert event.data["price_cents"] == 2500 and event.data["fee_cents"] == 250
        assert event.data["listing"] == str(trade.listing.pk)
    assert bought.organization_id == trade.buyer.org.pk
    assert sold.organization_id == trade.seller.org.pk
    assert bought.data["verification"] == str(order.verification_id)
    assert "verification" not in sold.data  # the buyer's row id stays with the buyer


def _count_as_app_role(org, sql, params):
    with tenant_context(org), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_nothing_crosses_but_what_was_bought_by_raw_sql_as_the_app_role(trade, seller):
    other_provider = add_clinician(seller, seed=6161)
    from tests.exchange_fixtures import make_record

    unsold = make_record(seller, other_provider)
    order, _ = buy(trade)
    copy_id = order.verification_id
    v_sql = "SELECT count(*) FROM verifications_verification WHERE id = %s"
    e_sql = "SELECT count(*) FROM verifications_verificationevidence WHERE verification_id = %s"
    # The seller cannot read the buyer's copy or its evidence.
    assert _count_as_app_role(seller.org, v_sql, [copy_id]) == 0
    assert _count_as_app_role(seller.org, e_sql, [copy_id]) == 0
    # The buyer reads its copy, and none of the seller's records: sold or unsold.
    buyer = trade.buyer.org
    assert _count_as_app_role(buyer, v_sql, [copy_id]) == 1
    for record in (trade.record, unsold):
        assert _count_as_app_role(buyer, v_sql, [record.pk]) == 0
        assert _count_as_app_role(buyer, e_sql, [record.pk]) == 0
    assert (
        _count_as_app_role(
            buyer,
            "SELECT count(*) FROM verifications_verification WHERE organization_id = %s",
            [seller.org.pk],
        )
        == 0
    )
    # Postings: each organization its own legs only.
    assert (
        _count_as_app_role(
            buyer,
            "SELECT count(*) FROM billing_posting WHERE organization_id IS DISTINCT FROM %s",
            [buyer.pk],
        )
        == 0
    )
    # Orders: a third organization sees none of it.
    third = build_tenant("Outside Org", "outside.example", roles=())
    assert _count_as_app_role(third.org, "SELECT count(*) FROM exchange_order", []) == 0
    assert _count_as_app_role(seller.org, "SELECT count(*) FROM exchange_order", []) == 1


def test_two_buyers_of_one_listing_both_succeed_and_the_listing_stays_listed(trade, third):
    make_member(third.org)
    add_clinician(third, seed=5151, npi=trade.seller_provider.npi)
    first, _ = buy(trade)
    second, _ = buy(trade, tenant=third)
    assert first.pk != second.pk
    assert first.verification_id != second.verification_id
    with tenant_context(trade.seller.org):
        listing = Listing.objects.get(pk=trade.listing.pk)
    assert (listing.status, listing.sale_count) == ("live", 2)
    assert MemberDirectory.objects.get(member=trade.seller.org).trade_count == 2
    with tenant_context(trade.seller.org):
        assert LedgerAccount.objects.get(kind="exchange_proceeds").balance_cents == 5000


# --- idempotency ---------------------------------------------------------------------------


def test_the_same_key_twice_returns_the_same_order(trade):
    first, created = buy(trade, key="key-1")
    before = state(trade)
    again, created_again = buy(trade, key="key-1")
    assert created and not created_again
    assert again.pk == first.pk
    assert state(trade) == before


def test_a_key_reused_with_a_different_request_is_refused(trade, third):
    make_member(third.org)
    first, _ = buy(trade, key="key-2")
    before = state(trade)
    with pytest.raises(Conflict) as caught:
        buy(trade, key="key-2", reason="another body")
    assert caught.value.code == "idempotency_key_reused"
    other = build_trade(trade.seller, trade.buyer, seed=5252)
    with pytest.raises(Conflict) as caught:
        buy(other, key="key-2")
    assert caught.value.code == "idempotency_key_reused"
    assert state(trade) == before


@pytest.mark.parametrize("key", ["", "   ", "with space", "x" * 256, "nul\x00byte", "é-accent"])
def test_a_malformed_idempotency_key_is_refused(trade, key):
    before = state(trade)
    with pytest.raises(InvalidInput) as caught, tenant_context(trade.buyer.org):
        purchase_make(
            org=trade.buyer.org,
            actor=trade.buyer.membership(trade.buyer.coordinator),
            listing_id=trade.listing.pk,
            idempotency_key=key,
        )
    assert caught.value.code == "idempotency_key_invalid"
    assert state(trade) == before


# --- the committee's window runs from the original verification date -------------------------


def test_the_purchased_record_counts_for_the_committee_from_its_original_date(seller, buyer):
    from verifications.selectors.readiness import psv_gaps
    from verifications.selectors.records import valid_verifications

    trade = build_trade(seller, buyer, seed=5353, days_ago=100)
    order, _ = buy(trade)
    org = buyer.org
    today = timezone.localdate()
    with tenant_context(org):
        assert org.psv_validity_days == 120
        assert (
            valid_verifications(org=org, decision_date=today)
            .filter(pk=order.verification_id)
            .exists()
        )
        assert (
            psv_gaps(org=org, provider=trade.buyer_provider, kinds=["state_license"], as_of=today)
            == []
        )
        # 30 days on, the ORIGINAL date (100 + 30 > 120) is outside the window, though the
        # purchase (today) would still be inside it: the record no longer counts.
        later = today + timedelta(days=30)
        assert (
            not valid_verifications(org=org, decision_date=later)
            .filter(pk=order.verification_id)
            .exists()
        )
        gaps = psv_gaps(
            org=org, provider=trade.buyer_provider, kinds=["state_license"], as_of=later
        )
        assert [g.credential.pk for g in gaps] == [order.verification.credential_id]


# --- the pages -----------------------------------------------------------------------------


def test_the_buy_page_shows_the_price_fee_total_and_a_fresh_key(trade, login):
    client = login(trade.buyer.coordinator)
    url = f"/o/{trade.buyer.org.slug}/exchange/buy/{trade.listing.pk}/"
    first = client.get(url)
    second = client.get(url)
    body = first.content.decode()
    assert first.status_code == 200
    for text in ("$25", "$2.50", "$27.50", "Riverbend Health", "Fulfils your requirements"):
        assert text in body, text
    keys = [r.context["idempotency_key"] for r in (first, second)]
    assert keys[0] != keys[1]
    assert f'name="idempotency_key" value="{keys[0]}"' in body


def test_the_buy_page_names_the_unmet_rules_and_asks_for_a_reason(trade, login):
    _strict_requirements(trade.buyer)
    client = login(trade.buyer.coordinator)
    body = client.get(
        f"/o/{trade.buyer.org.slug}/exchange/buy/{trade.listing.pk}/"
    ).content.decode()
    assert "Older than your 5-day maximum" in body
    assert 'name="override_reason"' in body


def test_buying_through_the_page_twice_with_one_key_makes_one_order(trade, login):
    client = login(trade.buyer.coordinator)
    slug = trade.buyer.org.slug
    url = f"/o/{slug}/exchange/buy/{trade.listing.pk}/"
    key = client.get(url).context["idempotency_key"]
    first = client.post(url, {"idempotency_key": key})
    second = client.post(url, {"idempotency_key": key})  # the double submit
    with tenant_context(trade.buyer.org):
        order = Order.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/o/{slug}/exchange/orders/{order.pk}/"
    detail = client.get(first["Location"])
    text = detail.content.decode()
    assert detail.status_code == 200
    assert "Purchased on the exchange from Riverbend Health" in text
    assert "$27.50" in text
    # The clinician's file shows the provenance in the PSV log.
    file = client.get(f"/o/{slug}/providers/{trade.buyer_provider.pk}/").content.decode()
    assert "Purchased on the exchange from Riverbend Health, verified" in file
    assert "by web lookup" in file


def test_a_refused_purchase_through_the_page_says_why_and_writes_nothing(trade, login):
    _strict_requirements(trade.buyer)
    client = login(trade.buyer.coordinator)
    url = f"/o/{trade.buyer.org.slug}/exchange/buy/{trade.listing.pk}/"
    before = state(trade)
    response = client.post(url, {"idempotency_key": str(uuid.uuid4())})
    assert response.status_code == 409
    assert "does not meet your requirements" in response.content.decode()
    assert state(trade) == before
    reason = client.post(
        url, {"idempotency_key": str(uuid.uuid4()), "override_reason": "Board re-check booked"}
    )
    assert reason.status_code == 302


def test_the_orders_page_lists_bought_for_the_buyer_and_sold_for_the_seller(trade, login):
    order, _ = buy(trade)
    buyer_page = login(trade.buyer.auditor).get(f"/o/{trade.buyer.org.slug}/exchange/orders/")
    assert buyer_page.status_code == 200
    assert [o.pk for o in buyer_page.context["orders"]] == [order.pk]
    assert (
        buyer_page.client.get(f"/o/{trade.buyer.org.slug}/exchange/orders/?role=sold").context[
            "orders"
        ]
        == []
    )
    seller_client = login(trade.seller.owner)
    sold = seller_client.get(f"/o/{trade.seller.org.slug}/exchange/orders/?role=sold")
    assert [o.pk for o in sold.context["orders"]] == [order.pk]
    detail = seller_client.get(f"/o/{trade.seller.org.slug}/exchange/orders/{order.pk}/")
    assert detail.status_code == 200
    assert detail.context["provenance"] is None  # the buyer's copy stays with the buyer
    assert "Your proceeds" in detail.content.decode()
    assert "Sold to Lakeside Clinic" in detail.content.decode()
    assert "Lakeside Clinic" in sold.content.decode()


def test_who_may_use_the_order_pages(trade, third, client, login):
    order, _ = buy(trade)
    slug = trade.buyer.org.slug
    buy_url = f"/o/{slug}/exchange/buy/{trade.listing.pk}/"
    pages = [f"/o/{slug}/exchange/orders/", f"/o/{slug}/exchange/orders/{order.pk}/", buy_url]
    for url in pages:  # anonymous: to sign in
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    outsider = login(third.owner)
    for url in pages:
        assert outsider.get(url).status_code == 404
    # Under its own slug, a third organization's member cannot open the order either.
    assert outsider.get(f"/o/{third.org.slug}/exchange/orders/{order.pk}/").status_code == 404
    auditor = login(trade.buyer.auditor)
    assert auditor.get(pages[0]).status_code == 200
    assert auditor.get(pages[1]).status_code == 200
    before = state(trade)
    assert auditor.get(buy_url).status_code == 403
    assert auditor.post(buy_url, {"idempotency_key": "auditor-key"}).status_code == 403
    assert state(trade) == before


def test_hostile_input_on_the_buy_page_is_refused_and_writes_nothing(trade, login):
    client = login(trade.buyer.coordinator)
    slug = trade.buyer.org.slug
    url = f"/o/{slug}/exchange/buy/{trade.listing.pk}/"
    before = state(trade)
    cases = [
        {"idempotency_key": "k\x00ey"},
        {"idempotency_key": "ok-key", "override_reason": "nul\x00byte"},
        {"idempotency_key": "ok-key-2", "override_reason": "x" * 100_000},
        {"idempotency_key": ""},
    ]
    for data in cases:
        response = client.post(url, data)
        assert 400 <= response.status_code < 500, (data.keys(), response.status_code)
    assert client.get(f"/o/{slug}/exchange/buy/{uuid.uuid4()}/").status_code == 404
    assert (
        client.post(f"/o/{slug}/exchange/buy/{uuid.uuid4()}/", {"idempotency_key": "k"}).status_code
        == 404
    )
    assert state(trade) == before


# --- the API -------------------------------------------------------------------------------


def api(client, key, method, url, body=None, **headers):
    extra = {"HTTP_AUTHORIZATION": f"Api-Key {key}"} if key else {}
    extra.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, url, data, content_type="application/json", **extra)


def test_the_api_buys_with_201_and_replays_with_200(trade, client):
    _, raw = make_key(trade.buyer)
    body = {"listing_id": str(trade.listing.pk)}
    first = api(
        client, raw, "POST", "/api/v1/exchange/purchases", body, **{"Idempotency-Key": "api-1"}
    )
    assert first.status_code == 201, first.content
    again = api(
        client, raw, "POST", "/api/v1/exchange/purchases", body, **{"Idempotency-Key": "api-1"}
    )
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    data = first.json()
    assert data["role"] == "buyer" and data["total_cents"] == 2750
    assert parse_datetime(data["original_verified_at"]) == trade.record.verified_at
    reused = api(
        client,
        raw,
        "POST",
        "/api/v1/exchange/purchases",
        {**body, "override_reason": "changed"},
        **{"Idempotency-Key": "api-1"},
    )
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    with tenant_context(trade.buyer.org):
        assert Order.objects.count() == 1
    # Lists and detail, for both parties.
    listed = api(client, raw, "GET", "/api/v1/exchange/orders")
    assert [o["id"] for o in listed.json()["results"]] == [data["id"]]
    _, seller_key = make_key(trade.seller, role="admin")
    sold = api(client, seller_key, "GET", "/api/v1/exchange/orders?role=sold")
    assert [o["id"] for o in sold.json()["results"]] == [data["id"]]
    seller_view = api(client, seller_key, "GET", f"/api/v1/exchange/orders/{data['id']}")
    assert seller_view.status_code == 200
    assert seller_view.json()["role"] == "seller" and seller_view.json()["verification"] is None
    assert api(client, seller_key, "GET", "/api/v1/exchange/orders").json()["results"] == []


def test_a_read_only_sellers_listing_stays_on_sale_and_a_read_only_buyer_cannot_buy(trade, client):
    """Billing read-only pauses an organization's own writes. A sale is the buyer's act: a
    past-due seller's listings stay on sale and its proceeds accrue (paid out as usual); a
    past-due buyer is refused with 402 billing_past_due and nothing is written."""
    from billing.services.accounts import account_for, writes_pause

    with tenant_context(trade.seller.org):
        writes_pause(org=trade.seller.org, account=account_for(trade.seller.org), reason="test")
    _, raw = make_key(trade.buyer)
    body = {"listing_id": str(trade.listing.pk)}
    bought = api(
        client, raw, "POST", "/api/v1/exchange/purchases", body, **{"Idempotency-Key": "ro-1"}
    )
    assert bought.status_code == 201, bought.content
    with tenant_context(trade.seller.org):
        assert LedgerAccount.objects.get(kind="exchange_proceeds").balance_cents == 2500

    with tenant_context(trade.buyer.org):
        writes_pause(org=trade.buyer.org, account=account_for(trade.buyer.org), reason="test")
    before = state(trade)
    refused = api(
        client, raw, "POST", "/api/v1/exchange/purchases", body, **{"Idempotency-Key": "ro-2"}
    )
    assert refused.status_code == 402 and refused.json()["code"] == "billing_past_due"
    assert state(trade) == before


def test_the_api_refuses_a_missing_or_malformed_key_and_hostile_bodies(trade, third, client):
    _, raw = make_key(trade.buyer)
    url = "/api/v1/exchange/purchases"
    body = {"listing_id": str(trade.listing.pk)}
    before = state(trade)
    missing = api(client, raw, "POST", url, body)
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"
    bad_key = api(client, raw, "POST", url, body, **{"Idempotency-Key": "x" * 300})
    assert bad_key.status_code == 400 and bad_key.json()["code"] == "idempotency_key_invalid"
    for hostile in (
        {"listing_id": "not-a-uuid"},
        {"listing_id": str(trade.listing.pk), "override_reason": "nul\x00"},
        {"listing_id": str(trade.listing.pk), "override_reason": "x" * 100_000},
        {},
    ):
        response = api(client, raw, "POST", url, hostile, **{"Idempotency-Key": str(uuid.uuid4())})
        assert response.status_code == 400, hostile
        assert set(response.json()) == {"code", "message", "details"}
    foreign = api(
        client, raw, "POST", url, {"listing_id": str(uuid.uuid4())}, **{"Idempotency-Key": "f"}
    )
    assert foreign.status_code == 404 and foreign.json()["code"] == "not_found"
    _, auditor_key = make_key(trade.buyer, role="auditor", name="Read only")
    denied = api(client, auditor_key, "POST", url, body, **{"Idempotency-Key": "a"})
    assert denied.status_code == 403
    assert api(client, None, "POST", url, body, **{"Idempotency-Key": "a"}).status_code == 401
    assert state(trade) == before


def test_a_third_organization_gets_404_for_an_order(trade, third, client):
    order, _ = buy(trade)
    _, outsider_key = make_key(third, role="admin", name="Third")
    response = api(client, outsider_key, "GET", f"/api/v1/exchange/orders/{order.pk}")
    assert response.status_code == 404
    assert (
        api(client, outsider_key, "GET", "/api/v1/exchange/orders?role=sold").json()["results"]
        == []
    )
    assert api(client, None, "GET", "/api/v1/exchange/orders").status_code == 401


# --- concurrency (real commits, one connection per thread) ---------------------------------


def _threads(jobs):
    results, errors = [None] * len(jobs), []
    barrier = threading.Barrier(len(jobs))

    def run(i, job):
        try:
            barrier.wait(30)
            results[i] = job()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results, errors


def test_twenty_buyers_and_a_doubled_key_at_once_lose_and_duplicate_nothing(committed_db):
    tag = uuid.uuid4().hex[:6]
    seller = build_tenant(f"Seller {tag}", f"s{tag}.example", roles=())
    buyers = [build_tenant(f"Buyer {tag} {i}", f"b{i}{tag}.example", roles=()) for i in range(20)]
    seed = int(tag, 16) % 50_000_000
    trade = build_trade(seller, buyers[0], seed=seed)
    for b in buyers[1:]:
        make_member(b.org)
        add_clinician(b, seed=seed, npi=trade.seller_provider.npi)

    def job(tenant, key):
        def go():
            with tenant_context(tenant.org):
                order, created = purchase_make(
                    org=tenant.org,
                    actor=tenant.membership(tenant.owner),
                    listing_id=trade.listing.pk,
                    idempotency_key=key,
                )
            return order.pk, created

        return go

    jobs = [job(b, f"k-{i}") for i, b in enumerate(buyers)] + [job(buyers[0], "k-0")]
    results, errors = _threads(jobs)
    assert not errors, errors
    ids = [r[0] for r in results]
    assert ids[0] == ids[-1]  # the doubled key: one order
    assert sorted(r[1] for r in (results[0], results[-1])) == [False, True]
    assert len(set(ids)) == 20
    for b in buyers:
        with tenant_context(b.org):
            assert Order.objects.count() == 1
            assert Verification.objects.filter(method="exchange").count() == 1
    with tenant_context(seller.org):
        assert Listing.objects.get(pk=trade.listing.pk).sale_count == 20
        assert Order.objects.model.objects.count() == 0  # the seller owns no order rows
        assert LedgerAccount.objects.get(kind="exchange_proceeds").balance_cents == 20 * 2500
    assert MemberDirectory.objects.get(member=seller.org).trade_count == 20
    with transaction.atomic(), platform_path():
        entries = JournalEntry.objects.filter(
            reference_type="exchange.order", reference_id__in=[str(i) for i in set(ids)]
        )
        assert entries.count() == 20
        for entry in entries:
            assert sum(entry.postings.values_list("amount_cents", flat=True)) == 0


def test_one_key_raced_on_two_listings_makes_one_order_and_refuses_the_other(committed_db):
    """Two listings (no shared lock): the unique key constraint decides, inside a savepoint,
    and the loser is told the key was used for another purchase; its evidence copy is gone."""
    from django.conf import settings

    tag = uuid.uuid4().hex[:6]
    seller = build_tenant(f"Race S {tag}", f"rs{tag}.example", roles=())
    buyer = build_tenant(f"Race B {tag}", f"rb{tag}.example", roles=())
    seed = int(tag, 16) % 40_000_000
    first = build_trade(seller, buyer, seed=seed)
    second = build_trade(seller, buyer, seed=seed + 1)

    def job(trade):
        def go():
            try:
                with tenant_context(buyer.org):
                    return purchase_make(
                        org=buyer.org,
                        actor=buyer.membership(buyer.owner),
                        listing_id=trade.listing.pk,
                        idempotency_key="raced-key",
                    )
            except Conflict as exc:
                return exc.code

        return go

    results, errors = _threads([job(first), job(second)] * 3)
    assert not errors, errors
    orders = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, str)]
    assert len({o[0].pk for o in orders}) == 1
    assert sum(1 for o in orders if o[1]) == 1
    assert refused and set(refused) == {"idempotency_key_reused"}
    with tenant_context(buyer.org):
        assert Order.objects.count() == 1
        assert Verification.objects.filter(method="exchange").count() == 1
        kept = list(VerificationEvidence.objects.values_list("file", flat=True))
    on_disk = sorted(
        str(p.relative_to(settings.MEDIA_ROOT))
        for p in (settings.MEDIA_ROOT / "evidence" / str(buyer.org.pk)).rglob("*")
        if p.is_file()
    )
    assert on_disk == sorted(kept), "a lost race left an evidence file behind"
