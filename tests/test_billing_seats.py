"""Seat sync: roster changes enqueue one debounced `billing.seats.sync` per organization per
window; the task sends the seat item's quantity to Stripe (the loopback stub) with proration
and an idempotency key from our ids; the nightly reconciliation corrects and records drift;
offline the count is recorded with no network; the seat rules (active, applicants from their
first verification; inactive and terminated never)."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from billing import gateway
from billing.models import BillingAccount, SeatSync
from billing.services.accounts import account_for
from billing.services.seats import seat_count
from billing.tasks.seats import seat_sync_task, seats_reconcile
from credex.tenancy import tenant_context
from tests.conftest import own_queue
from tests.factories import make_provider, valid_npi
from tests.stripe_stub import StripeStub
from tests.waiting import published_tasks

SYNC = "billing.seats.sync"


def _api(client, method, path, body, slug):
    return getattr(client, method)(
        path, json.dumps(body), content_type="application/json", HTTP_X_CREDEX_ORGANIZATION=slug
    )


def _account(org) -> BillingAccount:
    with tenant_context(org):
        return account_for(org)


def _link(org, *, billed: int, seats: int | None = None):
    """The account as a subscribed one: a subscription with a seat item."""
    with tenant_context(org):
        account = account_for(org)
        account.stripe_customer_id = "cus_1"
        account.stripe_subscription_id = "sub_1"
        account.stripe_seat_item_id = "si_seats"
        account.seats_billed = billed
        account.seats = billed if seats is None else seats
        account.save()
        return account


def _actions(org, prefix="billing.seats"):
    with tenant_context(org):
        return list(
            AuditEvent.objects.filter(action__startswith=prefix)
            .order_by("created_at")
            .values_list("action", flat=True)
        )


def _syncs(org):
    with tenant_context(org):
        return list(SeatSync.objects.order_by("created_at"))


@pytest.fixture
def stripe_stub(settings):
    with StripeStub() as stub:
        settings.STRIPE_SECRET_KEY = "sk_test_credex"
        settings.STRIPE_API_BASE = stub.url
        yield stub


def _seat_item(stub, quantity: int):
    """The stub's seat item: GET answers `quantity`, POST takes the new one."""
    state = {"quantity": quantity}

    def item():
        return {"id": "si_seats", "object": "subscription_item", "quantity": state["quantity"]}

    def update(req):
        state["quantity"] = int(req.form["quantity"])
        return item()

    stub.on("GET", r"^/v1/subscription_items/si_seats$", lambda req: item())
    stub.on("POST", r"^/v1/subscription_items/si_seats$", update)
    return state


def _syncs_published(published):
    """The seat syncs among the published tasks (a new provider is also screened)."""
    return [(name, kwargs) for name, kwargs in published if name == SYNC]


def _run(org, source="sync"):
    return seat_sync_task.apply(kwargs={"org_id": str(org.pk), "source": source}).get()


# --- debounce: roster changes through the API, one task per window ------------------------


def test_roster_changes_through_the_api_enqueue_one_sync_per_window(
    tenant_a, login, client, django_capture_on_commit_callbacks
):
    org = tenant_a.org
    slug = org.slug
    login(tenant_a.owner)
    with own_queue() as queue, published_tasks(queue) as published:
        ids = []
        for seed in (1, 2):
            with django_capture_on_commit_callbacks(execute=True):
                response = _api(
                    client,
                    "post",
                    "/api/v1/providers",
                    {
                        "first_name": "Ann",
                        "last_name": f"Lee{seed}",
                        "npi": valid_npi(seed),
                        "provider_type": "MD",
                        "status": "active",
                    },
                    slug,
                )
            assert response.status_code == 201, response.content
            ids.append(response.json()["id"])
        with django_capture_on_commit_callbacks(execute=True):
            response = _api(
                client, "patch", f"/api/v1/providers/{ids[0]}", {"status": "terminated"}, slug
            )
        assert response.status_code == 200, response.content
        # Three seat changes in the window: one task.
        assert _syncs_published(published) == [(SYNC, {"org_id": str(org.pk)})]

        assert _run(org) == "1 seats"
        account = _account(org)
        assert (account.seats, account.seats_billed) == (1, 1)  # offline: recorded as billed

        # The task ran: the next change starts a new window (and a task of its own).
        with django_capture_on_commit_callbacks(execute=True):
            response = _api(
                client, "patch", f"/api/v1/providers/{ids[0]}", {"status": "active"}, slug
            )
        assert response.status_code == 200
        assert _syncs_published(published) == [(SYNC, {"org_id": str(org.pk)})] * 2


