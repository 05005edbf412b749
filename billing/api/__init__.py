"""Billing's API, one module per area (each exports `urlpatterns`, mounted by billing/api_urls.py
under /api/v1/): billing (GET /billing, /billing/invoices), money (GET/POST /billing/payouts),
invoices (GET /billing/invoices/<id>, /billing/statement), coordinator (per-client invoice
export)."""
