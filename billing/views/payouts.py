"""Billing pages: payouts (see billing/views/__init__.py)."""

urlpatterns: list = []
