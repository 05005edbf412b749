"""Signed receipts: an Ed25519 signature over a canonical JSON of the order, issued when a
purchase commits, verifiable by anyone holding the published public keys.

Keys: the private halves come from settings.EXCHANGE_RECEIPT_KEYS (the first signs, the
others only verify); their public halves are published as ReceiptKey rows (global), synced
on first use. Rotating adds the new key's row and marks the previous signer retired; a
retired key's row stays, so what it signed still verifies. Private keys are never logged,
stored or returned.

Canonical JSON: sorted keys, separators (",", ":"), ensure_ascii=False, UTF-8, no NaN.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import uuid
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import Actor, audit_record
from credex.actors import audit_actor
from credex.errors import InvalidInput
from credex.tenancy import unscoped

logger = logging.getLogger(__name__)

ALGORITHM = "Ed25519"
RECEIPT_VERSION = 1
SIGNER = Actor.system("exchange receipt signer")
# A receipt is a few hundred bytes; anything far larger is not one.
MAX_DOCUMENT_BYTES = 64 * 1024
DOCUMENT_KEYS = {"payload", "signature", "key_id", "algorithm"}


# --- canonical form and hashes ---------------------------------------------------------------


def canonical_json(value) -> bytes:
    """The signed bytes: sorted keys, compact separators, UTF-8, NaN refused."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _iso(value: datetime) -> str:
    # One spelling of an instant whatever zone the value carries (the database returns UTC).
    return value.astimezone(UTC).isoformat()


def _content_hash(verification, evidence_sha256: list[str]) -> str:
    document = {
        "source": verification.source,
        "source_state": verification.source_state,
        "source_name": verification.source_name,
        "result": verification.result,
        "details": verification.details,
        "reference": verification.reference,
        "data": verification.data or {},
        "verified_at": _iso(verification.verified_at),
        "evidence_sha256": sorted(evidence_sha256),
    }
    return hashlib.sha256(canonical_json(document)).hexdigest()


def record_content_hash(*, verification, evidence) -> str:
    """The hash a receipt signs over a record's details and its evidence files' sha256."""
    return _content_hash(verification, [item.sha256 for item in evidence])


def _stored_sha256(item) -> str:
    """The sha256 of the evidence bytes as they are in storage now (never the column)."""
    digest = hashlib.sha256()
    with item.file.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- keys --------------------------------------------------------------------------------------


def _configured_keys() -> list[tuple[str, Ed25519PrivateKey]]:
    return [
        (kid, Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed)))
        for kid, seed in settings.EXCHANGE_RECEIPT_KEYS
    ]


def _public_b64(private: Ed25519PrivateKey) -> str:
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def receipt_keys_sync() -> tuple[str, Ed25519PrivateKey]:
    """Publish every configured key's public half; retire any other signer. Returns the active
    (key id, private key). One read when nothing changed."""
    from exchange.models import ReceiptKey

    configured = _configured_keys()
    if not configured:
        raise ImproperlyConfigured(
            "EXCHANGE_RECEIPT_KEYS must be set to sign exchange receipts "
            '("key-id:<base64 32-byte Ed25519 seed>", newest first).'
        )
    active_kid, active_private = configured[0]
    published = ReceiptKey.objects.in_bulk([kid for kid, _ in configured])
    missing = []
    for kid, private in configured:
        public = _public_b64(private)
        row = published.get(kid)
        if row is None:
            missing.append(ReceiptKey(key_id=kid, algorithm=ALGORITHM, public_key=public))
        elif row.public_key != public:
            # A key id is forever bound to one key: reusing it would make old receipts lie.
            raise ImproperlyConfigured(
                f"Receipt key id {kid!r} is already published with another key."
            )
    row = published.get(active_kid)
    stale_signers = ReceiptKey.objects.filter(retired_at__isnull=True).exclude(key_id=active_kid)
    if not missing and row is not None and row.retired_at is None and not stale_signers.exists():
        return active_kid, active_private
    with transaction.atomic():
        if missing:
            ReceiptKey.objects.bulk_create(missing, ignore_conflicts=True)
        now = timezone.now()
        # The active key is the only one that signs; every other published key only verifies.
        ReceiptKey.objects.filter(retired_at__isnull=True).exclude(key_id=active_kid).update(
            retired_at=now
        )
        ReceiptKey.objects.filter(key_id=active_kid).update(retired_at=None)
    logger.info("receipt keys published; active key id %s", active_kid)
    return active_kid, active_private


