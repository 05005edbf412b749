"""Hook points credex declares for member removal (the contract is credex/hooks.py's).

A member is removed, not deleted (`Membership.removed_at`): the rows that record what they did
keep pointing at them. What they still had open is another app's work, so credex does not
touch it; it asks the apps through these two hooks, which receivers in roster, verifications
(and whatever else owns assigned work) register in their `AppConfig.ready()`.

`membership_removal_preview(org=, removed=)` -> list[OpenWork]
    Collected (read-only) before the remover confirms, and again inside the removal, for the
    confirmation page, the API's preview and the summary in the audit event. Each receiver
    answers with the open work the member holds in its app, one `OpenWork` per kind
    (counts > 0 only). Receivers only read, scoped to `org`.

`membership_removed(org=, removed=, actor=, reassign_to=)` -> None
    Runs inside `credex.services.membership_remove`'s transaction, after `removed_at` is
    set and before the `member.removed` audit event. Arguments:
      - `org`: the organization;
      - `removed`: the membership being removed (its `removed_at` is already set);
      - `actor`: the acting membership (the remover; an API key when removed through one);
      - `reassign_to`: the membership that takes the open work (the remover), or None for
        "unassigned".
    Each receiver moves the removed member's open work through its own app's services, which
    audit every change in this transaction (one event per reassigned object). Closed or
    decided work is left alone: `decided_by` and the like keep naming the removed member.
    An exception rolls the whole removal back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from credex.hooks import HookPoint

if TYPE_CHECKING:
    from credex.models import ApiKey, Membership, Organization


@dataclass(frozen=True)
class OpenWork:
    """Open work of one kind a member holds: `kind` is stable ("roster.inbox_item"), `label`
    is for people and agrees with the count ("1 open inbox item", "2 open inbox items")."""

    kind: str
    label: str
    count: int

    @classmethod
    def counted(cls, kind: str, count: int, one: str, many: str) -> OpenWork:
        return cls(kind, one if count == 1 else many, count)


membership_removal_preview: HookPoint[..., list[OpenWork]] = HookPoint(
    "membership_removal_preview",
    "Collect: the open work a member holds, per kind, before removal (read-only).",
)

membership_removed: HookPoint[..., None] = HookPoint(
    "membership_removed",
    "Run inside the removal transaction: reassign the removed member's open work "
    "(to `reassign_to`, or unassigned) through the app's own audited services.",
)


def open_work_for(*, org: Organization, removed: Membership) -> list[OpenWork]:
    """Every receiver's answer to the preview hook, flattened, empty kinds left out."""
    work: list[OpenWork] = []
    for answer in membership_removal_preview.collect(org=org, removed=removed):
        work.extend(w for w in answer if w.count)
    return work


def reassign_open_work(
    *,
    org: Organization,
    removed: Membership,
    actor: Membership | ApiKey,
    reassign_to: Membership | None,
) -> None:
    membership_removed.run(org=org, removed=removed, actor=actor, reassign_to=reassign_to)
