"""The demo's billing (demo/seeders/billing.py), seeded through the services: Riverbend in the
last week of its trial, Lakeside billed, Summit past due after a failed payment (through the
webhook handler), a seller's proceeds paid out; a second run changes nothing."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from billing.models import BillingAccount, BillingStatus, Payout
from credex.models import User
from credex.tenancy import tenant_context
from demo.seeders.billing import seed_demo_billing
from demo.seeders.exchange import seed_demo_exchange
from tests.test_demo_exchange import demo_orgs  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db(transaction=False)


def _account(org) -> BillingAccount:
    with tenant_context(org):
        return BillingAccount.objects.get(organization_id=org.pk)


def test_the_demo_billing_states_and_only_once(demo_orgs, client):  # noqa: F811
    seed_demo_exchange()
    seed_demo_billing()

    riverbend, lakeside, summit = (demo_orgs[s] for s in ("riverbend", "lakeside", "summit"))
    assert _account(riverbend).status == BillingStatus.TRIALING
    assert _account(lakeside).status == BillingStatus.ACTIVE
    assert _account(summit).status == BillingStatus.PAST_DUE
    with tenant_context(summit):
        assert AuditEvent.objects.filter(action="billing.dunning_sent").exists()
    with tenant_context(riverbend):  # the seller
        (payout,) = Payout.objects.all()
        assert payout.status == "recorded" and payout.amount_cents > 0

    def counts():
        out = []
        for org in demo_orgs.values():
            with tenant_context(org):
                out.append((AuditEvent.objects.count(), Payout.objects.count()))
        return out

    before = counts()
    seed_demo_billing()
    assert counts() == before

    # What the owners see: the trial banner at Riverbend, past due at Summit.
    client.force_login(User.objects.get(email="owner@riverbend.demo.example"))
    assert "5 days left in the free trial" in client.get("/o/riverbend/").content.decode()
    client.force_login(User.objects.get(email="owner@summit.demo.example"))
    assert "A payment failed." in client.get("/o/summit/").content.decode()
