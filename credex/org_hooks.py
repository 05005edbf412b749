"""Hook points of the organization's life, declared by credex (see credex/hooks.py).

`organization_created(org=, owner=)`: runs inside `organization_create`'s transaction, in the
new organization's tenant context, after the owner's membership and the `org.created` audit
event. Billing opens the organization's billing account (the 14-day trial) here. A receiver
writes through its own services and audits in that transaction.

`writes_resumed(org=, paused_at=)`: the organization is writable again (billing: a payment
went through; credex/writes.py). Runs inside `organization_resume_writes`' transaction, in the
organization's tenant context, right after `writes_paused_at` was cleared; `paused_at` is when
the organization became read-only. Each receiver sends again, with `transaction.on_commit`,
the work of its app that was skipped meanwhile and would not come back by itself (jobs waiting
in a row are published by credex.jobs.jobs_resume; a daily job may simply run now). A receiver
only enqueues: it writes nothing here.
"""

from __future__ import annotations

from credex.hooks import HookPoint

organization_created: HookPoint[..., None] = HookPoint(
    "credex.organization_created",
    doc="A new organization was created (org=, owner=); in its transaction and tenant context.",
)

writes_resumed: HookPoint[..., None] = HookPoint(
    "credex.writes_resumed",
    doc="A read-only organization is writable again (org=, paused_at=): re-send skipped work "
    "on commit; in the resuming transaction and the organization's tenant context.",
)
