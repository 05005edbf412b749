"""Buy a listed verification: one atomic operation with a client idempotency key.

`purchase_make` runs in the buyer's scope (the request's tenant_context) and, inside its one
transaction:

1. answers a replay of the same idempotency key with the order it made (a key reused with a
   different request is refused); concurrent duplicates are settled by the unique
   constraints (organization + key, organization + listing), never by a check-then-insert;
2. checks every eligibility rule, each refusal its own error code, before anything is written;
3. reads the seller's record and evidence through the explicit two-scope path
   (`second_scope(seller)`), locking the listing row, and returns to the buyer's scope;
4. copies the record into the buyer's PSV log (method "exchange", the ORIGINAL verified_at,
   provenance in data["exchange"]) with its evidence bytes re-stored in the buyer's storage
   (same sha256, checked), writes the order, the seller's counters, the receipt, the audit
   events of both chains and one balanced journal entry (buyer owes price + fee, seller is
   owed the price, the platform earns the fee).

The shared, hot rows (the seller's directory row, the ledger accounts) are touched last, so
concurrent purchases hold them for the shortest time before commit.
"""

from __future__ import annotations

import hashlib
import logging
import uuid

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from audit.services import audit_record
from billing.services import Leg, entry_post
from billing.services.charges import purchase_charge
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, InvalidInput, NotFound
from credex.models import Membership
from credex.tenancy import second_scope, unscoped
from exchange.models import Listing, ListingStatus, MemberDirectory, MembershipStatus, Order
from exchange.selectors import directory, releases, requirements
from exchange.selectors.pricing import fee_cents, listing_price_cents
from roster.models import Credential, Provider, ProviderStatus
from roster.services.documents.sniffing import read_limited, sniff
from verifications.models import (
    OPEN_REQUEST_STATUSES,
    Verification,
    VerificationEvidence,
    VerificationMethod,
    VerificationRequest,
    VerificationResult,
    VerifierKind,
)

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH = 255
MAX_OVERRIDE_LENGTH = 2000


# --- input -----------------------------------------------------------------------------------


def clean_idempotency_key(value) -> str:
    """The client's key: 1-255 visible ASCII characters (what an HTTP header can carry)."""
    key = value if isinstance(value, str) else ""
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not all(33 <= ord(ch) <= 126 for ch in key):
        raise InvalidInput(
            "Give an Idempotency-Key of 1 to 255 visible ASCII characters (a UUID is ideal).",
            code="idempotency_key_invalid",
            details={"idempotency_key": "1 to 255 visible ASCII characters."},
        )
    return key


def clean_override_reason(value) -> str:
    reason = value if isinstance(value, str) else ""
    if "\x00" in reason:
        raise InvalidInput(
            "The override reason contains a NUL character.",
            details={"override_reason": "Remove the NUL character."},
        )
    reason = reason.strip()
    if len(reason) > MAX_OVERRIDE_LENGTH:
        raise InvalidInput(
            f"Keep the override reason under {MAX_OVERRIDE_LENGTH} characters.",
            details={"override_reason": f"At most {MAX_OVERRIDE_LENGTH} characters."},
        )
    return reason


def _listing_uuid(listing_id) -> uuid.UUID:
    if isinstance(listing_id, uuid.UUID):
        return listing_id
    try:
        return uuid.UUID(str(listing_id))
    except (TypeError, ValueError, AttributeError):
        raise NotFound("Not found.") from None


def request_hash(*, listing_id, override_reason: str) -> str:
    """What a key was first used with: the listing and the override reason."""
    return hashlib.sha256(f"{listing_id}\n{override_reason}".encode()).hexdigest()


# --- the purchase ----------------------------------------------------------------------------


