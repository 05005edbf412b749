"""Billing pages of a person rather than an organization, mounted at /clients/ by credex.urls:
the independent coordinator's per-client invoice and rate card (billing/views/coordinator.py)."""

from billing.views.coordinator import client_urlpatterns

urlpatterns = client_urlpatterns
