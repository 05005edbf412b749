"""The exchange API under /api/v1/exchange/, one module per area."""