def test_a_change_that_is_not_about_seats_enqueues_nothing(
    tenant_a, login, client, django_capture_on_commit_callbacks
):
    provider = make_provider(tenant_a.org, seed=3)
    login(tenant_a.owner)
    with own_queue() as queue, published_tasks(queue) as published:
        with django_capture_on_commit_callbacks(execute=True):
            response = _api(
                client,
                "patch",
                f"/api/v1/providers/{provider.pk}",
                {"phone": "555-0100"},
                tenant_a.org.slug,
            )
        assert response.status_code == 200, response.content
        assert _syncs_published(published) == []


def test_the_provider_page_enqueues_the_sync(
    tenant_a, login, client, django_capture_on_commit_callbacks
):
    org = tenant_a.org
    login(tenant_a.owner)
    with own_queue() as queue, published_tasks(queue) as published:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/o/{org.slug}/providers/new/",
                {
                    "first_name": "Page",
                    "last_name": "Added",
                    "npi": valid_npi(7),
                    "provider_type": "MD",
                    "status": "active",
                    "practice_states": "CA",
                },
            )
        assert response.status_code in (302, 303), response.content[:2000]
        assert _syncs_published(published) == [(SYNC, {"org_id": str(org.pk)})]
    with tenant_context(org):
        assert seat_count() == 1


# --- the task against Stripe ----------------------------------------------------------------


def test_the_sync_sends_the_quantity_with_proration_and_our_idempotency_key(tenant_a, stripe_stub):
    org = tenant_a.org
    account = _link(org, billed=0)
    state = _seat_item(stripe_stub, 0)
    make_provider(org, seed=1)
    make_provider(org, seed=2)
    assert _run(org) == "2 seats"

    (sync,) = _syncs(org)
    (req,) = stripe_stub.requests_to("POST", r"^/v1/subscription_items/si_seats$")
    assert req.form["quantity"] == "2"
    assert req.form["proration_behavior"] == "create_prorations"
    key = gateway.idempotency_key("seats", org.pk.hex, account.pk.hex, 2, sync.pk.hex)
    assert req.idempotency_key == key == sync.idempotency_key
    assert state["quantity"] == 2
    assert (sync.source, sync.seats, sync.previous_seats) == ("sync", 2, 0)
    assert (sync.stripe_quantity_before, sync.drift) == (0, False)
    account = _account(org)
    assert (account.seats, account.seats_billed) == (2, 2)
    assert account.seats_counted_at is not None
    assert _actions(org) == ["billing.seats_synced"]

    # Nothing changed: no Stripe write, no audit, no row.
    assert _run(org) == "unchanged"
    assert len(stripe_stub.requests_to("POST", r"^/v1/subscription_items/si_seats$")) == 1
    assert _actions(org) == ["billing.seats_synced"]
    assert len(_syncs(org)) == 1


def test_a_stripe_error_rolls_the_sync_back(tenant_a, stripe_stub):
    org = tenant_a.org
    _link(org, billed=0)
    stripe_stub.on(
        "GET",
        r"^/v1/subscription_items/si_seats$",
        lambda req: {"id": "si_seats", "object": "subscription_item", "quantity": 0},
    )
    stripe_stub.on(
        "POST",
        r"^/v1/subscription_items/si_seats$",
        lambda req: (400, {"error": {"type": "invalid_request_error", "message": "no"}}),
    )
    make_provider(org, seed=1)
    result = seat_sync_task.apply(kwargs={"org_id": str(org.pk)})
    assert result.failed()
    account = _account(org)
    assert (account.seats, account.seats_billed) == (0, 0)
    assert _syncs(org) == []
    assert _actions(org) == []


# --- the nightly reconciliation -------------------------------------------------------------


