"""Listings: a seller offers one of its verification records on the exchange.

A record is listable when it is current (nothing supersedes it), verified, not an NPDB
result, not bought on the exchange, younger than the platform's maximum age, of a provider
without a confirmed exclusion and with a current clinician release covering its type, and
when the seller is an approved member in good standing (and the provider has an NPI: members
search by it). `listing_eligibility` names every
rule a record fails ({code, message}); `listing_create` refuses with the first one.

A listing is paused and resumed by its seller (status_reason "seller"), withdrawn by its
seller or at once by the platform (a confirmed exclusion, a correction superseding the
record), and expires when the record passes the maximum age (exchange.tasks.listings).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import Actor, audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, InvalidInput, NotFound
from credex.models import Membership
from credex.writes import check_writes
from exchange.models import (
    ExchangeSettings,
    Listing,
    ListingBatch,
    ListingStatus,
    MembershipStatus,
)
from exchange.selectors.directory import directory_entry
from exchange.selectors.pricing import market_rate_cents, price_band_cents
from exchange.selectors.releases import release_current
from screening.models import HitKind, HitStatus, ScreeningHit
from verifications.models import (
    Verification,
    VerificationMethod,
    VerificationResult,
    VerificationSource,
)

SELLER = "seller"
MAX_PRICE_CENTS = 10_000_000  # $100,000: anything above is a typo, whatever the band says

# The refusal codes, in the order they are checked (the first one is the error's code).
MESSAGES = {
    "not_a_member": "Your organization is not an approved member of the exchange.",
    "not_in_good_standing": (
        "Your organization is not in good standing (no current accreditation on file), so it "
        "cannot sell on the exchange."
    ),
    "npdb": (
        "NPDB results are never listed: federal law forbids sharing an NPDB query result "
        "outside the organization that queried it. The buyer must run its own NPDB query."
    ),
    "purchased": (
        "This record was bought on the exchange; only the organization that verified it at "
        "the source can sell it."
    ),
    "superseded": "This record was corrected; list the newest record instead.",
    "not_verified": (
        "Only verified results are listed; a discrepancy or an unable-to-verify result is not."
    ),
    "too_old": "This record is older than the exchange's {days}-day maximum age.",
    "excluded": ("This provider has a confirmed exclusion; none of their records can be listed."),
    "no_npi": "This provider has no NPI on file; members find clinicians on the exchange by NPI.",
    "no_release": (
        "No current clinician release on file covers this verification type; record one on "
        "the Releases page first."
    ),
    "already_listed": "This record is already on the exchange ({status}).",
}


def _refusal(code: str, **fmt) -> dict:
    return {"code": code, "message": MESSAGES[code].format(**fmt)}


def price_band(source: str) -> tuple[int, int]:
    """(lowest, highest) price in cents a seller may set for `source` this quarter (the
    pricing selector's band around the market rate)."""
    return price_band_cents(source)


def provider_has_confirmed_exclusion(provider) -> bool:
    """The roster's exclusion flag, or a confirmed exclusion hit that has not ended."""
    if provider.excluded:
        return True
    return (
        ScreeningHit.objects.filter(
            organization_id=provider.organization_id,
            provider_id=provider.pk,
            status=HitStatus.CONFIRMED,
            ended_on__isnull=True,
        )
        .exclude(kind=HitKind.REINSTATEMENT)
        .exists()
    )


def seller_refusals(org) -> list[dict]:
    entry = directory_entry(org)
    if entry is None or entry.status != MembershipStatus.APPROVED:
        return [_refusal("not_a_member")]
    if not entry.good_standing:
        return [_refusal("not_in_good_standing")]
    return []


def _record_refusals(verification: Verification, *, now, max_age_days: int) -> list[dict]:
    """The rules of the record itself (no seller, release or listing lookups)."""
    refusals = []
    if verification.source == VerificationSource.NPDB:
        refusals.append(_refusal("npdb"))
    if verification.method == VerificationMethod.EXCHANGE:
        refusals.append(_refusal("purchased"))
    if Verification.objects.filter(supersedes_id=verification.pk).exists():
        refusals.append(_refusal("superseded"))
    if verification.result != VerificationResult.VERIFIED:
        refusals.append(_refusal("not_verified"))
    if verification.verified_at + timedelta(days=max_age_days) <= now:
        refusals.append(_refusal("too_old", days=max_age_days))
    return refusals


def listing_eligibility(*, org, verification: Verification, now=None) -> list[dict]:
    """Every rule that keeps `verification` off the exchange, as {code, message}, in the
    order of MESSAGES ([] = listable)."""
    now = now or timezone.now()
    settings = ExchangeSettings.current()
    refusals = seller_refusals(org)
    refusals += _record_refusals(verification, now=now, max_age_days=settings.max_age_days)
    provider = verification.provider
    if provider_has_confirmed_exclusion(provider):
        refusals.append(_refusal("excluded"))
    if not provider.npi:
        refusals.append(_refusal("no_npi"))
    if release_current(org=org, provider=provider, source=verification.source) is None:
        refusals.append(_refusal("no_release"))
    existing = Listing.objects.filter(organization=org, verification_id=verification.pk).first()
    if existing is not None:
        refusals.append(_refusal("already_listed", status=existing.get_status_display().lower()))
    return refusals


def verification_for_listing(org, verification_id) -> Verification:
    from django.core.exceptions import ValidationError

    try:
        return Verification.objects.select_related("provider").get(
            organization=org, pk=verification_id
        )
    except (Verification.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise NotFound("Not found.") from exc


def _clean_price(source: str, price_cents) -> int | None:
    if price_cents in (None, ""):
        return None
    if isinstance(price_cents, bool) or not isinstance(price_cents, int | str):
        raise InvalidInput("Give the price in whole cents.", details={"price_cents": "invalid"})
    try:
        price = int(price_cents)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            "Give the price in whole cents.", details={"price_cents": "invalid"}
        ) from exc
    low, high = price_band(source)
    if price < 0 or price > MAX_PRICE_CENTS or not low <= price <= high:
        raise InvalidInput(
            f"Set a price between {_money(low)} and {_money(high)} (the band around this "
            f"quarter's market rate of {_money(market_rate_cents(source))}), or sell at the "
            "market rate.",
            code="price_out_of_band",
            details={"price_cents": "out of band", "low_cents": low, "high_cents": high},
        )
    return price


def _money(cents: int) -> str:
    whole, part = divmod(int(cents), 100)
    return f"${whole:,}.{part:02d}"


def _listing_for(org, verification, *, actor, price, max_age_days, seller_name, now) -> Listing:
    provider = verification.provider
    return Listing(
        organization_id=org.pk,
        verification=verification,
        provider=provider,
        seller_name=seller_name,
        npi=provider.npi,
        clinician_name=provider.full_name[:200],
        source=verification.source,
        source_state=verification.source_state,
        source_name=verification.source_name,
        method=verification.method,
        verified_at=verification.verified_at,
        expires_at=verification.verified_at + timedelta(days=max_age_days),
        price_cents=price,
        created_by=actor if isinstance(actor, Membership) else None,
        created_at=now,
        updated_at=now,
    )


def _audit_actor(actor):
    return actor if isinstance(actor, Actor) else audit_actor(actor)


def listing_create(*, org, actor, verification_id, price_cents=None, batch=None) -> Listing:
    """List one verification record (at the market rate, or at `price_cents` within the
    band). Refuses with the first rule the record fails (Conflict, its code)."""
    if not isinstance(actor, Actor):
        require(actor, cap.TRADE_EXCHANGE)
    verification = verification_for_listing(org, verification_id)
    now = timezone.now()
    with transaction.atomic():
        refusals = listing_eligibility(org=org, verification=verification, now=now)
        if refusals:
            first = refusals[0]
            raise Conflict(first["message"], code=first["code"], details={"refusals": refusals})
        price = _clean_price(verification.source, price_cents)
        settings = ExchangeSettings.current()
        listing = _listing_for(
            org,
            verification,
            actor=actor,
            price=price,
            max_age_days=settings.max_age_days,
            seller_name=directory_entry(org).display_name,
            now=now,
        )
        try:
            with transaction.atomic():
                listing.save(force_insert=True)
        except IntegrityError as exc:
            raise Conflict(
                MESSAGES["already_listed"].format(status="listed"), code="already_listed"
            ) from exc
        audit_record(
            org=org,
            actor=_audit_actor(actor),
            action="exchange.listing.created",
            target=listing,
            source="exchange",
            data={
                "verification": str(verification.pk),
                "provider": str(verification.provider_id),
                "source": listing.source,
                "price_cents": price,
                "expires_at": listing.expires_at.isoformat(),
                **({"batch": str(batch.pk)} if batch is not None else {}),
            },
        )
    return listing


def listing_get(*, org, listing_id) -> Listing:
    """One of the organization's own listings (another's is not found)."""
    from django.core.exceptions import ValidationError

    try:
        return Listing.objects.get(organization=org, pk=listing_id)
    except (Listing.DoesNotExist, ValueError, ValidationError) as exc:
        raise NotFound("Not found.") from exc


def _set_status(*, org, actor, listing, status, reason, note, action, allowed_from) -> Listing:
    with transaction.atomic():
        locked = Listing.objects.select_for_update().get(organization=org, pk=listing.pk)
        if locked.status not in allowed_from:
            raise Conflict(
                f"This listing is {locked.get_status_display().lower()}.",
                code="listing_status",
                details={"status": locked.status},
            )
        before = locked.status
        locked.status = status
        locked.status_reason = reason
        locked.status_note = (note or "")[:300]
        locked.updated_at = timezone.now()
        locked.save(update_fields=["status", "status_reason", "status_note", "updated_at"])
        audit_record(
            org=org,
            actor=_audit_actor(actor),
            action=action,
            target=locked,
            source="exchange",
            data={"from": before, "to": status, "reason": reason, "note": locked.status_note},
        )
    return locked


def listing_pause(*, org, actor, listing, reason: str = SELLER, note: str = "") -> Listing:
    """Take a live listing off search for now (resumable by the same reason)."""
    if not isinstance(actor, Actor):
        require(actor, cap.TRADE_EXCHANGE)
    return _set_status(
        org=org,
        actor=actor,
        listing=listing,
        status=ListingStatus.PAUSED,
        reason=reason,
        note=note,
        action="exchange.listing.paused",
        allowed_from={ListingStatus.LIVE},
    )


def listing_resume(*, org, actor, listing, reason: str = SELLER, note: str = "") -> Listing:
    """Put back a listing paused for `reason`, unless the record passed the maximum age (then
    it expires) or the seller may no longer sell."""
    if not isinstance(actor, Actor):
        require(actor, cap.TRADE_EXCHANGE)
    current = listing_get(org=org, listing_id=listing.pk)
    if current.status == ListingStatus.PAUSED and current.status_reason != reason:
        raise Conflict(
            "This listing was paused by the platform "
            f"({current.status_reason or 'no reason'}); it resumes when that is resolved.",
            code="paused_by_platform",
        )
    if current.expires_at <= timezone.now():
        raise Conflict(
            "This listing is past the maximum age; it cannot be resumed.", code="too_old"
        )
    refusals = seller_refusals(org)
    if reason == SELLER and refusals:
        raise Conflict(refusals[0]["message"], code=refusals[0]["code"])
    return _set_status(
        org=org,
        actor=actor,
        listing=listing,
        status=ListingStatus.LIVE,
        reason="",
        note=note,
        action="exchange.listing.resumed",
        allowed_from={ListingStatus.PAUSED},
    )


def listing_withdraw(*, org, actor, listing, reason: str = SELLER, note: str = "") -> Listing:
    """Withdraw a live or paused listing for good."""
    if not isinstance(actor, Actor):
        require(actor, cap.TRADE_EXCHANGE)
    return _set_status(
        org=org,
        actor=actor,
        listing=listing,
        status=ListingStatus.WITHDRAWN,
        reason=reason,
        note=note,
        action="exchange.listing.withdrawn",
        allowed_from={ListingStatus.LIVE, ListingStatus.PAUSED},
    )


def listings_withdraw_for_provider(*, org, provider, reason: str, note: str = "") -> int:
    """Withdraw every live or paused listing of `provider` (platform action, audited one
    event per listing). Runs in the caller's transaction. Returns how many."""
    actor = Actor.system(f"exchange.{reason}")
    count = 0
    listings = Listing.objects.filter(
        organization=org,
        provider_id=getattr(provider, "pk", provider),
        status__in=[ListingStatus.LIVE, ListingStatus.PAUSED],
    )
    for listing in listings:
        listing_withdraw(org=org, actor=actor, listing=listing, reason=reason, note=note)
        count += 1
    return count


def listing_withdraw_for_verification(*, org, verification, reason: str, note: str = "") -> int:
    """Withdraw the listing of `verification` if it is live or paused (platform action)."""
    actor = Actor.system(f"exchange.{reason}")
    listing = Listing.objects.filter(
        organization=org,
        verification_id=getattr(verification, "pk", verification),
        status__in=[ListingStatus.LIVE, ListingStatus.PAUSED],
    ).first()
    if listing is None:
        return 0
    listing_withdraw(org=org, actor=actor, listing=listing, reason=reason, note=note)
    return 1


def listings_expire(*, org, now=None) -> int:
    """Mark every live or paused listing past its expiry date expired (one audit event per
    listing, one transaction). Returns how many. Not for a read-only organization
    (credex/writes.py): the run after writes are restored marks them."""
    check_writes(org)
    now = now or timezone.now()
    actor = Actor.system("exchange.listings.expire_daily")
    with transaction.atomic():
        due = list(
            Listing.objects.select_for_update()
            .filter(
                organization=org,
                status__in=[ListingStatus.LIVE, ListingStatus.PAUSED],
                expires_at__lte=now,
            )
            .order_by("expires_at")
        )
        for listing in due:
            before = listing.status
            listing.status = ListingStatus.EXPIRED
            listing.status_reason = "max_age"
            listing.updated_at = now
            listing.save(update_fields=["status", "status_reason", "updated_at"])
            audit_record(
                org=org,
                actor=actor,
                action="exchange.listing.expired",
                target=listing,
                source="exchange",
                data={"from": before, "expires_at": listing.expires_at.isoformat()},
            )
    return len(due)


def listings_resume_skipped_work(*, org) -> None:
    """Writes restored (credex/writes.py): send again, on commit, what the exchange's tasks
    skipped while the organization was read-only: its queued bulk listings, and the expiry of
    its listings past their maximum age."""
    from exchange.tasks.listings import listing_batch_task, listings_expire_task

    for batch_id in ListingBatch.objects.filter(organization=org, status="queued").values_list(
        "pk", flat=True
    ):
        listing_batch_task.enqueue_on_commit(org=org, batch_id=str(batch_id))
    listings_expire_task.enqueue_on_commit(org=org)


# --- bulk listing ----------------------------------------------------------------------------

RUNNING = ("queued", "running")


def listing_batch_start(*, org, actor) -> ListingBatch:
    """Start listing every eligible current record of the organization in the background."""
    require(actor, cap.TRADE_EXCHANGE)
    refusals = seller_refusals(org)
    if refusals:
        raise Conflict(refusals[0]["message"], code=refusals[0]["code"])
    from exchange.tasks.listings import listing_batch_task

    with transaction.atomic():
        if ListingBatch.objects.filter(organization=org, status__in=RUNNING).exists():
            raise Conflict(
                "A bulk listing is already running; wait for it to finish.",
                code="batch_running",
            )
        batch = ListingBatch.objects.create(
            organization=org,
            requested_by=actor if isinstance(actor, Membership) else None,
            total=bulk_candidates(org=org).count(),
        )
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="exchange.listing_batch.started",
            target=batch,
            source="exchange",
            data={"total": batch.total},
        )
        listing_batch_task.enqueue_on_commit(org=org, batch_id=str(batch.pk))
    return batch


