"""Billing pages, mounted by credex.urls under /o/<slug>/billing/ (the read-only gate leaves
these routes writable: they are how an organization pays)."""

from billing.views import coordinator, invoices, overview, payouts, subscription

urlpatterns: list = [
    *overview.urlpatterns,
    *subscription.urlpatterns,
    *invoices.urlpatterns,
    *payouts.urlpatterns,
    *coordinator.urlpatterns,
]
