"""Exchange receivers of the hook points below it: listings.

- screening.exclusion_confirmed: every listing of the provider is withdrawn at once
  (status withdrawn, reason "exclusion", one audit event per listing).
- verifications.verification_superseded: the corrected record's listing is withdrawn
  (reason "superseded"); the correction may be listed on its own.
- credex.writes_resumed (billing restored writes, credex/writes.py): a bulk listing queued
  before the organization became read-only was skipped and is sent again; the listings past
  their expiry are marked now rather than at the next daily run.
"""

from __future__ import annotations


def exclusion_confirmed(*, org, provider, hit, **kwargs) -> None:
    from exchange.services.listings import listings_withdraw_for_provider

    listings_withdraw_for_provider(
        org=org,
        provider=provider,
        reason="exclusion",
        note="The provider has a confirmed exclusion.",
    )


def verification_superseded(*, org, verification, superseded, **kwargs) -> None:
    from exchange.services.listings import listing_withdraw_for_verification

    listing_withdraw_for_verification(
        org=org,
        verification=superseded,
        reason="superseded",
        note="The record was corrected.",
    )


def writes_resumed(*, org, paused_at=None, **kwargs) -> None:
    from exchange.services.listings import listings_resume_skipped_work

    listings_resume_skipped_work(org=org)


def register() -> None:
    """Called from ExchangeConfig.ready()."""
    from credex import org_hooks
    from screening import hooks as screening_hooks
    from verifications import hooks as verifications_hooks

    screening_hooks.exclusion_confirmed.register(exclusion_confirmed)
    verifications_hooks.verification_superseded.register(verification_superseded)
    org_hooks.writes_resumed.register(writes_resumed)
