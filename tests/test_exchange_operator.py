"""The exchange operator's console (/operator/exchange/): every decision through its page
(status, directory, e-mail, audit in the organization's and the platform's chain), the
standing, volume and ledger pages, the walk of every operator route for the operator, a
member and an anonymous visitor, the daily standing job through its Celery task, suspension
pausing listings, and the `exchange_operator` management command."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

from credex.tenancy import tenant_context
from tests.exchange_membership_support import (
    actions,
    apply,
    approved,
    directory,
    listing_states,
    make_listings,
    make_operator,
    membership_of,
    platform_events,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    return make_operator()


def url(name, tenant, **extra):
    return reverse(name, kwargs={"org_id": tenant.org.pk, **extra})


def decide(client, name, tenant, data=None, *, capture):
    with capture(execute=True):
        return client.post(url(name, tenant), data or {})


# --- decisions -----------------------------------------------------------------------------


def test_the_operator_approves_an_application_from_its_page(
    tenant_a, operator, client, login, mailoutbox, django_capture_on_commit_callbacks
):
    apply(tenant_a)
    login(operator)
    detail = client.get(url("operator_application", tenant_a))
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "Acme Health Credentialing" in body and "ncqa.pdf" in body
    response = decide(
        client, "operator_approve", tenant_a, capture=django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    assert response["Location"] == url("operator_application", tenant_a)
    m = membership_of(tenant_a)
    assert (m.status, m.decided_by_id) == ("approved", operator.pk)
    d = directory(tenant_a)
    assert (d.status, d.good_standing) == ("approved", True)
    [mail] = mailoutbox
    assert sorted(mail.to) == sorted(["casey@acme.example", tenant_a.owner.email])
    assert "approved" in mail.subject and "approved member" in mail.body
    assert "exchange.membership.approved" in actions(tenant_a)
    [event] = platform_events("exchange.membership.approved")
    assert event["actor_label"] == operator.email and event["actor_kind"] == "member"
    assert event["data"]["organization"] == str(tenant_a.org.pk)


def test_rejecting_needs_a_reason_and_the_applicant_is_told_it(
    tenant_a, operator, client, login, mailoutbox, django_capture_on_commit_callbacks
):
    apply(tenant_a)
    login(operator)
    capture = django_capture_on_commit_callbacks
    refused = decide(client, "operator_reject", tenant_a, {"reason": "  "}, capture=capture)
    assert refused.status_code == 400
    assert "Give the reason" in refused.content.decode()
    assert membership_of(tenant_a).status == "pending" and mailoutbox == []
    assert platform_events("exchange.membership.rejected") == []
    response = decide(
        client,
        "operator_reject",
        tenant_a,
        {"reason": "No current accreditation."},
        capture=capture,
    )
    assert response.status_code == 302
    m = membership_of(tenant_a)
    assert (m.status, m.decision_reason) == ("rejected", "No current accreditation.")
    assert directory(tenant_a).status == "rejected"
    [mail] = mailoutbox
    assert "No current accreditation." in mail.body
    assert "exchange.membership.rejected" in actions(tenant_a)
    assert len(platform_events("exchange.membership.rejected")) == 1


def test_asking_for_information_needs_a_message_and_the_applicant_is_told_it(
    tenant_a, operator, client, login, mailoutbox, django_capture_on_commit_callbacks
):
    apply(tenant_a)
    login(operator)
    capture = django_capture_on_commit_callbacks
    refused = decide(client, "operator_request_info", tenant_a, {}, capture=capture)
    assert refused.status_code == 400 and membership_of(tenant_a).status == "pending"
    response = decide(
        client,
        "operator_request_info",
        tenant_a,
        {"message": "Upload the NCQA letter."},
        capture=capture,
    )
    assert response.status_code == 302
    m = membership_of(tenant_a)
    assert (m.status, m.decision_reason) == ("info_requested", "Upload the NCQA letter.")
    [mail] = mailoutbox
    assert "Upload the NCQA letter." in mail.body and "more information" in mail.subject
    assert "exchange.membership.info_requested" in actions(tenant_a)
    assert len(platform_events("exchange.membership.info_requested")) == 1


def test_suspension_pauses_every_listing_and_reinstatement_resumes_only_those(
    tenant_a, operator, client, login, mailoutbox, django_capture_on_commit_callbacks
):
    from exchange.models import Listing
    from exchange.selectors.directory import member_is_approved

    approved(tenant_a, operator)
    listings = make_listings(tenant_a, 3)
    with tenant_context(tenant_a.org):
        Listing.objects.filter(pk=listings[0].pk).update(status="paused", status_reason="seller")
    login(operator)
    capture = django_capture_on_commit_callbacks
    refused = decide(client, "operator_suspend", tenant_a, {"reason": ""}, capture=capture)
    assert refused.status_code == 400
    assert listing_states(tenant_a).count(("live", "")) == 2
    response = decide(
        client, "operator_suspend", tenant_a, {"reason": "Fees unpaid."}, capture=capture
    )
    assert response.status_code == 302
    assert listing_states(tenant_a) == [("paused", "seller"), *[("paused", "suspended")] * 2]
    m = membership_of(tenant_a)
    assert (m.status, m.suspension_reason) == ("suspended", "Fees unpaid.")
    assert directory(tenant_a).status == "suspended"
    assert not member_is_approved(tenant_a.org)
    assert "Fees unpaid." in mailoutbox[-1].body
    chain = actions(tenant_a)
    assert "exchange.membership.suspended" in chain and "exchange.listings.paused" in chain
    [event] = platform_events("exchange.membership.suspended")
    assert event["data"]["listings"] == 2

    response = decide(client, "operator_reinstate", tenant_a, capture=capture)
    assert response.status_code == 302
    assert listing_states(tenant_a) == [("live", ""), ("live", ""), ("paused", "seller")]
    assert directory(tenant_a).status == "approved" and member_is_approved(tenant_a.org)
    assert "reinstated" in mailoutbox[-1].subject
    assert platform_events("exchange.membership.reinstated")[0]["data"]["listings"] == 2


def test_a_decision_out_of_turn_is_a_conflict_and_changes_nothing(
    tenant_a, operator, client, login, mailoutbox, django_capture_on_commit_callbacks
):
    approved(tenant_a, operator)
    mailoutbox.clear()
    login(operator)
    capture = django_capture_on_commit_callbacks
    response = decide(client, "operator_approve", tenant_a, capture=capture)
    assert response.status_code == 409
    again = decide(client, "operator_reinstate", tenant_a, capture=capture)
    assert again.status_code == 409
    assert membership_of(tenant_a).status == "approved" and mailoutbox == []


def test_approving_a_member_whose_accreditation_lapsed_leaves_it_out_of_good_standing(
    tenant_a, operator
):
    from exchange.services.membership import membership_approve

    apply(tenant_a, accreditation_expires_on=(date.today() - timedelta(days=2)).isoformat())
    membership_approve(operator=operator, org_id=tenant_a.org.pk)
    d = directory(tenant_a)
    assert (d.status, d.good_standing) == ("approved", False)


def test_the_operator_downloads_the_evidence_and_the_download_is_audited_in_both_chains(
    tenant_a, operator, client, login
):
    from exchange.models import Accreditation
    from tests.factories import PDF_BYTES

    apply(tenant_a)
    with tenant_context(tenant_a.org):
        accreditation = Accreditation.objects.get()
    login(operator)
    response = client.get(url("operator_evidence", tenant_a, accreditation_id=accreditation.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "exchange.accreditation.evidence_downloaded" in actions(tenant_a)
    assert len(platform_events("exchange.accreditation.evidence_downloaded")) == 1


def test_an_unknown_application_is_404_for_the_operator(operator, client, login):
    login(operator)
    missing = uuid.uuid4()
    assert client.get(reverse("operator_application", args=[missing])).status_code == 404
    assert client.post(reverse("operator_approve", args=[missing])).status_code == 404


# --- the console's reads ------------------------------------------------------------------------


def test_the_home_lists_applications_waiting_first(tenant_a, tenant_b, operator, client, login):
    approved(tenant_b, operator)
    apply(tenant_a)
    login(operator)
    body = client.get(reverse("operator_home")).content.decode()
    assert "1 waiting" in body
    assert body.index("Acme Health Credentialing") < body.index("Application under review") + 500
    assert url("operator_application", tenant_a) in body
    assert url("operator_application", tenant_b) in body


def test_the_standing_page_shows_each_members_accreditation_and_standing(
    tenant_a, tenant_b, operator, client, login
):
    from exchange.models import Accreditation

    approved(tenant_a, operator)
    approved(tenant_b, operator)
    with tenant_context(tenant_b.org):
        Accreditation.objects.update(expires_on=date.today() - timedelta(days=3))
    login(operator)
    body = client.get(reverse("operator_standing")).content.decode()
    assert "Good standing" in body and "Lapsed" in body
    assert "1 not in good standing" in body


def _order(tenant, listing, *, price=3000, fee=300, created_at=None):
    from exchange.models import Order

    with tenant_context(tenant.org):
        return Order.objects.create(
            organization=tenant.org,
            seller_organization=tenant.org,
            seller_name=tenant.org.name,
            listing_id=listing.pk,
            seller_verification_id=listing.verification_id,
            idempotency_key=f"k-{listing.pk}",
            request_hash="0" * 64,
            provider_id=listing.provider_id,
            verification_id=listing.verification_id,
            npi=listing.npi,
            clinician_name=listing.clinician_name,
            source=listing.source,
            original_method=listing.method,
            original_verified_at=listing.verified_at,
            price_cents=price,
            fee_cents=fee,
            total_cents=price + fee,
            bought_by_label="buyer@example.com",
            created_at=created_at or timezone.now(),
        )


def test_the_volume_page_charts_trades_and_fees_by_week_and_by_month(
    tenant_a, operator, client, login
):
    a, b = make_listings(tenant_a, 2)
    _order(tenant_a, a, price=3000, fee=300)
    _order(tenant_a, b, price=4000, fee=400, created_at=timezone.now() - timedelta(days=400))
    login(operator)
    weekly = client.get(reverse("operator_volume")).content.decode()
    assert "<svg" in weekly and "<rect" in weekly and 'style="' not in weekly
    assert "1 trade, $30.00 traded, $3.00 in fees" in weekly
    monthly = client.get(reverse("operator_volume") + "?by=month").content.decode()
    assert "12 months" in monthly and "$3.00 in fees" in monthly


def test_the_ledger_page_shows_the_trial_balance(tenant_a, operator, client, login):
    from billing.services import AccountKind, EntryKind, Leg, entry_post

    approved(tenant_a, operator)
    org = tenant_a.org.pk
    with tenant_context(tenant_a.org):
        entry_post(
            kind=EntryKind.EXCHANGE_PURCHASE,
            reference_type="test",
            reference_id="1",
            legs=[
                Leg(AccountKind.EXCHANGE_DUE, 3300, org),
                Leg(AccountKind.EXCHANGE_PROCEEDS, -3000, org),
                Leg(AccountKind.PLATFORM_FEES, -300, None),
            ],
        )
    login(operator)
    body = client.get(reverse("operator_ledger")).content.decode()
    assert "Balanced" in body and "Not balanced" not in body
    assert "$33.00" in body and "$30.00" in body and "$3.00" in body
    assert "CredEx platform" in body and "Acme Health Credentialing" in body


# --- who may: the walk of every operator route ----------------------------------------------------


def operator_routes() -> list[URLPattern]:
    from exchange import operator_urls

    def walk(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns)
            else:
                yield p

    routes = list(walk(operator_urls.urlpatterns))
    assert {"operator_home", "operator_application", "operator_ledger"} <= {r.name for r in routes}
    return routes


def route_url(route: URLPattern, ids: dict) -> str:
    kwargs = {name: ids.get(name, uuid.uuid4()) for name in route.pattern.converters}
    return reverse(route.name, kwargs=kwargs)


@pytest.fixture
def ids(tenant_a, operator):
    from exchange.models import Accreditation

    apply(tenant_a)
    with tenant_context(tenant_a.org):
        accreditation = Accreditation.objects.get()
    return {"org_id": tenant_a.org.pk, "accreditation_id": accreditation.pk}


def test_a_signed_in_member_who_is_not_the_operator_gets_404_on_every_operator_route(
    tenant_a, ids, client, login
):
    login(tenant_a.owner)
    for route in operator_routes():
        target = route_url(route, ids)
        for method in ("get", "post"):
            assert getattr(client, method)(target).status_code == 404, (method, target)
    assert membership_of(tenant_a).status == "pending"


def test_anonymous_is_sent_to_sign_in_from_every_operator_route(tenant_a, ids, client):
    for route in operator_routes():
        target = route_url(route, ids)
        for method in ("get", "post"):
            response = getattr(client, method)(target)
            assert response.status_code == 302, (method, target)
            assert "/accounts/login/" in response["Location"]
    assert membership_of(tenant_a).status == "pending"


def test_the_operator_walks_every_operator_route(tenant_a, ids, client, login, operator):
    login(operator)
    for route in operator_routes():
        response = client.get(route_url(route, ids))
        # GET pages answer; POST-only decision routes refuse GET with 405.
        assert response.status_code in (200, 405), (route.name, response.status_code)
    assert membership_of(tenant_a).status == "pending"


HOSTILE_VALUES = ("nul\x00byte", "x" * 100_000)
HOSTILE_FIELDS = (
    "reason",
    "message",
    "note",
    "action",
    "dispute_id",
    "source",
    "price_cents",
    "max_age_days",
    "vote_quorum",
    "fee_basis_points",
)


def test_every_operator_post_refuses_nul_bytes_and_100_kb_values_without_a_5xx_or_a_change(
    tenant_a, ids, client, login, operator
):
    """The member-side form fuzz (tests/test_fuzz_forms.py) signs in as a member; this is the
    same for the operator's console: every route, every field the console's forms send."""
    from exchange.models import DefaultPrice, ExchangeSettings

    login(operator)
    before = (
        membership_of(tenant_a).status,
        list(DefaultPrice.objects.order_by("source").values_list("source", "price_cents")),
        ExchangeSettings.current().updated_at,
    )
    for route in operator_routes():
        target = route_url(route, ids)
        for value in HOSTILE_VALUES:
            response = client.post(target, dict.fromkeys(HOSTILE_FIELDS, value))
            assert response.status_code < 500, (route.name, response.status_code)
            if route.name not in ("operator_approve", "operator_reinstate"):
                assert response.status_code != 302 or "/accounts/" not in response["Location"]
    after = (
        membership_of(tenant_a).status,
        list(DefaultPrice.objects.order_by("source").values_list("source", "price_cents")),
        ExchangeSettings.current().updated_at,
    )
    # Approve takes no fields (it may approve the pending application); nothing else changed.
    assert after[1:] == before[1:]
    assert after[0] in (before[0], "approved")


# --- the daily standing job ---------------------------------------------------------------------


@pytest.fixture
def eager():
    from credex.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_the_daily_job_pauses_a_lapsed_members_listings_and_resumes_them_after_renewal(
    tenant_a, tenant_b, operator, eager, mailoutbox, django_capture_on_commit_callbacks
):
    from exchange.models import Accreditation
    from exchange.tasks.membership import standing_daily

    approved(tenant_a, operator)
    apply(tenant_b)  # pending: not refreshed
    make_listings(tenant_a, 2)
    mailoutbox.clear()
    with tenant_context(tenant_a.org):
        Accreditation.objects.update(expires_on=date.today() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert standing_daily.apply(kwargs={"force": True}).get() == 1
    assert listing_states(tenant_a) == [("paused", "standing")] * 2
    assert directory(tenant_a).good_standing is False
    assert membership_of(tenant_a).standing_paused_at is not None
    [mail] = mailoutbox
    assert "paused" in mail.subject and "2 listings were paused" in mail.body
    assert "casey@acme.example" in mail.to
    assert "exchange.standing.lapsed" in actions(tenant_a)

    with django_capture_on_commit_callbacks(execute=True):
        standing_daily.apply(kwargs={"force": True}).get()
    assert len(mailoutbox) == 1  # told once

    with tenant_context(tenant_a.org):
        Accreditation.objects.update(expires_on=date.today() + timedelta(days=300))
    with django_capture_on_commit_callbacks(execute=True):
        standing_daily.apply(kwargs={"force": True}).get()
    assert listing_states(tenant_a) == [("live", "")] * 2
    assert directory(tenant_a).good_standing is True
    assert membership_of(tenant_a).standing_paused_at is None


def test_the_daily_job_runs_once_a_day_unless_forced(tenant_a, operator, eager):
    from django.core.cache import cache

    from exchange.tasks.membership import standing_daily

    approved(tenant_a, operator)
    cache.delete(f"exchange.standing.daily:{timezone.localdate()}")
    assert standing_daily.apply().get() == 1
    assert standing_daily.apply().get() == 0
    assert standing_daily.apply(kwargs={"force": True}).get() == 1


def test_the_refresh_task_is_a_tenant_task_that_needs_an_org(tenant_a, operator, eager):
    from exchange.tasks.membership import standing_refresh_task

    approved(tenant_a, operator)
    result = standing_refresh_task.apply(kwargs={"org_id": str(tenant_a.org.pk)}).get()
    assert result == {"good_standing": True, "paused": 0, "resumed": 0}
    with pytest.raises(ValueError):
        standing_refresh_task.apply(kwargs={}).get()


# --- the management command --------------------------------------------------------------------


def test_the_exchange_operator_command_creates_or_flags_the_user_and_is_audited(tenant_a):
    from credex.models import User

    call_command("exchange_operator", "Ops@CredEx.example", "--password", "s3cret-pass-123")
    user = User.objects.get(email="ops@credex.example")
    assert user.is_exchange_operator and user.check_password("s3cret-pass-123")
    call_command("exchange_operator", tenant_a.coordinator.email)
    tenant_a.coordinator.refresh_from_db()
    assert tenant_a.coordinator.is_exchange_operator
    events = platform_events("exchange.operator.flagged")
    assert [e["data"]["created"] for e in events] == [True, False]
    assert events[0]["actor_kind"] == "system"


def test_reinstating_a_member_whose_accreditation_lapsed_meanwhile_keeps_listings_paused(
    tenant_a, operator, mailoutbox, django_capture_on_commit_callbacks
):
    from exchange.models import Accreditation
    from exchange.services.membership import membership_reinstate, membership_suspend

    approved(tenant_a, operator)
    make_listings(tenant_a, 2)
    membership_suspend(operator=operator, org_id=tenant_a.org.pk, reason="Audit.")
    with tenant_context(tenant_a.org):
        Accreditation.objects.update(expires_on=date.today() - timedelta(days=1))
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        membership_reinstate(operator=operator, org_id=tenant_a.org.pk)
    assert listing_states(tenant_a) == [("paused", "standing")] * 2
    d = directory(tenant_a)
    assert (d.status, d.good_standing) == ("approved", False)
    assert any("accreditation lapsed" in m.subject for m in mailoutbox)


def test_the_operator_finds_the_console_in_the_account_menu_and_members_do_not(
    tenant_a, operator, client, login
):
    login(tenant_a.owner)
    dashboard = reverse("dashboard", kwargs={"org_slug": tenant_a.org.slug})
    assert reverse("operator_home") not in client.get(dashboard).content.decode()
    login(operator)
    assert reverse("operator_home") in client.get(reverse("operator_home")).content.decode()
    body = client.get(reverse("operator_standing")).content.decode()
    assert "Exchange operator console" in body
