"""Billing's Celery tasks, one module per area (imported here so the worker registers them):
seats (debounced sync, nightly reconciliation), lifecycle (trial expiry, dunning), invoices
(offline issuing), payouts (scheduled payouts, retries)."""

from billing.tasks import invoices, lifecycle, payouts, seats  # noqa: F401
