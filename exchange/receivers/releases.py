"""Exchange receivers of the hook points below it: releases.

- roster.hooks.inbox_items_due: a clinician release expiring within 30 days (or expired)
  that no newer release renewed is an inbox item linking to the provider's releases; a
  renewal moves its due date, so roster's daily run resolves the item as "renewed".
"""

from __future__ import annotations

from django.urls import reverse

from roster import hooks as roster_hooks
from roster.hooks import InboxDue
from roster.models import InboxKind


def _link(org, provider_id) -> str:
    return reverse("exchange_releases", kwargs={"org_slug": org.slug}) + f"?provider={provider_id}"


def inbox_items_due(*, org, due_by=None, ids=None) -> list[InboxDue]:
    """Releases due by `due_by`, or the releases `ids` as they stand now (reads only)."""
    from exchange.selectors import releases as selectors

    if ids is not None:
        dues = selectors.releases_due_now(org=org, ids=ids)
    else:
        dues = selectors.releases_due(org=org, due_by=due_by)
    return [
        InboxDue(
            kind=InboxKind.RELEASE_EXPIRY,
            subject_id=due.release_id,
            due_date=due.due_date,
            provider_id=due.provider_id,
            link=_link(org, due.provider_id),
        )
        for due in dues
    ]


def register() -> None:
    """Called from ExchangeConfig.ready()."""
    roster_hooks.inbox_items_due.register(inbox_items_due)