def bulk_candidates(*, org):
    """The organization's current records not yet listed (eligibility is checked one by one)."""
    listed = Listing.objects.filter(organization=org).values("verification_id")
    return (
        Verification.objects.filter(organization=org, superseded_by__isnull=True)
        .exclude(pk__in=listed)
        .order_by("verified_at", "id")
    )


class BatchProgress:
    """Writes a running batch's progress through a connection of its own, committed at once
    (the task lists in one transaction that commits at the end, so progress written in it
    would stay invisible to the page polling the batch; see roster's JobProgress). The
    task's transaction touches the batch row only at the end."""

    MIN_INTERVAL = 0.25  # seconds between updates

    def __init__(self, batch: ListingBatch):
        from django.db import connections

        self.batch = batch
        self.connection = connections.create_connection("default")
        self._last = 0.0

    def update(self, *, force: bool = False, **values) -> None:
        import json
        from time import monotonic

        now = monotonic()
        if not force and now - self._last < self.MIN_INTERVAL:
            return
        self._last = now
        sets = ", ".join(f"{column} = %s" for column in values)
        params = [json.dumps(v) if isinstance(v, dict) else v for v in values.values()]
        with self.connection.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                "SELECT set_config('app.current_org', %s, true)", [str(self.batch.organization_id)]
            )
            cursor.execute(
                f"UPDATE exchange_listingbatch SET {sets} WHERE id = %s AND organization_id = %s",
                [*params, self.batch.pk, self.batch.organization_id],
            )
            cursor.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()