def published_keys() -> list:
    """Every published receipt key (public half, id, when created and retired)."""
    from exchange.models import ReceiptKey

    _sync_if_configured()
    return list(ReceiptKey.objects.order_by("created_at", "key_id"))


def _sync_if_configured() -> None:
    # Reading and verifying need only the published halves; only signing needs a private key.
    if settings.EXCHANGE_RECEIPT_KEYS:
        receipt_keys_sync()


# --- issue -------------------------------------------------------------------------------------


def _payload(*, order, verification, evidence, key_id: str, issued_at: datetime) -> dict:
    from credex.models import Organization
    from verifications.models import VerificationSource

    buyer = Organization.objects.get(pk=order.organization_id)
    return {
        "version": RECEIPT_VERSION,
        "order_id": str(order.pk),
        "listing_id": str(order.listing_id),
        "seller_organization": {"id": str(order.seller_organization_id), "name": order.seller_name},
        "buyer_organization": {"id": str(buyer.pk), "name": buyer.name},
        "clinician_npi": order.npi,
        "source": order.source,
        "source_state": order.source_state,
        "verification_type": str(VerificationSource(order.source).label),
        "original_verified_at": _iso(order.original_verified_at),
        "content_hash": record_content_hash(verification=verification, evidence=evidence),
        "price_cents": order.price_cents,
        "fee_cents": order.fee_cents,
        "total_cents": order.total_cents,
        "issued_at": _iso(issued_at),
        "key_id": key_id,
    }


def receipt_issue(*, order, verification, evidence):
    """Sign the order's receipt and store it in the buyer's organization (audited).

    Called by purchase_make inside its transaction, in the buyer's scope; `verification` and
    `evidence` are the buyer's copied record and its VerificationEvidence rows."""
    from exchange.models import Receipt

    evidence = list(evidence)
    key_id, private = receipt_keys_sync()
    payload = _payload(
        order=order,
        verification=verification,
        evidence=evidence,
        key_id=key_id,
        issued_at=timezone.now(),
    )
    signature = base64.b64encode(private.sign(canonical_json(payload))).decode()
    with transaction.atomic():
        receipt = Receipt.objects.create(
            organization_id=order.organization_id,
            order=order,
            seller_organization_id=order.seller_organization_id,
            key_id=key_id,
            payload=payload,
            signature=signature,
        )
        audit_record(
            org=order.organization_id,
            actor=SIGNER,
            action="exchange.receipt.issued",
            target=receipt,
            data={
                "order": str(order.pk),
                "key_id": key_id,
                "content_hash": payload["content_hash"],
                "total_cents": order.total_cents,
            },
        )
    return receipt


def receipt_document(receipt) -> dict:
    """The receipt as its holder keeps it: what `receipt_verify` takes."""
    return {
        "algorithm": ALGORITHM,
        "key_id": receipt.key_id,
        "payload": receipt.payload,
        "signature": receipt.signature,
    }


# --- verify ------------------------------------------------------------------------------------


def _clean_document(document) -> tuple[dict, str, str, bytes]:
    """(payload, signature, key id, canonical bytes) or InvalidInput for what is no receipt."""
    if not isinstance(document, dict):
        raise InvalidInput("A receipt is a JSON object with payload, signature and key_id.")
    unknown = set(document) - DOCUMENT_KEYS
    if unknown:
        raise InvalidInput(
            "A receipt has only payload, signature, key_id and algorithm.",
            details={"unknown": sorted(str(k)[:40] for k in unknown)[:10]},
        )
    payload, signature, key_id = (document.get(k) for k in ("payload", "signature", "key_id"))
    errors = {}
    if not isinstance(payload, dict):
        errors["payload"] = "The signed payload (an object)."
    if not isinstance(signature, str) or not 0 < len(signature) <= 200:
        errors["signature"] = "The base64 signature (text)."
    if not isinstance(key_id, str) or not 0 < len(key_id) <= 40:
        errors["key_id"] = "The id of the key that signed (text, at most 40 characters)."
    if document.get("algorithm", ALGORITHM) != ALGORITHM:
        errors["algorithm"] = f"Receipts are signed with {ALGORITHM}."
    if errors:
        raise InvalidInput("That is not a receipt: " + " ".join(errors.values()), details=errors)
    try:
        signed = canonical_json(payload)
    except (ValueError, TypeError, RecursionError):
        raise InvalidInput("The payload is not plain JSON.", details={"payload": "Not JSON."})
    if len(signed) > MAX_DOCUMENT_BYTES or "\x00" in signature + key_id:
        raise InvalidInput("That is not a receipt (too large or not text).")
    return payload, signature, key_id, signed