def purchase_make(
    *, org, actor, listing_id, idempotency_key, override_reason=""
) -> tuple[Order, bool]:
    """Buy a listing for the buyer `org`: (order, created). A replay of the same key and
    request returns the first order with created False."""
    require(actor, cap.TRADE_EXCHANGE)
    key = clean_idempotency_key(idempotency_key)
    reason = clean_override_reason(override_reason)
    listing_uuid = _listing_uuid(listing_id)
    wanted = request_hash(listing_id=listing_uuid, override_reason=reason)

    stored: list[VerificationEvidence] = []
    try:
        with transaction.atomic():
            existing = Order.objects.filter(organization=org, idempotency_key=key).first()
            if existing is not None:  # the cheap path of a replay; the constraint decides
                return _replay(existing, wanted), False
            try:
                with transaction.atomic():  # a savepoint: a lost race rolls back to here
                    order = _purchase(
                        org=org,
                        actor=actor,
                        listing_id=listing_uuid,
                        key=key,
                        wanted=wanted,
                        reason=reason,
                        stored=stored,
                    )
            except _Replay as replay:
                _discard(stored)
                return _replay(replay.order, wanted), False
            except IntegrityError:
                _discard(stored)
                stored = []
                # Another transaction committed first: its order is the answer (the key), or
                # the buyer already holds this listing.
                winner = Order.objects.filter(organization=org, idempotency_key=key).first()
                if winner is not None:
                    return _replay(winner, wanted), False
                if Order.objects.filter(organization=org, listing_id=listing_uuid).exists():
                    raise _already_purchased() from None
                raise
            return order, True
    except BaseException:
        _discard(stored)
        raise


def _replay(order: Order, wanted: str) -> Order:
    if order.request_hash != wanted:
        raise Conflict(
            "This Idempotency-Key was already used for a different purchase. Use a new key.",
            code="idempotency_key_reused",
            details={"order_id": str(order.pk)},
        )
    return order


def _already_purchased() -> Conflict:
    return Conflict(
        "Your organization already bought this listing.",
        code="already_purchased",
    )


def _refuse(message: str, code: str, **details) -> Conflict:
    """An eligibility refusal: the request is understood and allowed for the role, but the
    state of the exchange forbids it (409 with its own code)."""
    return Conflict(message, code=code, details=details)


class _Replay(Exception):
    """Raised inside the savepoint when, after the listing lock, the key's order exists."""

    def __init__(self, order: Order):
        self.order = order


