"""Hook points roster declares for the apps downstream of it (see credex/hooks.py for the
contract: receivers are registered in AppConfig.ready(), run synchronously inside the caller's
transaction, audit there and enqueue with on_commit)."""

from __future__ import annotations

import uuid
from datetime import date

from credex.hooks import HookPoint

# The expiry inbox's payer-contract renewals (roster.services.inbox). Called by
# `inbox_generate` inside its per-organization transaction, in the organization's tenant
# context, with keyword arguments only:
#   - `org`, and `due_by=<date>`: every contract of `org` whose renewal date is on or before
#     `due_by`;
#   - `org`, and `ids=<contract ids>`: those contracts that still exist, each with its renewal
#     date now (None when it has none any more).
# A receiver returns `{contract id: renewal date or None}` and writes nothing. The inbox stores
# the contract on its item (InboxItem.contract); enrollment answers.
contract_renewals: HookPoint[..., dict[uuid.UUID, date | None]] = HookPoint(
    "roster.contract_renewals",
    "Payer contracts due for renewal (by date) or their renewal dates now (by id).",
)


# The dashboard's payer-enrollment block (roster.selectors.dashboard). Called with keyword
# arguments `org` and `today`, in the request's tenant context and transaction, once per
# dashboard render. A receiver reads only (no writes, no audit: the dashboard records no read)
# and returns the block's dict: `requested`, `overdue`, `in_progress`, `excluded_providers`
# (counts) and `top` (at most five `{"enrollment": row, "overdue": bool}`). The first
# receiver's block is shown; with none registered the block is empty. Enrollment answers.
dashboard_enrollments: HookPoint[..., dict] = HookPoint(
    "roster.dashboard_enrollments",
    "The dashboard's payer-enrollment block: counts and the top rows.",
)