def _signature_ok(key_id: str, signature: str, signed: bytes, problems: list) -> bool:
    from exchange.models import ReceiptKey

    _sync_if_configured()
    key = ReceiptKey.objects.filter(key_id=key_id).first()
    if key is None:
        problems.append(f"The key id {key_id!r} is not a published receipt key.")
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 64:
        problems.append("The signature is not a base64 Ed25519 signature.")
        return False
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key))
    try:
        public.verify(raw, signed)
    except InvalidSignature:
        problems.append("The signature does not match the payload: the receipt was altered.")
        return False
    return True


def _party_order(org, order_id):
    """The order when `org` is its buyer or seller (RLS admits exactly those two)."""
    from exchange.models import Order

    try:
        pk = uuid.UUID(str(order_id))
    except ValueError:
        return None
    with unscoped():
        return (
            Order.objects.filter(pk=pk)
            .filter(Q(organization_id=org.pk) | Q(seller_organization_id=org.pk))
            .first()
        )


def _check_record(org, payload: dict, result: dict) -> None:
    from verifications.models import Verification

    order = _party_order(org, payload.get("order_id"))
    if order is None:
        result["record_note"] = "The order is not one of this organization's."
        return
    if order.organization_id != org.pk:
        result["record_note"] = (
            "Only the buyer holds the purchased record; the seller cannot check it."
        )
        return
    verification = Verification.objects.get(organization=org, pk=order.verification_id)
    problems = result["problems"]
    result["record_checked"] = True
    hashes = []
    for item in verification.evidence.all():
        try:
            hashes.append(_stored_sha256(item))
        except OSError:
            problems.append(f"The evidence file {item.original_name!r} is missing from storage.")
            hashes.append("missing")
    result["record_matches"] = _content_hash(verification, hashes) == payload.get("content_hash")
    if not result["record_matches"]:
        problems.append("The purchased record or its evidence no longer matches the receipt.")
    superseded = Verification.objects.filter(supersedes=verification).exists()
    result["record_superseded"] = superseded
    if superseded:
        problems.append("The purchased record was superseded by a correction.")


def receipt_verify(*, document: dict, org=None) -> dict:
    """Check a receipt: the key is published, the signature holds over the canonical payload,
    and (for the buyer, when `org` is given) the record still hashes to what was signed."""
    payload, signature, key_id, signed = _clean_document(document)
    result = {
        "valid": False,
        "signature_valid": False,
        "key_id": key_id,
        "record_checked": False,
        "record_matches": None,
        "record_superseded": None,
        "record_note": "",
        "problems": [],
    }
    if payload.get("key_id") != key_id:
        result["problems"].append("The payload names another key than the receipt.")
    result["signature_valid"] = _signature_ok(key_id, signature, signed, result["problems"])
    if result["signature_valid"] and org is not None:
        # An unsigned payload's order id means nothing; only a genuine receipt is compared.
        _check_record(org, payload, result)
    result["valid"] = result["signature_valid"] and not result["problems"]
    return result


# --- downloads ---------------------------------------------------------------------------------


def order_download_record(
    *, org, actor, order, part: str, via: str = "web", viewed: bool = False
) -> None:
    """Audit a read of a purchase: its receipt, PDF packet or record JSON downloaded
    (`exchange.record.downloaded`), or the receipt page seen (`exchange.receipt.viewed`)."""
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action="exchange.receipt.viewed" if viewed else "exchange.record.downloaded",
        target=order,
        data={"part": part, "via": via, "buyer": order.organization_id == org.pk},
    )