def _purchase(*, org, actor, listing_id, key, wanted, reason, stored) -> Order:
    now = timezone.now()
    buyer_id = org.pk

    # 1. The buyer: an approved member.
    buyer_entry = directory.directory_entry(buyer_id)
    if buyer_entry is None or buyer_entry.status != MembershipStatus.APPROVED:
        raise _refuse(
            "Only approved exchange members can buy. Apply from the exchange's membership page.",
            "buyer_not_member",
        )

    # 2. The listing as every member sees it (RLS: approved members read listings). A listing
    # the buyer cannot see is "not found".
    with unscoped():  # the ORM scope lifted; RLS still shows listings to approved members only
        listing = Listing.objects.filter(pk=listing_id).first()
    if listing is None:
        raise NotFound("Not found.")
    seller_id = listing.organization_id
    if seller_id == buyer_id:
        raise _refuse("This is your own listing.", "own_listing")
    # 3. The seller: approved (not suspended) and in good standing.
    seller_entry = directory.directory_entry(seller_id)
    if seller_entry is None or seller_entry.status == MembershipStatus.SUSPENDED:
        raise _refuse("The seller is suspended from the exchange.", "seller_suspended")
    if seller_entry.status != MembershipStatus.APPROVED:
        raise _refuse("The seller is not an approved member.", "seller_not_member")
    if not seller_entry.good_standing:
        raise _refuse(
            "The seller is not in good standing (no current accreditation).",
            "seller_not_in_good_standing",
        )

    # 4. The seller's side, through the two-scope path: the listing row locked, the record
    # still current and verified, the seller's release, the evidence bytes.
    with second_scope(seller_id):
        listing = Listing.objects.select_for_update().filter(pk=listing_id).first()
        if listing is None:
            raise NotFound("Not found.")
        _check_listing(listing, now)
        original = (
            Verification.objects.select_related("credential", "provider")
            .annotate(is_superseded=Exists(Verification.objects.filter(supersedes=OuterRef("pk"))))
            .filter(pk=listing.verification_id)
            .first()
        )
        if original is None or original.is_superseded:
            raise _refuse(
                "The seller corrected this record since it was listed; it is no longer offered.",
                "record_superseded",
            )
        if original.result != VerificationResult.VERIFIED:
            raise _refuse("The listed record is not a verified result.", "record_not_verified")
        if original.provider.excluded:
            raise _refuse(
                "The clinician has a confirmed exclusion; the listing cannot be bought.",
                "clinician_excluded",
            )
        if (
            releases.release_current(
                org=seller_id, provider=original.provider, source=listing.source
            )
            is None
        ):
            raise _refuse(
                "The seller holds no current release from the clinician for this type.",
                "seller_release_missing",
            )
        seller_evidence = [
            (item, _read_evidence(item))
            for item in VerificationEvidence.objects.filter(verification=original).order_by(
                "created_at", "id"
            )
        ]
        original_credential = original.credential

    # With the listing locked, a concurrent twin of this request has committed or not: its
    # order is the answer to a replayed key, and a second purchase of the listing is refused.
    _no_prior_order(org, key, listing_id)

    # 5. The buyer's side: the clinician on the buyer's roster, the buyer's release, the
    # buyer's requirements.
    provider = (
        Provider.objects.filter(organization=org, npi=listing.npi)
        .exclude(status=ProviderStatus.TERMINATED)
        .first()
        if listing.npi
        else None
    )
    if provider is None:
        raise _refuse(
            "The clinician is not on your roster. Add the clinician (same NPI) first.",
            "clinician_not_on_roster",
        )
    if releases.release_current(org=org, provider=provider, source=listing.source) is None:
        raise _refuse(
            "You hold no current release from this clinician covering this verification type. "
            "Record one on the exchange's releases page.",
            "buyer_release_missing",
        )
    profile = requirements.requirements_profile(org=org)
    unmet = requirements.requirements_unmet(
        profile=profile, listing=listing, seller_rating=seller_entry.rating, now=now
    )
    if unmet and not reason:
        raise _refuse(
            "This listing does not meet your requirements: "
            + "; ".join(u.message for u in unmet)
            + ". Give a reason to override.",
            "requirements_unmet",
            unmet=[u.as_dict() for u in unmet],
        )
    overridden = [u.as_dict() for u in unmet]

    # 6. The price, fixed now.
    price = listing_price_cents(listing)
    fee = fee_cents(price)
    total = price + fee

    # 7. The copy in the buyer's PSV log, with its evidence re-stored and checked.
    order_id = uuid.uuid4()
    credential = _matching_credential(org, provider, original_credential)
    copy = Verification(
        id=uuid.uuid4(),
        organization_id=buyer_id,
        provider=provider,
        credential=credential,
        source=original.source,
        source_state=original.source_state,
        source_name=original.source_name,
        method=VerificationMethod.EXCHANGE,
        result=original.result,
        verifier_kind=VerifierKind.EXCHANGE,
        verifier_user=None,
        verifier_label=f"CredEx exchange: {listing.seller_name}"[:254],
        verified_at=original.verified_at,
        details=original.details,
        reference=original.reference,
        data={
            **(original.data or {}),
            "exchange": {
                "order_id": str(order_id),
                "listing_id": str(listing.pk),
                "seller_organization_id": str(seller_id),
                "seller_name": listing.seller_name,
                "original_method": original.method,
                "original_method_label": original.get_method_display(),
                "original_verifier": original.verifier_label,
                "original_verified_at": original.verified_at.isoformat(),
                "original_source": original.source,
                "original_verification_id": str(original.pk),
            },
        },
    )
    copied = []
    for item, data in seller_evidence:
        evidence = VerificationEvidence(
            id=uuid.uuid4(),
            organization_id=buyer_id,
            verification=copy,
            original_name=item.original_name,
            content_type=item.content_type,
            size=len(data),
            sha256=item.sha256,
        )
        evidence.file.save("evidence", ContentFile(data), save=False)
        stored.append(evidence)
        copied.append(evidence)
    copy.request = (
        VerificationRequest.objects.select_for_update()
        .filter(
            organization=org,
            provider=provider,
            credential=credential,
            source=copy.source,
            status__in=OPEN_REQUEST_STATUSES,
        )
        .first()
    )
    copy.save(force_insert=True)
    for evidence in copied:
        evidence.save(force_insert=True)
    if copy.request is not None:
        from verifications.services.queue_hooks import request_completed

        request_completed(org=org, request=copy.request, verification=copy)
    if credential is not None:
        from verifications.services.packets import packet_verification_recorded

        packet_verification_recorded(org=org, verification=copy)

    # 8. The order (the unique constraints settle concurrent duplicates here).
    member = actor if isinstance(actor, Membership) else None
    order = Order(
        id=order_id,
        organization_id=buyer_id,
        seller_organization_id=seller_id,
        seller_name=listing.seller_name,
        listing_id=listing.pk,
        seller_verification_id=original.pk,
        idempotency_key=key,
        request_hash=wanted,
        provider=provider,
        verification=copy,
        npi=listing.npi,
        clinician_name=listing.clinician_name,
        source=listing.source,
        source_state=listing.source_state,
        original_method=original.method,
        original_verified_at=original.verified_at,
        price_cents=price,
        fee_cents=fee,
        total_cents=total,
        overridden_rules=overridden,
        override_reason=reason if overridden else "",
        bought_by=member,
        bought_by_label=_actor_label(actor)[:254],
        created_at=now,
    )
    order.save(force_insert=True)

    # 9. The receipt (buyer's scope).
    from exchange.services import receipts

    receipts.receipt_issue(order=order, verification=copy, evidence=copied)

    # 10. Audit, both chains (sealed at commit in a fixed order).
    who = audit_actor(actor)
    facts = {
        "order": str(order.pk),
        "listing": str(listing.pk),
        "seller": str(seller_id),
        "buyer": str(buyer_id),
        "npi": listing.npi,
        "source": listing.source,
        "seller_verification": str(original.pk),
        "verification": str(copy.pk),
        "original_verified_at": original.verified_at.isoformat(),
        "price_cents": price,
        "fee_cents": fee,
        "total_cents": total,
        "evidence": [{"sha256": e.sha256, "size": e.size} for e in copied],
    }
    if overridden:
        facts["overridden_rules"] = overridden
        facts["override_reason"] = order.override_reason
    audit_record(
        org=buyer_id, actor=who, action="exchange.order.purchased", target=order, data=facts
    )
    audit_record(
        org=seller_id,
        actor=who,
        action="exchange.order.sold",
        target=order,
        data={k: v for k, v in facts.items() if k not in ("verification", "evidence")},
    )

    # 11. The seller's counters (the listing row is already locked by this transaction).
    with second_scope(seller_id):
        Listing.objects.filter(pk=listing.pk).update(sale_count=F("sale_count") + 1, updated_at=now)
    MemberDirectory.objects.filter(member_id=seller_id).update(
        trade_count=F("trade_count") + 1, updated_at=now
    )

    # 12. The ledger, last: the platform's fee account is every purchase's hot row.
    entry = entry_post(
        kind="exchange_purchase",
        reference_type="exchange.order",
        reference_id=str(order.pk),
        memo=f"Exchange purchase {order.pk}",
        legs=[
            Leg(kind="exchange_due", amount_cents=total, org_id=buyer_id),
            Leg(kind="exchange_proceeds", amount_cents=-price, org_id=seller_id),
            Leg(kind="platform_fees", amount_cents=-fee, org_id=None),
        ],
    )
    Order.objects.filter(pk=order.pk).update(journal_entry_id=entry.pk)
    order.journal_entry_id = entry.pk
    # 13. The buyer's charge (invoice item or immediate charge; once per order).
    purchase_charge(
        org=org,
        order_id=order.pk,
        amount_cents=total,
        description=f"Exchange purchase {order.pk}",
        journal_entry=entry,
        actor=who,
    )
    return order


