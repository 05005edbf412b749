"""Billing's actions, one module per area:

- ledger: the double-entry ledger (entry_post, entry_reverse, trial_balance)
- accounts: an organization's billing account, trial, plan choice, read-only on/off
- subscriptions: Stripe customer, Checkout, portal, subscription state
- seats: seat counting, the debounced seat sync and the nightly reconciliation
- webhooks: Stripe webhook events, each processed once
- dunning: failed payments, dunning e-mails, the grace period
- invoices: invoice records (offline issuing and Stripe mirroring), the next-invoice preview
- charges: exchange purchase charges and membership fees to invoice items or immediate charges
- payouts: Connect onboarding, payouts and their retries
- coordinator: the independent coordinator's per-client invoice

The ledger's names are re-exported here (the exchange posts trades through them).
"""

from billing.services.ledger import (
    AccountKind,
    EntryKind,
    Leg,
    entry_post,
    entry_reverse,
    trial_balance,
)

__all__ = ["AccountKind", "EntryKind", "Leg", "entry_post", "entry_reverse", "trial_balance"]
