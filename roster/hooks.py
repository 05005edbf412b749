"""Hook points roster declares for the apps downstream of it (see credex/hooks.py for the
contract: receivers are registered in AppConfig.ready(), run synchronously inside the caller's
transaction, audit there and enqueue with on_commit).

Roster sits below screening and verifications and imports neither: when a document arrives or
a provider must be screened, roster runs one of these, and the downstream apps react.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from credex.hooks import HookPoint

document_received: HookPoint[..., None] = HookPoint(
    "roster.document_received",
    """A document was stored on a provider's file by a member, an API key or the provider's
    upload link (not by a file import: see `documents_imported`).

    Passes `org` and `document` (a saved roster.Document, keyword arguments). Runs inside the
    upload's transaction, after the document row and its `roster.document.uploaded` audit
    event are written; a receiver that raises rolls the upload back (and the stored file is
    discarded). A receiver may write its own app's rows (through its services, auditing in
    this transaction) and enqueue slow work with `transaction.on_commit`. Returns nothing.
    Receivers: verifications (extraction suggestions, re-verification packet documents step).
    """,
)

documents_imported: HookPoint[..., None] = HookPoint(
    "roster.documents_imported",
    """A roster file import stored documents (from its ZIP) on providers' files.

    Passes `org` and `documents` (a list of roster.Document rows, already inserted in bulk).
    Runs inside the import's write transaction, before its audit events are written; a
    receiver that raises rolls the import's chunk back. A receiver may enqueue work with
    `transaction.on_commit` (it must not query per document: an import holds thousands).
    Returns nothing. Receivers: verifications (extraction suggestions, on commit).
    """,
)

provider_screening_due: HookPoint[..., None] = HookPoint(
    "roster.provider_screening_due",
    """A provider was created, or a field screened against exclusion lists changed (name,
    former names, date of birth, NPI: `roster.services.providers.SCREENED_FIELDS`).

    Passes `org`, `provider` (the saved roster.Provider) and `trigger` ("new_hire" or
    "rename"). Runs inside the provider service's transaction, after its audit event. A
    receiver must not screen inline: it enqueues with `transaction.on_commit` (robust, so a
    queue outage never fails the roster change). Returns nothing. Receivers: screening (one
    provider's run after commit).
    """,
)

roster_imported: HookPoint[..., None] = HookPoint(
    "roster.roster_imported",
    """A roster file import added providers or changed screened fields of existing ones.

    Passes `org` only. Runs inside the import's final transaction (the job is marked done in
    it); a receiver may create its own rows there (audited) and must publish work only on
    commit. A receiver that finds its work already under way lets it be (it must not raise
    for that). Returns nothing. Receivers: screening (one organization run, new-hire trigger).
    """,
)


provider_seats_changed: HookPoint[..., None] = HookPoint(
    "roster.provider_seats_changed",
    """What counts as a seat may have changed: a provider was created, its status changed,
    it was deleted, a roster import created or updated providers, or an applicant's
    verification was recorded (verifications runs it: an applicant is a seat from its first).

    Passes `org` only (keyword). Runs inside the changing service's transaction, after its
    audit event. A receiver must not count or call out inline: it enqueues with
    `transaction.on_commit` (robust, so a queue outage never fails the roster change) and
    may debounce (many changes, one piece of work). Returns nothing. Receivers: billing (the
    debounced seat sync, `billing.seats.sync`).
    """,
)


@dataclass(frozen=True)
class FlagSource:
    """A downstream app's part of the providers' flags (roster.selectors.flags).

    `annotations` are added to roster's one Provider query (expressions over
    `OuterRef("pk")`, names prefixed with the app's name so receivers never collide);
    `flags(row)` turns a row carrying them into `Flag`s, strongest first.
    """

    annotations: Mapping[str, Any] = field(default_factory=dict)
    flags: Callable[[dict], list] = lambda row: []


provider_flags: HookPoint[..., FlagSource] = HookPoint(
    "roster.provider_flags",
    """Flags downstream apps raise on a provider wherever the provider's name is listed.

    Passes `org` (keyword). Called by `provider_flags_attach` for every page that lists
    providers (read-only; in whatever transaction the page runs). A receiver returns a
    `FlagSource`: annotations roster adds to its one Provider query (so a page pays no query
    per receiver and none per row) and a function from the row to its flags. A receiver must
    not write. Roster's own flags come first (excluded) and last (licence expired); the
    receivers' come between, in registration order. Receivers: screening (possible match,
    NPI deactivated).
    """,
)


contract_renewals: HookPoint[..., dict[uuid.UUID, date | None]] = HookPoint(
    "roster.contract_renewals",
    """Payer contracts due for renewal (by date) or their renewal dates now (by id), for the
    expiry inbox (roster.services.inbox).

    Called by `inbox_generate` inside its per-organization transaction, in the
    organization's tenant context. Passes keyword arguments only: `org` and `due_by=<date>`
    (every contract of `org` whose renewal date is on or before `due_by`), or `org` and
    `ids=<contract ids>` (those contracts that still exist, each with its renewal date now,
    None when it has none any more). A receiver returns `{contract id: renewal date or
    None}` and writes nothing. The inbox stores the contract on its item
    (InboxItem.contract). Receivers: enrollment.
    """,
)


@dataclass(frozen=True)
class InboxDue:
    """One thing a downstream app wants in the expiry inbox (roster.hooks.inbox_items_due).

    `kind` is an InboxKind value roster knows the thresholds of (roster.services.inbox
    THRESHOLDS); `subject_id` the app's row the item is about (stored on InboxItem.subject_id,
    with no foreign key); `link` the path of the page the item opens."""

    kind: str
    subject_id: uuid.UUID
    due_date: date
    provider_id: uuid.UUID | None = None
    link: str = ""


inbox_items_due: HookPoint[..., list[InboxDue]] = HookPoint(
    "roster.inbox_items_due",
    """What downstream apps want in the expiry inbox, for `inbox_generate`'s daily run.

    Called by `inbox_generate` inside its per-organization transaction, in the
    organization's tenant context. Passes keyword arguments only: `org` and `due_by=<date>`
    (every subject of `org` due on or before `due_by` that still needs action), or `org` and
    `ids=<subject ids>` (those subjects as they stand now, for the open items no longer
    returned by the first form: an entry with a later due date means renewed, a missing
    entry means it no longer applies). A receiver returns a list of `InboxDue` and writes
    nothing. The inbox stores the subject id and the link on its item (InboxItem.subject_id,
    InboxItem.link). Receivers: exchange (clinician releases expiring within 30 days).
    """,
)
