"""Exchange receivers of the hook points below it: pricing (billing's public pricing page)."""

from __future__ import annotations

from billing import hooks as billing_hooks


def exchange_fee_rule() -> billing_hooks.FeeRule:
    """billing.exchange_fee_rule: the operator's facilitation fee (read only: the settings row
    is not created here)."""
    from exchange.models import ExchangeSettings

    current = ExchangeSettings.objects.filter(pk=1).first() or ExchangeSettings()
    return billing_hooks.FeeRule(
        basis_points=current.fee_basis_points, minimum_cents=current.fee_minimum_cents
    )


def register() -> None:
    """Called from ExchangeConfig.ready()."""
    billing_hooks.exchange_fee_rule.register(exchange_fee_rule)
