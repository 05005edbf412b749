"""Billing API routes, mounted by credex.urls under /api/v1/."""

from billing.api import billing, coordinator, invoices, money

urlpatterns: list = [
    *billing.urlpatterns,
    *money.urlpatterns,
    *invoices.urlpatterns,
    *coordinator.urlpatterns,
]
