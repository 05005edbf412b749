"""Hook points billing declares for the apps downstream of it (see credex/hooks.py for the
contract: receivers are registered in AppConfig.ready()).

Billing sits below the exchange and imports none of it: where a billing page must show one of
the exchange's rules, billing asks through one of these, and the exchange answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from credex.hooks import HookPoint


@dataclass(frozen=True)
class FeeRule:
    """The exchange's facilitation fee on a purchase: basis points of the price (100 = 1%),
    at least `minimum_cents`."""

    basis_points: int
    minimum_cents: int


exchange_fee_rule: HookPoint[[], FeeRule] = HookPoint(
    "billing.exchange_fee_rule",
    """The facilitation fee the exchange adds to each purchase, for the public pricing page.

    Passes nothing. Called by `billing.selectors.pricing` while a page renders (anonymous
    visitors included), in whatever transaction the request runs, outside any organization's
    scope. A receiver returns a `FeeRule` read from its own settings and must not write.
    Billing shows the first answer; with no receiver the page leaves the fee out.
    Receivers: exchange (ExchangeSettings.fee_basis_points and fee_minimum_cents).
    """,
)
