"""Billing's foundation: a new organization opens its trial, the plans are data, and a
read-only organization refuses writes on pages and API while reads and billing stay open."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from billing.models import BillingAccount, BillingStatus, MembershipTier, Plan
from billing.services.accounts import account_for, writes_pause, writes_resume
from credex.money import format_cents
from credex.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def test_plans_and_tiers_are_seeded_data():
    monthly = Plan.objects.get(code="practices", interval="month", version=1)
    yearly = Plan.objects.get(code="practices", interval="year", version=1)
    assert (monthly.base_cents, monthly.seat_cents, monthly.trial_days) == (9900, 1500, 14)
    assert (yearly.base_cents, yearly.seat_cents) == (118800, 14400)
    tiers = list(MembershipTier.objects.filter(version=1).order_by("min_clinicians"))
    assert tiers[0].min_clinicians == 1 and tiers[-1].max_clinicians is None


def test_a_new_organization_starts_a_14_day_trial_with_no_card(tenant_a):
    with tenant_context(tenant_a.org):
        account = BillingAccount.objects.get()
        assert account.status == BillingStatus.TRIALING
        assert account.stripe_customer_id == ""
        assert account.trial_ends_at - account.trial_started_at == timedelta(days=14)
        actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "billing.trial_started" in actions


def _pause(org):
    with tenant_context(org):
        account = account_for(org)
        assert writes_pause(org=org, account=account, reason="trial ended without a card")
        assert not writes_pause(org=org, account=account, reason="again")  # once


def test_read_only_refuses_page_and_api_writes_and_keeps_reads(tenant_a, login, client):
    _pause(tenant_a.org)
    login(tenant_a.owner)
    slug = tenant_a.org.slug
    before = tenant_a.org.name
    page = client.post(f"/o/{slug}/settings/", {"name": "Renamed while past due"})
    assert page.status_code == 402
    assert b"Billing past due" in page.content
    api = client.post(
        "/api/v1/providers",
        {"first_name": "Ann", "last_name": "Lee"},
        content_type="application/json",
        HTTP_X_CREDEX_ORGANIZATION=slug,
    )
    assert api.status_code == 402
    assert api.json()["code"] == "billing_past_due"
    assert api.json()["details"]["billing_url"] == f"/o/{slug}/billing/"
    tenant_a.org.refresh_from_db()
    assert tenant_a.org.name == before
    assert client.get(f"/o/{slug}/").status_code == 200
    assert client.get("/api/v1/providers", HTTP_X_CREDEX_ORGANIZATION=slug).status_code == 200


def test_paying_restores_writes_at_once(tenant_a, login, client):
    _pause(tenant_a.org)
    org = tenant_a.org
    with tenant_context(org):
        account = account_for(org)
        assert writes_resume(org=org, account=account, status=BillingStatus.ACTIVE, reason="paid")
        actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert {"billing.read_only_on", "billing.read_only_off"} <= set(actions)
    login(tenant_a.owner)
    response = client.post(
        "/api/v1/providers",
        {"first_name": "Ann", "last_name": "Lee"},
        content_type="application/json",
        HTTP_X_CREDEX_ORGANIZATION=org.slug,
    )
    assert response.status_code != 402


def test_money_has_one_format():
    assert format_cents(123456789) == "$1,234,567.89"
    assert format_cents(-500) == "-$5.00"
    assert format_cents(None) == ""
