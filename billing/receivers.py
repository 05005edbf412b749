"""Billing's receivers of upstream hook points (registered in BillingConfig.ready)."""

from __future__ import annotations

from audit.services import Actor
from credex import org_hooks
from roster import hooks as roster_hooks


def _open_account(*, org, owner) -> None:
    from billing.services.accounts import account_open

    account_open(org=org, actor=Actor.member(owner))


def _seats_changed(*, org) -> None:
    """roster.provider_seats_changed: the debounced seat sync, enqueued on commit."""
    from billing.tasks.seats import seat_sync_request

    seat_sync_request(org=org)


def register() -> None:
    org_hooks.organization_created.register(_open_account)
    roster_hooks.provider_seats_changed.register(_seats_changed)