def _no_prior_order(org, key: str, listing_id) -> None:
    """A twin of this request that committed meanwhile is the answer (its key first, so a
    replay racing its original is a replay, not "already purchased")."""
    # One statement, one snapshot: two reads could straddle the twin's commit.
    prior = list(
        Order.objects.filter(organization=org).filter(
            Q(idempotency_key=key) | Q(listing_id=listing_id)
        )[:2]
    )
    for order in prior:
        if order.idempotency_key == key:
            raise _Replay(order)
    if prior:
        raise _already_purchased()


def _check_listing(listing: Listing, now) -> None:
    if listing.status == ListingStatus.WITHDRAWN:
        raise _refuse("The seller withdrew this listing.", "listing_withdrawn")
    if listing.status == ListingStatus.PAUSED:
        raise _refuse("This listing is paused.", "listing_paused")
    if listing.status == ListingStatus.EXPIRED or listing.expires_at <= now:
        raise _refuse(
            "This listing expired: the record is past the exchange's maximum age.",
            "listing_expired",
        )
    if listing.status != ListingStatus.LIVE:  # pragma: no cover - a status added later
        raise _refuse("This listing is not for sale.", "listing_not_live")


def _read_evidence(item: VerificationEvidence) -> bytes:
    """The seller's evidence bytes from storage, checked like an upload (size, type) and
    against the sha256 recorded with them."""
    with item.file.storage.open(item.file.name, "rb") as handle:
        data = read_limited(handle)
    sniff(data)
    if hashlib.sha256(data).hexdigest() != item.sha256:
        logger.error("exchange: evidence %s does not match its sha256", item.pk)
        raise Conflict(
            "The seller's evidence file does not match its recorded checksum; the purchase "
            "was not made.",
            code="evidence_mismatch",
        )
    return data


