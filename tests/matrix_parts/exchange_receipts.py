"""Permission-matrix part: exchange receipts (keys, verify, an order's receipt, record and
packet).

`ids` builds what a purchase writes into org A (the buyer): the copied record (method
"exchange", provenance in its data) with a PDF evidence file, the order (a self-trade: the
matrix has no second member organization to sell) and its signed receipt. The verify POST
only reads: its body is a receipt that does not verify (200, valid false).

`build_purchase` is also what tests/test_exchange_receipts.py uses until purchase_make
exists on this branch.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

BODIES: dict = {
    ("api_exchange_receipts_verify", "POST"): {
        "payload": {"order_id": "00000000-0000-4000-8000-000000000000", "key_id": "matrix"},
        "signature": "AAAA",
        "key_id": "matrix",
    }
}
READS_BY_POST: set = {("api_exchange_receipts_verify", "POST")}


def _evidence(org, verification, name: str, content_type: str, data: bytes):
    from django.core.files.base import ContentFile

    from verifications.models import VerificationEvidence

    item = VerificationEvidence(
        id=uuid.uuid4(),
        organization_id=org.pk,
        verification=verification,
        original_name=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    item.file.save("evidence", ContentFile(data), save=False)
    item.save(force_insert=True)
    return item


def build_purchase(buyer, seller_org, member, *, seed: int = 7101, files=None):
    """What purchase_make writes into the buyer (`buyer`: an Organization, inside its
    tenant_context): a provider with a credential, the copied record with evidence, the order
    sold by `seller_org`, and the receipt. Returns (order, receipt)."""
    from django.utils import timezone

    from exchange.models import Order
    from exchange.services.receipts import receipt_issue
    from roster.models import Credential
    from tests.factories import make_provider, pdf_bytes
    from verifications.models import Verification

    provider = make_provider(buyer, seed=seed)
    credential = Credential.objects.create(
        organization=buyer, provider=provider, kind="state_license", state="TX", number="TX-1"
    )
    verified_at = timezone.now() - timedelta(days=20)
    listing_id, seller_record = uuid.uuid4(), uuid.uuid4()
    record = Verification.objects.create(
        organization=buyer,
        provider=provider,
        credential=credential,
        source="state_board",
        source_state="TX",
        source_name="Texas Medical Board",
        method="exchange",
        result="verified",
        verifier_kind="exchange",
        verifier_label=f"Exchange purchase from {seller_org.name}",
        verified_at=verified_at,
        details="License active, no board actions. — vérifié",
        reference="TMB-12345",
        data={
            "status": "active",
            "expiry_date": "2027-01-31",
            "exchange": {
                "order_id": "",
                "listing_id": str(listing_id),
                "seller_organization_id": str(seller_org.pk),
                "seller_name": seller_org.name,
                "original_method": "web",
                "original_verifier": "verifier@seller.example",
                "original_verified_at": verified_at.isoformat(),
                "original_source": "Texas Medical Board",
                "original_verification_id": str(seller_record),
            },
        },
    )
    files = files if files is not None else [("license.pdf", "application/pdf", pdf_bytes(2))]
    evidence = [_evidence(buyer, record, *f) for f in files]
    order = Order.objects.create(
        organization=buyer,
        seller_organization=seller_org,
        seller_name=seller_org.name,
        listing_id=listing_id,
        seller_verification_id=seller_record,
        idempotency_key=f"receipts-{seed}",
        request_hash="0" * 64,
        provider=provider,
        verification=record,
        npi=provider.npi,
        clinician_name=provider.full_name,
        source=record.source,
        source_state=record.source_state,
        original_method="web",
        original_verified_at=verified_at,
        price_cents=4500,
        fee_cents=450,
        total_cents=4950,
        bought_by=member,
        bought_by_label=member.user.email,
    )
    receipt = receipt_issue(order=order, verification=record, evidence=evidence)
    return order, receipt


def ids(tenant, base: dict) -> dict:
    from credex.tenancy import tenant_context

    with tenant_context(tenant.org):
        order, _ = build_purchase(tenant.org, tenant.org, tenant.membership(tenant.owner))
    return {"order_id": order.pk}


def snapshot(org) -> dict:
    from credex.tenancy import tenant_context
    from exchange.models import Receipt, ReceiptKey

    with tenant_context(org):
        return {
            "receipts": sorted(Receipt.objects.values_list("id", "signature")),
            "receipt_keys": sorted(ReceiptKey.objects.values_list("key_id", "retired_at")),
        }
