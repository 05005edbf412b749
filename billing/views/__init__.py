"""Billing's pages, one module per area (each exports `urlpatterns`, mounted by billing/urls.py):

- overview: the billing page (plan, seats and how they were counted, status, next invoice
  preview with every line, payment method, membership fee, payouts and the payout account)
- pricing: the public pricing page (/pricing/, mounted through billing/public_urls.py)
- subscription: plan choice, Checkout, the customer portal, the seats list
- invoices: invoices and their PDFs, the seller's and buyer's statement
- payouts: Connect onboarding, payouts, charge settings
- coordinator: the independent coordinator's per-client invoice export and rate card
- webhooks: POST /webhooks/stripe (mounted by credex.urls)
"""