def test_the_nightly_run_corrects_drift_and_records_it(tenant_a, stripe_stub):
    org = tenant_a.org
    make_provider(org, seed=1)
    make_provider(org, seed=2)
    _link(org, billed=2)
    state = _seat_item(stripe_stub, 5)  # changed in Stripe's dashboard behind our back

    with own_queue() as queue, published_tasks(queue) as published:
        assert seats_reconcile.apply(kwargs={"force": True}).get() >= 1
    ours = [kw for name, kw in published if kw.get("org_id") == str(org.pk)]
    assert ours == [{"org_id": str(org.pk), "source": "nightly"}]
    assert all(name == SYNC for name, _ in published)

    assert _run(org, "nightly") == "2 seats"
    (req,) = stripe_stub.requests_to("POST", r"^/v1/subscription_items/si_seats$")
    assert req.form["quantity"] == "2"
    assert req.form["proration_behavior"] == "create_prorations"
    assert state["quantity"] == 2
    (sync,) = _syncs(org)
    assert (sync.source, sync.drift, sync.stripe_quantity_before) == ("nightly", True, 5)
    assert req.idempotency_key == sync.idempotency_key
    assert _actions(org) == ["billing.seats_synced", "billing.seats_drift_corrected"]
    with tenant_context(org):
        drift = AuditEvent.objects.get(action="billing.seats_drift_corrected")
    assert drift.data["stripe_quantity_before"] == 5
    assert drift.data["seats_billed_before"] == 2

    # The next night finds Stripe right: a row saying so, no write, no audit.
    assert _run(org, "nightly") == "2 seats"
    assert len(stripe_stub.requests_to("POST", r"^/v1/subscription_items/si_seats$")) == 1
    syncs = _syncs(org)
    assert len(syncs) == 2 and syncs[1].drift is False and syncs[1].idempotency_key == ""
    assert _actions(org) == ["billing.seats_synced", "billing.seats_drift_corrected"]


def test_the_nightly_fan_out_runs_once_a_day(db):
    from django.core.cache import cache
    from django.utils import timezone

    cache.delete(f"billing.seats.reconcile:{timezone.localdate()}")
    with own_queue():
        seats_reconcile.apply().get()
        assert seats_reconcile.apply().get() == 0


# --- offline ------------------------------------------------------------------------------


def test_offline_records_the_count_as_billed_with_no_network(tenant_a, settings):
    with StripeStub() as stub:
        settings.STRIPE_SECRET_KEY = ""
        settings.STRIPE_API_BASE = stub.url
        org = tenant_a.org
        # Even with Stripe ids on file, offline means no call.
        _link(org, billed=0)
        make_provider(org, seed=1)
        make_provider(org, seed=2, status="inactive")
        assert _run(org) == "1 seats"
        assert _run(org) == "unchanged"
        assert _run(org, "nightly") == "1 seats"
        assert stub.requests == []
    account = _account(org)
    assert (account.seats, account.seats_billed) == (1, 1)
    first, nightly = _syncs(org)
    assert (first.seats, first.previous_seats, first.idempotency_key) == (1, 0, "")
    assert first.stripe_quantity_before is None
    assert (nightly.source, nightly.drift) == ("nightly", False)
    assert _actions(org) == ["billing.seats_synced"]
    with tenant_context(org):
        event = AuditEvent.objects.get(action="billing.seats_synced")
    assert event.data["offline"] is True and event.data["sent_to_stripe"] is False


# --- the seat rules -------------------------------------------------------------------------


def test_inactive_and_terminated_providers_are_not_seats(tenant_a):
    org = tenant_a.org
    make_provider(org, seed=1, status="active")
    make_provider(org, seed=2, status="inactive")
    make_provider(org, seed=3, status="terminated")
    with tenant_context(org):
        assert seat_count() == 1


def test_an_applicant_is_a_seat_from_its_first_verification(
    tenant_a, login, client, django_capture_on_commit_callbacks
):
    org = tenant_a.org
    applicant = make_provider(org, seed=4, status="applicant")
    with tenant_context(org):
        assert seat_count() == 0
    login(tenant_a.owner)
    with own_queue() as queue, published_tasks(queue) as published:
        with django_capture_on_commit_callbacks(execute=True):
            response = _api(
                client,
                "post",
                f"/api/v1/providers/{applicant.pk}/verifications",
                {"source": "nppes", "method": "web", "result": "verified"},
                org.slug,
            )
        assert response.status_code == 201, response.content
        assert _syncs_published(published) == [(SYNC, {"org_id": str(org.pk)})]
    with tenant_context(org):
        assert seat_count() == 1
    assert _run(org) == "1 seats"
    assert _account(org).seats == 1
