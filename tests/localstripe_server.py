"""localstripe (PyPI) as the tests run it: `python -m tests.localstripe_server --port N`.

localstripe is a stateful fake of Stripe's API: customers, payment methods, plans,
subscriptions with a quantity, invoices, cancellation, and webhooks signed like Stripe's. The
tests start it on loopback (tests/test_billing_localstripe.py) and point the real `stripe` SDK
at it. Two things are adjusted here, and only these:

- its SubscriptionItem update refuses `proration_behavior`, the parameter Stripe's API has
  taken since 2019 (localstripe only prorates through the legacy Subscription update). Here it
  accepts it and, for `create_prorations`, adds the pending invoice item for the quantity
  difference over the rest of the period, as Stripe does; the item keeps its id.
- its store is not pickled to /tmp/localstripe.pickle after every write (several test runs on
  one machine would write the same file); each run starts empty and lives in memory.
"""

from __future__ import annotations

import argparse
import time

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError

resources.Store.dump_to_disk = lambda self: None

_original_update = resources.SubscriptionItem._update


def _update(self, proration_behavior=None, **data):
    if proration_behavior not in (None, "create_prorations", "none", "always_invoice"):
        raise UserError(400, "Bad request")
    before = self.quantity
    if "quantity" in data:
        data["quantity"] = resources.try_convert_to_int(data["quantity"])
        if type(data["quantity"]) is not int or data["quantity"] <= 0:
            raise UserError(400, "Bad request")
    _original_update(self, **data)
    subscription = (
        resources.Subscription._api_retrieve(self._subscription) if self._subscription else None
    )
    if subscription is None or self.quantity == before:
        return
    subscription.quantity = self.quantity
    if proration_behavior in (None, "create_prorations", "always_invoice"):
        period = self._current_period()
        now = int(time.time())
        length = max(period["end"] - period["start"], 1)
        rest = max(period["end"] - now, 0) / length
        amount = round(self.plan.amount * (self.quantity - before) * rest)
        if amount:
            resources.InvoiceItem(
                amount=amount,
                currency=self.plan.currency,
                proration=True,
                description=f"Remaining time for {self.quantity - before:+d} seat(s)",
                subscription=subscription.id,
                plan=self.plan.id,
                customer=subscription.customer,
                period_start=now,
                period_end=period["end"],
            )


resources.SubscriptionItem._update = _update


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(server.app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