def listing_batch_run(*, org, batch_id, report_progress: bool = False) -> ListingBatch:
    """The task's body: list every eligible candidate, count skips by reason (the refusal
    codes), keep progress. `report_progress` (the task) commits progress as it goes.
    A batch of a read-only organization stays queued (WritesPaused, credex/writes.py) and is
    sent again when writes are restored."""
    batch = ListingBatch.objects.get(organization=org, pk=batch_id)
    if batch.status not in RUNNING:
        return batch
    check_writes(org, fresh=True)
    actor = Actor.system("exchange.listings.bulk")
    ids = list(bulk_candidates(org=org).values_list("pk", flat=True))
    batch.status = "running"
    batch.attempts += 1
    batch.total, batch.processed, batch.listed, batch.skipped = len(ids), 0, 0, {}
    progress = BatchProgress(batch) if report_progress else None
    try:
        if progress:
            progress.update(force=True, status="running", total=batch.total, processed=0)
        refusals = seller_refusals(org)
        if refusals:
            batch.skipped = {refusals[0]["code"]: len(ids)}
            batch.processed = len(ids)
            return _batch_finish(org, batch, status="failed", error=refusals[0]["message"])
        for verification_id in ids:
            try:
                listing_create(org=org, actor=actor, verification_id=verification_id, batch=batch)
            except (Conflict, InvalidInput, NotFound) as exc:
                batch.skipped[exc.code] = batch.skipped.get(exc.code, 0) + 1
            else:
                batch.listed += 1
            batch.processed += 1
            if progress:
                progress.update(
                    processed=batch.processed, listed=batch.listed, skipped=batch.skipped
                )
    finally:
        if progress:
            progress.close()
    return _batch_finish(org, batch, status="done")


def _batch_finish(org, batch, *, status, error="") -> ListingBatch:
    with transaction.atomic():
        batch.status = status
        batch.error = error
        batch.finished_at = timezone.now()
        batch.save()
        audit_record(
            org=org,
            actor=Actor.system("exchange.listings.bulk"),
            action="exchange.listing_batch.finished",
            target=batch,
            source="exchange",
            data={
                "status": status,
                "total": batch.total,
                "listed": batch.listed,
                "skipped": batch.skipped,
            },
        )
    return batch
