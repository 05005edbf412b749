"""Billing pages outside an organization: the public pricing page (/pricing/)."""

from billing.views import pricing

urlpatterns: list = [*pricing.urlpatterns]
