"""Exchange listings: every never-listable rule through the page and the API (each refused
with its own code, nothing written), the price band, pause/resume/withdraw, withdrawal when a
provider's exclusion is confirmed (the real confirm page) and when a correction supersedes the
record, expiry through the daily task, bulk listing through the real task with counts, the
PSV log's link, and who may do what."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import pytest
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from credex.services import api_key_create
from credex.tenancy import tenant_context
from exchange.models import (
    ClinicianRelease,
    ExchangeMembership,
    ExchangeSettings,
    Listing,
    ListingBatch,
    MemberDirectory,
)
from roster.services.providers import credential_create
from tests.factories import make_provider
from verifications.services.records import verification_correct, verification_record

# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _generous_throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


def make_member(org, *, status="approved", good_standing=True, name=None, trades=0, rating=None):
    """An exchange membership and its public directory row (the membership helper's services
    are not on this branch)."""
    with tenant_context(org):
        ExchangeMembership.objects.update_or_create(
            organization=org,
            defaults={
                "status": status,
                "display_name": name or org.name,
                "contact_name": "Casey Contact",
                "contact_email": "casey@example.com",
            },
        )
    MemberDirectory.objects.update_or_create(
        member=org,
        defaults={
            "display_name": name or org.name,
            "status": status,
            "good_standing": good_standing,
            "trade_count": trades,
            "rating_count": 1 if rating else 0,
            "rating_sum": rating or 0,
        },
    )


def add_release(org, provider, *, sources=None, expires_in=365):
    with tenant_context(org):
        return ClinicianRelease.objects.create(
            organization=org,
            provider=provider,
            scope_all=sources is None,
            scope_sources=sources or [],
            signed_on=date.today() - timedelta(days=1),
            expires_on=date.today() + timedelta(days=expires_in),
            method="document",
        )


def record(tenant, provider, *, source="state_board", result="verified", days_ago=10, **extra):
    """A PSV record through the real service (a credential for per-credential sources)."""
    actor = tenant.membership(tenant.owner)
    with tenant_context(tenant.org):
        credential = None
        if source in ("state_board", "dea", "board"):
            kind = {"state_board": "state_license", "dea": "dea", "board": "board_cert"}[source]
            credential = credential_create(
                org=tenant.org,
                actor=actor,
                provider=provider,
                kind=kind,
                state="CA",
                number="AB1234563" if source == "dea" else f"N-{uuid.uuid4().hex[:6]}",
            )
        return verification_record(
            org=tenant.org,
            actor=actor,
            provider=provider,
            credential=credential,
            source=source,
            source_state=extra.pop("source_state", "CA" if source == "state_board" else ""),
            method=extra.pop("method", "web"),
            result=result,
            verified_at=timezone.now() - timedelta(days=days_ago),
            **extra,
        )


@pytest.fixture
def seller(tenant_a):
    make_member(tenant_a.org, name="Acme Verified")
    return tenant_a


@pytest.fixture
def clinician(seller):
    provider = make_provider(seller.org, seed=7001, first_name="Robin", last_name="Quill")
    add_release(seller.org, provider)
    return provider


def listings_of(org, **filters):
    with tenant_context(org):
        return list(Listing.objects.filter(**filters))


def events(org, action):
    with tenant_context(org):
        return list(AuditEvent.objects.filter(action=action))


def api(client, method, path, body=None, **extra):
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, f"/api/v1/{path}", data, content_type="application/json", **extra)


def listings_url(tenant):
    return f"/o/{tenant.org.slug}/exchange/listings/"


def key_for(tenant, role):
    with tenant_context(tenant.org):
        return api_key_create(
            org=tenant.org, actor=tenant.membership(tenant.owner), name=role, role=role
        )[1]


# --- listing one record --------------------------------------------------------------------------


def test_a_coordinator_lists_a_verified_record_from_the_page_with_what_members_may_see(
    seller, clinician, login
):
    v = record(seller, clinician)
    client = login(seller.coordinator)
    page = client.get(f"{listings_url(seller)}?verification={v.pk}")
    assert page.status_code == 200 and b"List on the exchange" in page.content
    response = client.post(
        listings_url(seller), {"action": "create", "verification": str(v.pk), "price": ""}
    )
    assert response.status_code == 302
    (listing,) = listings_of(seller.org)
    assert listing.npi == clinician.npi and listing.clinician_name == "Robin Quill"
    assert (listing.source, listing.source_state, listing.method) == ("state_board", "CA", "web")
    assert listing.verified_at == v.verified_at
    assert listing.expires_at == v.verified_at + timedelta(days=120)
    assert listing.seller_name == "Acme Verified" and listing.price_cents is None
    assert listing.status == "live"
    (event,) = events(seller.org, "exchange.listing.created")
    assert event.target_id == str(listing.pk)
    assert b"Robin Quill" in client.get(listings_url(seller)).content


def test_the_api_lists_a_record_at_a_price_inside_the_band_and_refuses_one_outside(
    seller, clinician, login
):
    v = record(seller, clinician)
    client = login(seller.coordinator)
    # Fallback market rate 2500 cents, band 25%: 1875..3125.
    outside = api(
        client, "POST", "exchange/listings", {"verification_id": str(v.pk), "price_cents": 5000}
    )
    assert outside.status_code == 400 and outside.json()["code"] == "price_out_of_band"
    assert outside.json()["details"]["low_cents"] == 1875
    assert listings_of(seller.org) == []
    inside = api(
        client, "POST", "exchange/listings", {"verification_id": str(v.pk), "price_cents": 3000}
    )
    assert inside.status_code == 201, inside.content
    assert inside.json()["price_cents"] == 3000 and inside.json()["price_now_cents"] == 3000
    again = api(client, "POST", "exchange/listings", {"verification_id": str(v.pk)})
    assert again.status_code == 409 and again.json()["code"] == "already_listed"
    body = api(client, "GET", "exchange/listings").json()
    assert [x["id"] for x in body] == [inside.json()["id"]]


def _refusal_cases():
    """(name, setup(seller, clinician, tenant_b) -> verification id, expected code)."""

    def npdb(s, c):
        return record(s, c, source="npdb").pk

    def discrepancy(s, c):
        return record(s, c, result="discrepancy").pk

    def unable(s, c):
        return record(s, c, result="unable").pk

    def superseded(s, c):
        v = record(s, c)
        with tenant_context(s.org):
            verification_correct(
                org=s.org, actor=s.membership(s.owner), verification=v, reason="typo"
            )
        return v.pk

    def too_old(s, c):
        return record(s, c, days_ago=121).pk

    def excluded(s, c):
        v = record(s, c)
        with tenant_context(s.org):
            type(c).objects.filter(pk=c.pk).update(excluded=True)
        return v.pk

    def no_release(s, c):
        other = make_provider(s.org, seed=7099)
        return record(s, other).pk

    def release_of_another_type(s, c):
        other = make_provider(s.org, seed=7098)
        add_release(s.org, other, sources=["dea"])
        return record(s, other).pk

    def purchased(s, c):
        return record(s, c, method="exchange").pk

    def no_npi(s, c):
        other = make_provider(s.org, seed=7097, npi="")
        add_release(s.org, other)
        return record(s, other).pk

    def not_a_member(s, c):
        v = record(s, c)
        make_member(s.org, status="pending", good_standing=False)
        return v.pk

    def suspended(s, c):
        v = record(s, c)
        make_member(s.org, status="suspended", good_standing=True)
        return v.pk

    def not_in_good_standing(s, c):
        v = record(s, c)
        make_member(s.org, good_standing=False)
        return v.pk

    return [
        ("npdb", npdb, "npdb"),
        ("discrepancy", discrepancy, "not_verified"),
        ("unable", unable, "not_verified"),
        ("superseded", superseded, "superseded"),
        ("too_old", too_old, "too_old"),
        ("excluded", excluded, "excluded"),
        ("no_release", no_release, "no_release"),
        ("release_of_another_type", release_of_another_type, "no_release"),
        ("no_npi", no_npi, "no_npi"),
        ("purchased", purchased, "purchased"),
        ("not_a_member", not_a_member, "not_a_member"),
        ("suspended", suspended, "not_a_member"),
        ("not_in_good_standing", not_in_good_standing, "not_in_good_standing"),
    ]


@pytest.mark.parametrize("via", ["page", "api"])
@pytest.mark.parametrize("case", _refusal_cases(), ids=lambda c: c[0])
def test_a_record_that_must_never_be_listed_is_refused_with_its_code_and_nothing_is_written(
    seller, clinician, login, case, via
):
    _, setup, code = case
    verification_id = setup(seller, clinician)
    client = login(seller.coordinator)
    before = len(events(seller.org, "exchange.listing.created"))
    if via == "api":
        response = api(
            client, "POST", "exchange/listings", {"verification_id": str(verification_id)}
        )
        assert response.status_code == 409, response.content
        body = response.json()
        assert body["code"] == code and body["message"]
        assert code in [r["code"] for r in body["details"]["refusals"]]
    else:
        response = client.post(
            listings_url(seller), {"action": "create", "verification": str(verification_id)}
        )
        assert response.status_code == 409
        assert f"({code})".encode() in response.content
    assert listings_of(seller.org) == []
    assert len(events(seller.org, "exchange.listing.created")) == before


def test_the_npdb_refusal_says_federal_law_forbids_sharing_and_the_buyer_must_query(
    seller, clinician, login
):
    v = record(seller, clinician, source="npdb")
    page = login(seller.coordinator).get(f"{listings_url(seller)}?verification={v.pk}")
    text = page.content.decode()
    assert "federal law forbids sharing" in text and "run its own NPDB query" in text
    assert 'name="action" value="create"' not in text


def test_a_foreign_or_malformed_verification_id_is_not_found_and_writes_nothing(
    seller, clinician, tenant_b, login
):
    make_member(tenant_b.org)
    foreign_provider = make_provider(tenant_b.org, seed=7201)
    foreign = record(tenant_b, foreign_provider)
    client = login(seller.coordinator)
    for value in [str(foreign.pk), str(uuid.uuid4())]:
        r = api(client, "POST", "exchange/listings", {"verification_id": value})
        assert r.status_code == 404 and set(r.json()) == {"code", "message", "details"}
    r = api(client, "POST", "exchange/listings", {"verification_id": "x\x00y"})
    assert r.status_code == 400 and set(r.json()) == {"code", "message", "details"}
    page = client.post(listings_url(seller), {"action": "create", "verification": "\x00"})
    assert page.status_code == 400
    page = client.post(listings_url(seller), {"action": "create", "verification": str(foreign.pk)})
    assert page.status_code == 404
    assert client.get(f"{listings_url(seller)}?verification={foreign.pk}").status_code == 200
    assert listings_of(seller.org) == [] and listings_of(tenant_b.org) == []


def test_hostile_bodies_are_refused_with_the_error_shape(seller, clinician, login):
    v = record(seller, clinician)
    client = login(seller.coordinator)
    for body in [
        {"verification_id": str(v.pk), "price_cents": "12\x00"},
        {"verification_id": str(v.pk), "price_cents": 10**12},
        {"verification_id": str(v.pk), "price_cents": -5},
        {"verification_id": str(v.pk), "price_cents": True},
        {"verification_id": ["a" * 10000]},
        ["not", "an", "object"],
    ]:
        r = api(client, "POST", "exchange/listings", body)
        assert 400 <= r.status_code < 500, (body, r.status_code)
        assert set(r.json()) == {"code", "message", "details"}
    big = client.generic(
        "POST",
        "/api/v1/exchange/listings",
        json.dumps({"verification_id": str(v.pk), "pad": "x" * 5_000_000}),
        content_type="application/json",
    )
    assert 400 <= big.status_code < 500
    page = client.post(
        listings_url(seller), {"action": "create", "verification": str(v.pk), "price": "1e9"}
    )
    assert page.status_code == 400
    assert client.post(listings_url(seller), {"action": "\x00"}).status_code == 400
    assert listings_of(seller.org) == []


# --- pause, resume, withdraw --------------------------------------------------------------------


def _listed(seller, clinician, **extra):
    v = record(seller, clinician, **extra)
    from exchange.services.listings import listing_create

    with tenant_context(seller.org):
        return listing_create(
            org=seller.org, actor=seller.membership(seller.coordinator), verification_id=v.pk
        )


def test_the_seller_pauses_resumes_and_withdraws_a_listing_through_the_api_and_audits_each(
    seller, clinician, login
):
    listing = _listed(seller, clinician)
    client = login(seller.coordinator)
    r = api(client, "POST", f"exchange/listings/{listing.pk}/pause")
    assert r.status_code == 200 and r.json()["status"] == "paused"
    assert r.json()["status_reason"] == "seller"
    assert api(client, "POST", f"exchange/listings/{listing.pk}/pause").status_code == 409
    r = api(client, "POST", f"exchange/listings/{listing.pk}/resume")
    assert r.status_code == 200 and r.json()["status"] == "live"
    r = api(client, "POST", f"exchange/listings/{listing.pk}/withdraw")
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert api(client, "POST", f"exchange/listings/{listing.pk}/resume").status_code == 409
    for action in ("paused", "resumed", "withdrawn"):
        assert len(events(seller.org, f"exchange.listing.{action}")) == 1


def test_the_page_pauses_and_resumes_a_listing_and_a_platform_pause_is_not_resumable_by_the_seller(
    seller, clinician, login
):
    listing = _listed(seller, clinician)
    client = login(seller.coordinator)
    url = listings_url(seller)
    assert client.post(url, {"action": "pause", "listing": str(listing.pk)}).status_code == 302
    assert listings_of(seller.org)[0].status == "paused"
    assert client.post(url, {"action": "resume", "listing": str(listing.pk)}).status_code == 302
    assert listings_of(seller.org)[0].status == "live"
    from audit.services import Actor
    from exchange.services.listings import listing_pause

    with tenant_context(seller.org):
        listing_pause(
            org=seller.org, actor=Actor.system("standing"), listing=listing, reason="standing"
        )
    r = api(client, "POST", f"exchange/listings/{listing.pk}/resume")
    assert r.status_code == 409 and r.json()["code"] == "paused_by_platform"
    assert listings_of(seller.org)[0].status == "paused"


def test_an_auditor_outsider_and_anonymous_cannot_list_or_change_listings(
    seller, clinician, tenant_b, login, client
):
    listing = _listed(seller, clinician)
    v2 = record(seller, clinician, source="dea")
    url = listings_url(seller)
    # anonymous
    assert client.get(url).status_code == 302
    assert api(client, "GET", "exchange/listings").status_code == 401
    assert api(client, "POST", f"exchange/listings/{listing.pk}/pause").status_code == 401
    # read-only
    auditor = login(seller.auditor)
    assert auditor.get(url).status_code == 200
    assert auditor.post(url, {"action": "create", "verification": str(v2.pk)}).status_code == 403
    assert auditor.post(url, {"action": "pause", "listing": str(listing.pk)}).status_code == 403
    assert auditor.post(url, {"action": "bulk"}).status_code == 403
    r = api(auditor, "POST", "exchange/listings", {"verification_id": str(v2.pk)})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert api(auditor, "POST", f"exchange/listings/{listing.pk}/pause").status_code == 403
    assert api(auditor, "POST", "exchange/listings/bulk").status_code == 403
    key = {"HTTP_AUTHORIZATION": f"Api-Key {key_for(seller, 'auditor')}"}
    client.logout()
    assert (
        api(client, "POST", "exchange/listings", {"verification_id": str(v2.pk)}, **key).status_code
        == 403
    )
    # outsider (another organization's owner)
    outsider = login(tenant_b.owner)
    assert outsider.get(url).status_code == 404
    outsider_key = {"HTTP_AUTHORIZATION": f"Api-Key {key_for(tenant_b, 'admin')}"}
    client.logout()
    r = api(client, "POST", f"exchange/listings/{listing.pk}/pause", **outsider_key)
    assert r.status_code == 404
    r = api(client, "POST", "exchange/listings", {"verification_id": str(v2.pk)}, **outsider_key)
    assert r.status_code == 404
    assert [x.status for x in listings_of(seller.org)] == ["live"]


# --- withdrawal by the platform -------------------------------------------------------------------


def _confirmable_hit(tenant, provider):
    from screening import models as s

    with tenant_context(tenant.org):
        version = s.DatasetVersion.objects.create(
            source="leie", as_of=date(2026, 11, 1), sha256="e" * 64, origin="test"
        )
        run = s.ScreeningRun.objects.create(
            organization=tenant.org, trigger="on_demand", provider=provider
        )
        return s.ScreeningHit.objects.create(
            organization=tenant.org,
            provider=provider,
            run=run,
            source="leie",
            dataset_version=version,
            source_record_key="k" * 32,
            record_hash="h" * 32,
            kind="npi",
            score=100,
        )


def test_confirming_an_exclusion_on_the_hit_page_withdraws_every_listing_of_the_provider_at_once(
    seller, clinician, login
):
    first = _listed(seller, clinician)
    second = _listed(seller, clinician, source="dea")
    other = make_provider(seller.org, seed=7301)
    add_release(seller.org, other)
    untouched = _listed(seller, other)
    hit = _confirmable_hit(seller, clinician)
    client = login(seller.coordinator)
    response = client.post(
        f"/o/{seller.org.slug}/screening/hits/{hit.pk}/confirm/", {"note": "same NPI"}
    )
    assert response.status_code in (200, 302), response.content[:300]
    by_id = {x.pk: x for x in listings_of(seller.org)}
    for listing in (first, second):
        assert by_id[listing.pk].status == "withdrawn"
        assert by_id[listing.pk].status_reason == "exclusion"
    assert by_id[untouched.pk].status == "live"
    withdrawn = events(seller.org, "exchange.listing.withdrawn")
    assert {e.target_id for e in withdrawn} == {str(first.pk), str(second.pk)}
    # and nothing of theirs can be listed again
    v = record(seller, clinician, source="board")
    r = api(client, "POST", "exchange/listings", {"verification_id": str(v.pk)})
    assert r.status_code == 409 and r.json()["code"] == "excluded"


def test_a_receiver_failure_rolls_the_confirmation_back(seller, clinician, login):
    from screening import hooks
    from screening.models import ScreeningHit

    _listed(seller, clinician)
    hit = _confirmable_hit(seller, clinician)

    def refuse(**kwargs):
        raise RuntimeError("no")

    hooks.exclusion_confirmed.register(refuse)
    try:
        from screening.services.hits import hit_confirm

        with pytest.raises(RuntimeError), tenant_context(seller.org):
            hit_confirm(org=seller.org, actor=seller.membership(seller.coordinator), hit=hit)
    finally:
        hooks.exclusion_confirmed.unregister(refuse)
    with tenant_context(seller.org):
        assert ScreeningHit.objects.get(pk=hit.pk).status == "new"
    assert listings_of(seller.org)[0].status == "live"


def test_a_correction_superseding_a_listed_record_withdraws_its_listing(seller, clinician):
    listing = _listed(seller, clinician)
    with tenant_context(seller.org):
        v = listing.verification
        correction = verification_correct(
            org=seller.org,
            actor=seller.membership(seller.coordinator),
            verification=v,
            reason="wrong licence number",
            result="discrepancy",
        )
    (after,) = listings_of(seller.org)
    assert after.status == "withdrawn" and after.status_reason == "superseded"
    assert events(seller.org, "exchange.listing.withdrawn")[0].target_id == str(listing.pk)
    assert correction.supersedes_id == v.pk


# --- expiry ---------------------------------------------------------------------------------------


def test_the_daily_task_expires_listings_past_the_maximum_age_in_every_member_organization(
    seller, clinician, tenant_b, monkeypatch
):
    from exchange.tasks.listings import listings_expire_daily, listings_expire_task

    # The fan-out's messages run here, in the test's transaction (no worker).
    sent = []
    monkeypatch.setattr(
        listings_expire_task,
        "apply_async",
        lambda kwargs: sent.append(kwargs) or listings_expire_task.apply(kwargs=kwargs),
    )

    fresh = _listed(seller, clinician, days_ago=5)
    stale = _listed(seller, clinician, source="dea", days_ago=100)
    with tenant_context(seller.org):
        Listing.objects.filter(pk=stale.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    make_member(tenant_b.org)
    assert listings_expire_daily.name == "exchange.listings.expire_daily"
    assert listings_expire_daily.apply().get() == 2  # both member organizations
    assert {k["org_id"] for k in sent} == {str(seller.org.pk), str(tenant_b.org.pk)}
    by_id = {x.pk: x for x in listings_of(seller.org)}
    assert by_id[stale.pk].status == "expired" and by_id[fresh.pk].status == "live"
    (event,) = events(seller.org, "exchange.listing.expired")
    assert event.target_id == str(stale.pk)
    # resuming an expired listing is refused
    with tenant_context(seller.org), pytest.raises(Exception) as refused:
        from exchange.services.listings import listing_resume

        listing_resume(
            org=seller.org, actor=seller.membership(seller.coordinator), listing=by_id[stale.pk]
        )
    assert getattr(refused.value, "status", None) == 409


def test_the_maximum_age_is_the_platform_setting(seller, clinician, login):
    ExchangeSettings.objects.update_or_create(pk=1, defaults={"max_age_days": 30})
    v = record(seller, clinician, days_ago=31)
    r = api(login(seller.coordinator), "POST", "exchange/listings", {"verification_id": str(v.pk)})
    assert r.status_code == 409 and r.json()["code"] == "too_old"
    assert "30-day" in r.json()["message"]


# --- bulk -----------------------------------------------------------------------------------------


def test_bulk_listing_through_the_real_task_lists_every_eligible_record_and_counts_skips(
    seller, clinician, login, django_capture_on_commit_callbacks
):
    from exchange.tasks.listings import listing_batch_task

    record(seller, clinician)  # listable
    record(seller, clinician, source="dea")  # listable
    record(seller, clinician, source="npdb")
    record(seller, clinician, result="discrepancy")
    record(seller, clinician, days_ago=200)
    no_release = make_provider(seller.org, seed=7401)
    record(seller, no_release)
    already = _listed(seller, clinician, source="board")
    client = login(seller.coordinator)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(listings_url(seller), {"action": "bulk"})
    assert response.status_code == 302
    (batch,) = _batches(seller.org)
    assert batch.status == "queued" and batch.total == 6
    assert [c for c in callbacks if "exchange.listings.bulk" in c.__qualname__]
    result = listing_batch_task.apply(
        kwargs={"org_id": str(seller.org.pk), "batch_id": str(batch.pk)}
    ).get()
    assert result["listed"] == 2
    (batch,) = _batches(seller.org)
    assert batch.status == "done" and batch.processed == 6 and batch.listed == 2
    assert batch.skipped == {"npdb": 1, "not_verified": 1, "too_old": 1, "no_release": 1}
    live = listings_of(seller.org, status="live")
    assert len(live) == 3 and already.pk in {x.pk for x in live}
    page = client.get(f"{listings_url(seller)}?batch={batch.pk}", HTTP_HX_REQUEST="true")
    assert page.status_code == 200 and b"2 records listed" in page.content
    assert b"no_release" in page.content
    assert len(events(seller.org, "exchange.listing_batch.finished")) == 1


def test_a_running_batch_shows_a_progress_bar_that_polls(seller, clinician, login):
    from exchange.services.listings import listing_batch_start

    record(seller, clinician)
    with tenant_context(seller.org):
        batch = listing_batch_start(org=seller.org, actor=seller.membership(seller.coordinator))
    client = login(seller.coordinator)
    page = client.get(f"{listings_url(seller)}?batch={batch.pk}").content.decode()
    assert "<progress" in page and 'hx-trigger="every 1s"' in page
    r = api(client, "POST", "exchange/listings/bulk")
    assert r.status_code == 409 and r.json()["code"] == "batch_running"
    body = api(client, "GET", f"exchange/listings/batches/{batch.pk}").json()
    assert body["status"] == "queued" and body["total"] == 1


def test_bulk_listing_is_refused_to_a_seller_not_in_good_standing(seller, clinician, login):
    make_member(seller.org, good_standing=False)
    r = api(login(seller.coordinator), "POST", "exchange/listings/bulk")
    assert r.status_code == 409 and r.json()["code"] == "not_in_good_standing"
    assert _batches(seller.org) == []


def _batches(org):
    with tenant_context(org):
        return list(ListingBatch.objects.all())


# --- the PSV log link -----------------------------------------------------------------------------


def test_the_psv_log_offers_to_list_a_verified_record_but_not_an_npdb_result(
    seller, clinician, login
):
    v = record(seller, clinician)
    npdb = record(seller, clinician, source="npdb")
    page = login(seller.coordinator).get(f"/o/{seller.org.slug}/providers/{clinician.pk}/")
    text = page.content.decode()
    assert f"exchange/listings/?verification={v.pk}" in text
    assert f"exchange/listings/?verification={npdb.pk}" not in text
