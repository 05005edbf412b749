"""Permission-matrix part: billing. An allowed PATCH changes the billing settings; the
checkout POST answers payments_not_configured offline (a domain 400, nothing written)."""

from __future__ import annotations

BODIES: dict = {
    ("api_billing", "PATCH"): {"charge_mode": "immediate", "interval": "year"},
    ("api_billing_checkout", "POST"): {},
    ("api_billing_payouts", "POST"): {},
}
READS_BY_POST: set = set()


def ids(tenant, base: dict) -> dict:
    """An offline invoice of org A (its trial is over, so the plan is billed)."""
    from datetime import UTC, date, datetime

    from billing.models import BillingAccount
    from billing.services.invoices import invoice_issue
    from credex.tenancy import tenant_context

    with tenant_context(tenant.org):
        BillingAccount.objects.filter(organization_id=tenant.org.pk).update(
            trial_ends_at=datetime(2026, 1, 1, tzinfo=UTC)
        )
        invoice = invoice_issue(
            org=tenant.org, period_start=date(2026, 11, 1), period_end=date(2026, 11, 30)
        )
    return {"invoice_id": invoice.pk}


def snapshot(org) -> dict:
    from billing.models import BillingAccount, Payout
    from credex.tenancy import tenant_context

    with tenant_context(org):
        return {
            "billing_accounts": sorted(
                BillingAccount.objects.values_list(
                    "id", "plan_id", "charge_mode", "payout_schedule", "billing_email", "status"
                )
            ),
            "billing_payouts": sorted(Payout.objects.values_list("id", "status")),
        }
