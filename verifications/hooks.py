"""Hook points verifications declares for the apps downstream of it (see credex/hooks.py for the
contract: receivers are registered in AppConfig.ready(), run synchronously inside the caller's
transaction, audit there and enqueue with on_commit).

Both are questions (collect): the credential package asks committee for its decision, and
package shares ask enrollment for the organization's payer contacts (the share form's choices,
the contact a share is sent to), so verifications imports neither app above it.
"""

from __future__ import annotations

from credex.hooks import HookPoint

package_committee_review: HookPoint[..., object | None] = HookPoint(
    "verifications.package_committee_review",
    """The committee review a provider's credential package shows, or None.

    Called by `verifications.selectors.packages.package_content`. Passes keyword arguments
    `org` and `provider`, in the organization's tenant context, inside the transaction of
    whoever reads the package's content (the build task's, or a request's). A receiver reads
    only and returns the review the package shows for the provider (the latest decided one,
    else the latest), or None. The first non-None answer is shown; with no receiver the
    section says there is no decision. Receivers: committee.
    """,
)

payer_contacts: HookPoint[..., object] = HookPoint(
    "verifications.payer_contacts",
    """The organization's payer contacts (a queryset, with `payer` selected, by payer name
    then contact name), the people a credential package can be shared with (the enrollment
    app keeps payers and their contacts; `PackageShare.contact` points there lazily).

    Passes the keyword argument `org`. Called by `verifications.selectors.packages`
    (`contact_get`, `payers_with_contacts`) in the organization's tenant context and the
    caller's transaction (a request's). A receiver reads only and returns a queryset of the
    organization's payer contacts (the caller may filter it further, e.g. by pk). The first
    receiver's answer is used; with none there are no contacts to share with (a share can
    still go to an e-mail address). Receivers: enrollment.
    """,
)

verification_superseded: HookPoint[..., None] = HookPoint(
    "verifications.verification_superseded",
    """A correction superseded a record of the PSV log (the old record is no longer current).

    Passes `org`, `verification` (the new record) and `superseded` (the record it replaces).
    Called by `verifications.services.records.verification_record` inside the correction's
    transaction, after both rows are written and before the correction is audited. A
    receiver acts through its own services and audits in this transaction; a receiver that
    raises rolls the correction back.
    Receivers: exchange (withdraws the superseded record's listing, reason "superseded").
    """,
)