def _same_number(a: str, b: str) -> bool:
    """Licence numbers as people type them: case, spaces and dashes do not matter."""

    def norm(value: str) -> str:
        return "".join(ch for ch in (value or "").upper() if ch.isalnum())

    return norm(a) == norm(b)


def _matching_credential(org, provider, original: Credential | None) -> Credential | None:
    """The buyer's credential of the clinician that the record verifies (same kind, state
    and number), or None for a provider-level record. A credential-level record with no such
    credential on the buyer's file is refused: the PSV log ties every licence, DEA or board
    verification to the credential it verifies, and the committee's window counts it there."""
    if original is None:
        return None
    candidates = Credential.objects.filter(
        organization=org, provider=provider, kind=original.kind, state=original.state
    ).order_by("-expiry_date")
    for credential in candidates:
        if _same_number(credential.number, original.number):
            return credential
    where = " ".join(part for part in (original.state, original.number) if part)
    raise _refuse(
        f"Add the clinician's {original.get_kind_display().lower()}"
        f"{f' ({where})' if where else ''} to the clinician's file first: the purchased "
        "verification is filed against it.",
        "credential_not_on_file",
        kind=original.kind,
        state=original.state,
        number=original.number,
    )


def _actor_label(actor) -> str:
    if isinstance(actor, Membership):
        return actor.user.email
    name = getattr(actor, "name", "") or ""
    prefix = getattr(actor, "prefix", "") or ""
    return f"API key {name} ({prefix})" if prefix else (name or "system")


def _discard(evidence: list[VerificationEvidence]) -> None:
    for item in evidence:
        try:
            item.file.storage.delete(item.file.name)
        except Exception:  # pragma: no cover - best effort; the rows never existed
            logger.exception("could not remove orphaned evidence file %s", item.file.name)
    evidence.clear()
