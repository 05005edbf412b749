"""Hook points screening declares for the apps downstream of it (see credex/hooks.py for the
contract: receivers are registered in AppConfig.ready(), run synchronously inside the caller's
transaction, audit there and enqueue with on_commit).

Screening sits below verifications and does not import it: the PSV log of what a run, an NPPES
refresh or a SAM.gov API check found is written by verifications, reacting to these.
"""

from __future__ import annotations

from credex.hooks import HookPoint

run_screened: HookPoint[..., dict] = HookPoint(
    "screening.run_screened",
    """A screening run wrote its hits and per-provider results (ScreeningResult rows).

    Passes `org`, `run` (the ScreeningRun, still RUNNING), `versions` ({source: the
    DatasetVersion screened against}), `label` (the system actor's label) and `now` (when the
    run screened). Runs inside the run's transaction, before the run is marked done and
    audited. A receiver may write its own rows here (a small run) or enqueue a job with
    `transaction.on_commit` (a large one). Returns {source: count written, or "deferred"};
    the run merges the answers into its per-list outcomes (`verifications_recorded`).
    Receivers: verifications (one PSV record per provider per list).
    """,
)

nppes_checked: HookPoint[..., dict] = HookPoint(
    "screening.nppes_checked",
    """An NPPES refresh wrote one chunk of checks and mismatches.

    Passes `org`, `run` (the NppesRun), `evaluated` (the chunk's evaluations: provider,
    outcome, differences, the registry's result), `label` (the actor's label) and `now`.
    Runs inside the chunk's transaction, before the chunk's `nppes.checked` audit events.
    A receiver may write its own rows (in bulk: a chunk holds up to a thousand checks).
    Returns {provider id: id of the record written}; each audit event names its record.
    Receivers: verifications (one PSV record per check, packet NPPES steps).
    """,
)

sam_api_checked: HookPoint[..., object] = HookPoint(
    "screening.sam_api_checked",
    """An on-demand SAM.gov Exclusions API check of one provider finished (clean, hit or
    incomplete; a failed call runs nothing).

    Passes `org`, `actor` (who asked), `provider`, `check` (the SamCheck: outcome,
    checked_at, matches), `details` (one sentence for a reader) and `data` (the request
    and result summary). Runs inside the transaction that writes the check's
    `screening.sam.api_checked` audit event, before it. A receiver may record the check
    (audited, in this transaction) and returns that record, or None; the first record
    answered becomes `check.verification` and the audit event names it.
    Receivers: verifications (a SAM PSV verification).
    """,
)

sam_api_check_last: HookPoint[..., object] = HookPoint(
    "screening.sam_api_check_last",
    """The newest recorded SAM.gov API check of a provider (for the provider's screening
    panel).

    Passes `org` and `provider`. Read-only, in the page's transaction. A receiver returns
    the newest record it keeps of a check `sam_api_checked` passed it, or None; the panel
    shows the first record answered. Receivers: verifications.
    """,
)

exclusion_confirmed: HookPoint[..., None] = HookPoint(
    "screening.exclusion_confirmed",
    """A reviewer confirmed an exclusion hit: the provider is now flagged as excluded.

    Passes `org`, `provider` (locked, already flagged) and `hit` (the confirmed
    ScreeningHit). Called by `screening.services.hits.hit_confirm` inside its transaction,
    after the provider is flagged and the confirmation audited (not for a reinstatement).
    A receiver acts at once through its own services and audits in this transaction; a
    receiver that raises rolls the confirmation back.
    Receivers: exchange (withdraws every listing of the provider, reason "exclusion").
    """,
)
