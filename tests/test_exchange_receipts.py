"""Signed exchange receipts (issue 12, items 7 and 11): issue and verify, every way a receipt
or its record can stop verifying, key rotation, the public keys, the verify API and command,
the buyer's PDF packet and record JSON, and who may read what.

The purchase itself is another area's (purchase_make); `purchase` writes what it would: the
buyer's copied record with evidence, the order sold by another organization, the receipt.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from exchange.models import Receipt, ReceiptKey
from exchange.services.receipts import canonical_json, receipt_document, receipt_verify
from tests.conftest import build_tenant
from tests.factories import png_bytes
from tests.matrix_parts.exchange_receipts import build_purchase

pytestmark = pytest.mark.django_db


def _seed() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def keys(settings):
    """Two fresh keys for the test; the first signs."""
    pair = [("test-k1", _seed()), ("test-k0", _seed())]
    settings.EXCHANGE_RECEIPT_KEYS = pair
    return pair


@pytest.fixture
def seller(db):
    return build_tenant("Riverbend Seller", "seller.example", roles=())


def _evidence_pdf() -> bytes:
    from weasyprint import HTML

    return HTML(
        string="<p>EVIDENCEPAGEMARKER one</p><p style='break-before:page'>two</p>"
    ).write_pdf()


@pytest.fixture
def purchase(tenant_a, seller, keys):
    files = [
        ("license.pdf", "application/pdf", _evidence_pdf()),
        ("screenshot.png", "image/png", png_bytes(40, 30)),
    ]
    with tenant_context(tenant_a.org):
        order, receipt = build_purchase(
            tenant_a.org, seller.org, tenant_a.membership(tenant_a.owner), files=files
        )
    return order, receipt


def _verify(document, org=None):
    if org is None:
        return receipt_verify(document=document)
    with tenant_context(org):
        return receipt_verify(document=document, org=org)


def _doc(receipt) -> dict:
    return copy.deepcopy(receipt_document(receipt))


def api(client, tenant, user, method, path, body=None, raw=None):
    client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
    data = raw if raw is not None else (json.dumps(body) if body is not None else "")
    return client.generic(
        method,
        f"/api/v1/{path}",
        data,
        content_type="application/json",
        HTTP_X_CREDEX_ORGANIZATION=tenant.org.slug,
    )


# --- issue and verify ------------------------------------------------------------------------


def test_an_issued_receipt_verifies_with_its_signature_and_the_buyers_record(
    purchase, tenant_a, seller
):
    order, receipt = purchase
    result = _verify(_doc(receipt), tenant_a.org)
    assert result["valid"] is True, result
    assert result["signature_valid"] and result["record_checked"]
    assert result["record_matches"] is True and result["record_superseded"] is False
    assert result["key_id"] == "test-k1" and result["problems"] == []
    payload = receipt.payload
    assert payload["order_id"] == str(order.pk)
    assert payload["seller_organization"] == {"id": str(seller.org.pk), "name": seller.org.name}
    assert payload["buyer_organization"] == {"id": str(tenant_a.org.pk), "name": tenant_a.org.name}
    assert payload["total_cents"] == 4950 and payload["verification_type"]
    with tenant_context(tenant_a.org):
        stored = Receipt.objects.get(order=order)
        assert stored.seller_organization_id == seller.org.pk
        events = AuditEvent.objects.filter(action="exchange.receipt.issued")
        assert [e.target_id for e in events] == [str(receipt.pk)]


def test_the_signature_is_over_the_canonical_json_of_the_payload(purchase):
    _, receipt = purchase
    key = ReceiptKey.objects.get(key_id=receipt.key_id)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key))
    signed = json.dumps(
        receipt.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert canonical_json(receipt.payload) == signed
    public.verify(base64.b64decode(receipt.signature), signed)  # raises if it does not hold


def test_without_an_organization_only_the_signature_is_checked(purchase):
    _, receipt = purchase
    result = _verify(_doc(receipt))
    assert result["valid"] is True and result["record_checked"] is False
    assert result["record_matches"] is None


@pytest.mark.parametrize(
    "field,value",
    [
        ("order_id", "00000000-0000-4000-8000-000000000001"),
        ("listing_id", "00000000-0000-4000-8000-000000000002"),
        ("clinician_npi", "1999999999"),
        ("source", "dea"),
        ("source_state", "CA"),
        ("verification_type", "DEA"),
        ("original_verified_at", "2020-01-01T00:00:00+00:00"),
        ("content_hash", "0" * 64),
        ("price_cents", 1),
        ("fee_cents", 0),
        ("total_cents", 4949),
        ("issued_at", "2030-01-01T00:00:00+00:00"),
        ("version", 2),
        ("seller_organization", {"id": "x", "name": "Somebody else"}),
        ("buyer_organization", {"id": "x", "name": "Somebody else"}),
        ("extra", "added"),
    ],
)
def test_changing_any_payload_field_makes_the_receipt_fail(purchase, tenant_a, field, value):
    _, receipt = purchase
    document = _doc(receipt)
    document["payload"][field] = value
    result = _verify(document, tenant_a.org)
    assert result["valid"] is False and result["signature_valid"] is False
    assert any("altered" in p for p in result["problems"])


def test_an_altered_signature_does_not_verify(purchase, tenant_a):
    _, receipt = purchase
    document = _doc(receipt)
    raw = bytearray(base64.b64decode(document["signature"]))
    raw[0] ^= 1
    document["signature"] = base64.b64encode(bytes(raw)).decode()
    assert _verify(document, tenant_a.org)["valid"] is False
    document["signature"] = "not base64!"
    result = _verify(document, tenant_a.org)
    assert result["valid"] is False and result["signature_valid"] is False


def test_a_key_id_that_is_not_published_does_not_verify(purchase, tenant_a):
    _, receipt = purchase
    document = _doc(receipt)
    document["key_id"] = document["payload"]["key_id"] = "never-published"
    result = _verify(document, tenant_a.org)
    assert result["valid"] is False
    assert any("not a published" in p for p in result["problems"])


def test_a_signature_made_with_a_foreign_key_does_not_verify(purchase, tenant_a):
    _, receipt = purchase
    document = _doc(receipt)
    foreign = Ed25519PrivateKey.generate()
    document["signature"] = base64.b64encode(
        foreign.sign(canonical_json(document["payload"]))
    ).decode()
    result = _verify(document, tenant_a.org)
    assert result["valid"] is False and result["signature_valid"] is False


def test_the_receipt_fails_once_the_copied_record_is_superseded_by_a_correction(purchase, tenant_a):
    from verifications.services.records import verification_correct

    order, receipt = purchase
    with tenant_context(tenant_a.org):
        verification_correct(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            verification=order.verification,
            reason="Refund: the record no longer counts",
            details="Corrected",
        )
    result = _verify(_doc(receipt), tenant_a.org)
    assert result["valid"] is False and result["signature_valid"] is True
    assert result["record_superseded"] is True
    assert any("superseded" in p for p in result["problems"])


def test_the_receipt_fails_when_an_evidence_files_bytes_change_in_storage(purchase, tenant_a):
    order, receipt = purchase
    with tenant_context(tenant_a.org):
        item = order.verification.evidence.get(original_name="license.pdf")
    Path(item.file.path).write_bytes(b"%PDF-1.4 something else entirely")
    result = _verify(_doc(receipt), tenant_a.org)
    assert result["valid"] is False and result["record_matches"] is False
    assert any("no longer matches" in p for p in result["problems"])


def test_the_receipt_fails_when_an_evidence_file_is_gone_from_storage(purchase, tenant_a):
    order, receipt = purchase
    with tenant_context(tenant_a.org):
        item = order.verification.evidence.get(original_name="screenshot.png")
    Path(item.file.path).unlink()
    result = _verify(_doc(receipt), tenant_a.org)
    assert result["valid"] is False and result["record_matches"] is False
    assert any("missing from storage" in p for p in result["problems"])


def test_the_seller_verifies_the_signature_but_has_no_record_to_check(purchase, seller):
    _, receipt = purchase
    result = _verify(_doc(receipt), seller.org)
    assert result["valid"] is True and result["record_checked"] is False
    assert "seller" in result["record_note"]


def test_an_outsider_learns_only_that_the_signature_holds(purchase, tenant_b):
    _, receipt = purchase
    result = _verify(_doc(receipt), tenant_b.org)
    assert result["signature_valid"] is True and result["record_checked"] is False
    assert result["record_note"] == "The order is not one of this organization's."


# --- keys and rotation ----------------------------------------------------------------------


def test_rotation_keeps_old_receipts_verifiable_and_retires_the_old_signer(
    purchase, tenant_a, seller, settings
):
    _, old = purchase
    assert old.key_id == "test-k1"
    new_seed = _seed()
    settings.EXCHANGE_RECEIPT_KEYS = [("test-k2", new_seed), *settings.EXCHANGE_RECEIPT_KEYS]
    with tenant_context(tenant_a.org):
        _, fresh = build_purchase(
            tenant_a.org, seller.org, tenant_a.membership(tenant_a.owner), seed=7202
        )
    assert fresh.key_id == "test-k2"
    assert ReceiptKey.objects.get(key_id="test-k1").retired_at is not None
    assert ReceiptKey.objects.get(key_id="test-k2").retired_at is None
    assert _verify(_doc(old), tenant_a.org)["valid"] is True
    assert _verify(_doc(fresh), tenant_a.org)["valid"] is True
    # The old key's private half may leave the configuration: its published half stays.
    settings.EXCHANGE_RECEIPT_KEYS = [("test-k2", new_seed)]
    assert _verify(_doc(old), tenant_a.org)["valid"] is True


def test_a_key_id_reused_for_another_key_is_refused(purchase, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.EXCHANGE_RECEIPT_KEYS = [("test-k1", _seed())]
    with pytest.raises(ImproperlyConfigured, match="already published"):
        _verify(_doc(purchase[1]))


def test_the_receipt_keys_setting_refuses_malformed_keys_without_echoing_them():
    from django.core.exceptions import ImproperlyConfigured

    from credex.settings import receipt_keys

    with pytest.raises(ImproperlyConfigured) as refused:
        receipt_keys("k1:c2hvcnQ=")
    assert "c2hvcnQ" not in str(refused.value)
    seed = _seed()
    with pytest.raises(ImproperlyConfigured, match="unique id"):
        receipt_keys(f"k1:{seed},k1:{seed}")
    with pytest.raises(ImproperlyConfigured, match="unique id"):
        receipt_keys(f"bad id!:{seed}")
    assert [kid for kid, _ in receipt_keys(f"k1:{seed}, k0:{_seed()}")] == ["k1", "k0"]


def test_the_public_keys_endpoint_answers_without_authentication(client, purchase, keys):
    response = client.get("/api/v1/exchange/receipt-keys")
    assert response.status_code == 200
    listed = {k["key_id"]: k for k in response.json()["keys"]}
    assert listed["test-k1"]["active"] is True and listed["test-k0"]["active"] is False
    assert listed["test-k1"]["algorithm"] == "Ed25519"
    public = base64.b64decode(listed["test-k1"]["public_key"])
    assert len(public) == 32
    body = response.content.decode()
    assert all(seed not in body for _, seed in keys)  # never the private halves
    assert client.post("/api/v1/exchange/receipt-keys", {}).status_code == 405


# --- the verify API -------------------------------------------------------------------------


def test_the_verify_api_checks_the_receipt_and_the_buyers_record(
    client, purchase, tenant_a, seller
):
    _, receipt = purchase
    document = _doc(receipt)
    ok = api(client, tenant_a, tenant_a.auditor, "POST", "exchange/receipts/verify", document)
    assert ok.status_code == 200, ok.content
    assert ok.json()["valid"] is True and ok.json()["record_checked"] is True
    document["payload"]["price_cents"] = 1
    bad = api(client, tenant_a, tenant_a.auditor, "POST", "exchange/receipts/verify", document)
    assert bad.status_code == 200 and bad.json()["valid"] is False
    sold = api(client, seller, seller.owner, "POST", "exchange/receipts/verify", _doc(receipt))
    assert sold.json()["valid"] is True and sold.json()["record_checked"] is False


def test_the_verify_api_needs_a_signed_in_caller(client, purchase):
    response = client.post(
        "/api/v1/exchange/receipts/verify", _doc(purchase[1]), content_type="application/json"
    )
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "details"}


@pytest.mark.parametrize(
    "raw",
    [
        "[]",
        '"a receipt"',
        "{}",
        '{"payload": [], "signature": "x", "key_id": "k"}',
        '{"payload": {}, "signature": 5, "key_id": "k"}',
        '{"payload": {}, "signature": "x", "key_id": "k\\u0000"}',
        '{"payload": {}, "signature": "x", "key_id": "' + "k" * 41 + '"}',
        '{"payload": {}, "signature": "x", "key_id": "k", "surprise": 1}',
        '{"payload": {}, "signature": "x", "key_id": "k", "algorithm": "RSA"}',
        '{"payload": {"big": "' + "x" * 70_000 + '"}, "signature": "x", "key_id": "k"}',
        '{"payload": ' + "[" * 5000 + "]" * 5000 + ', "signature": "x", "key_id": "k"}',
        "{not json",
    ],
    ids=lambda raw: raw[:40],
)
def test_hostile_bodies_to_the_verify_api_get_400_with_the_error_shape(
    client, purchase, tenant_a, raw
):
    before = AuditEvent.objects.count()
    response = api(client, tenant_a, tenant_a.owner, "POST", "exchange/receipts/verify", raw=raw)
    assert response.status_code == 400, response.content[:200]
    assert set(response.json()) == {"code", "message", "details"}
    assert AuditEvent.objects.count() == before


# --- the command ----------------------------------------------------------------------------


def _write(tmp_path, content, name="receipt.json") -> str:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return str(path)


def test_the_command_prints_the_checks_and_exits_0_for_a_valid_receipt(
    purchase, tenant_a, tmp_path
):
    out = io.StringIO()
    call_command(
        "receipt_verify", _write(tmp_path, _doc(purchase[1])), org=tenant_a.org.slug, stdout=out
    )
    text = out.getvalue()
    assert "[ok  ] signature" in text and "[ok  ] record content" in text
    assert "The receipt verifies." in text


def test_the_command_exits_1_for_a_receipt_that_does_not_verify(purchase, tenant_a, tmp_path):
    document = _doc(purchase[1])
    document["payload"]["fee_cents"] = 0
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command(
            "receipt_verify", _write(tmp_path, document), org=tenant_a.org.slug, stdout=out
        )
    assert failed.value.returncode == 1
    assert "[FAIL] signature" in out.getvalue()


@pytest.mark.parametrize(
    "content",
    [b"not json at all", b"\xff\xfe\x00", b"[1, 2]", b'{"payload": 1}', b"x" * 300_000],
    ids=["not-json", "not-utf8", "a-list", "wrong-shape", "huge"],
)
def test_the_command_exits_2_for_a_file_that_is_no_receipt(purchase, tmp_path, content):
    with pytest.raises(CommandError) as refused:
        call_command("receipt_verify", _write(tmp_path, content), stdout=io.StringIO())
    assert refused.value.returncode == 2


def test_the_command_exits_2_for_a_missing_file_or_unknown_organization(purchase, tmp_path):
    with pytest.raises(CommandError) as missing:
        call_command("receipt_verify", str(tmp_path / "nope.json"))
    assert missing.value.returncode == 2
    with pytest.raises(CommandError) as unknown:
        call_command("receipt_verify", _write(tmp_path, _doc(purchase[1])), org="no-such-org")
    assert unknown.value.returncode == 2


def test_the_command_run_as_a_process_exits_2_without_a_traceback(tmp_path):
    path = _write(tmp_path, b"\x00\x01 not a receipt")
    done = subprocess.run(
        [sys.executable, "manage.py", "receipt_verify", path],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "not a JSON receipt" in done.stderr


# --- pages, packet and record ---------------------------------------------------------------


def _page(client, login, user, org, name, order):
    from django.urls import reverse

    login(user)
    return client.get(reverse(name, kwargs={"org_slug": org.slug, "order_id": order.pk}))


def test_the_packet_has_the_receipt_the_record_and_the_evidence_pages(
    client, login, purchase, tenant_a
):
    order, receipt = purchase
    response = _page(
        client, login, tenant_a.coordinator, tenant_a.org, "exchange_order_packet", order
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    squashed = "".join(text.split())
    for expected in (str(order.pk), receipt.key_id, receipt.signature, "Texas Medical Board"):
        assert "".join(expected.split()) in squashed, expected
    assert "Signed exchange receipt" in text and "$49.50" in text
    # The two evidence pages are appended last, in order; the image has a page of its own.
    assert "EVIDENCEPAGEMARKER" in reader.pages[-2].extract_text()
    assert "two" in reader.pages[-1].extract_text()
    assert any("screenshot.png" in page.extract_text() for page in reader.pages[:-2])
    with tenant_context(tenant_a.org):
        event = AuditEvent.objects.filter(action="exchange.record.downloaded").get()
    assert event.data["part"] == "packet" and event.target_id == str(order.pk)


def test_the_record_json_has_details_provenance_evidence_and_the_receipt(
    client, login, purchase, tenant_a
):
    order, receipt = purchase
    response = _page(client, login, tenant_a.auditor, tenant_a.org, "exchange_order_json", order)
    assert response.status_code == 200
    record = json.loads(response.content)
    assert record["record"]["details"].endswith("vérifié")
    assert record["record"]["method"] == "exchange" and "exchange" not in record["record"]["data"]
    assert record["provenance"]["original_method"] == "web"
    assert record["provenance"]["original_source"] == "Texas Medical Board"
    assert {e["original_name"] for e in record["evidence"]} == {"license.pdf", "screenshot.png"}
    assert all(
        e["download"].startswith("/api/v1/verification-evidence/") for e in record["evidence"]
    )
    assert record["receipt"]["signature"] == receipt.signature
    assert _verify(record["receipt"], tenant_a.org)["valid"] is True
    api_copy = api(client, tenant_a, tenant_a.auditor, "GET", f"exchange/orders/{order.pk}/record")
    assert api_copy.status_code == 200 and api_copy.json()["order"]["id"] == str(order.pk)


def test_the_receipt_page_shows_the_check_and_downloads_the_signed_json(
    client, login, purchase, tenant_a
):
    order, receipt = purchase
    page = _page(client, login, tenant_a.auditor, tenant_a.org, "exchange_order_receipt", order)
    assert page.status_code == 200
    assert b"Signature verified" in page.content and receipt.signature.encode() in page.content
    download = client.get(page.request["PATH_INFO"] + "?download=1")
    assert download.status_code == 200
    assert _verify(json.loads(download.content), tenant_a.org)["valid"] is True
    with tenant_context(tenant_a.org):
        actions = list(
            AuditEvent.objects.filter(target_id=str(order.pk))
            .order_by("created_at")
            .values_list("action", "data__part")
        )
    assert actions == [
        ("exchange.receipt.viewed", "receipt"),
        ("exchange.record.downloaded", "receipt"),
    ]


def test_the_seller_reads_the_receipt_but_not_the_record_or_packet(client, login, purchase, seller):
    order, receipt = purchase
    page = _page(client, login, seller.owner, seller.org, "exchange_order_receipt", order)
    assert page.status_code == 200 and b"Signature verified" in page.content
    assert (
        _page(client, login, seller.owner, seller.org, "exchange_order_json", order).status_code
        == 404
    )
    assert (
        _page(client, login, seller.owner, seller.org, "exchange_order_packet", order).status_code
        == 404
    )
    base = f"exchange/orders/{order.pk}"
    assert api(client, seller, seller.owner, "GET", f"{base}/receipt").json()["signature"] == (
        receipt.signature
    )
    for part in ("record", "packet"):
        refused = api(client, seller, seller.owner, "GET", f"{base}/{part}")
        assert refused.status_code == 404 and refused.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "name", ["exchange_order_receipt", "exchange_order_json", "exchange_order_packet"]
)
def test_an_outsider_gets_404_for_every_page_of_the_order(client, login, purchase, tenant_b, name):
    order, _ = purchase
    assert _page(client, login, tenant_b.owner, tenant_b.org, name, order).status_code == 404


@pytest.mark.parametrize("part", ["receipt", "record", "packet"])
def test_an_outsider_gets_404_and_anonymous_401_from_the_order_api(
    client, purchase, tenant_b, part
):
    order, _ = purchase
    path = f"exchange/orders/{order.pk}/{part}"
    anonymous = client.get(f"/api/v1/{path}")
    assert anonymous.status_code == 401
    refused = api(client, tenant_b, tenant_b.owner, "GET", path)
    assert refused.status_code == 404 and set(refused.json()) == {"code", "message", "details"}
    assert not AuditEvent.objects.filter(action="exchange.record.downloaded").exists()


@pytest.mark.parametrize(
    "name", ["exchange_order_receipt", "exchange_order_json", "exchange_order_packet"]
)
def test_anonymous_is_sent_to_sign_in_from_every_order_page(client, purchase, tenant_a, name):
    from django.urls import reverse

    order, _ = purchase
    response = client.get(
        reverse(name, kwargs={"org_slug": tenant_a.org.slug, "order_id": order.pk})
    )
    assert response.status_code == 302 and "/login" in response["Location"]


def test_an_order_id_of_another_order_or_nonsense_is_404(client, login, purchase, tenant_a):
    login(tenant_a.owner)
    base = f"/o/{tenant_a.org.slug}/exchange/orders"
    assert client.get(f"{base}/00000000-0000-4000-8000-000000000009/receipt/").status_code == 404
    assert client.get(f"{base}/not-a-uuid/receipt/").status_code == 404
    missing = api(
        client,
        tenant_a,
        tenant_a.owner,
        "GET",
        "exchange/orders/00000000-0000-4000-8000-000000000009/receipt",
    )
    assert missing.status_code == 404


def test_without_signing_keys_issuing_refuses_loudly_and_published_keys_still_verify(
    purchase, tenant_a, seller, settings
):
    from django.core.exceptions import ImproperlyConfigured

    _, receipt = purchase
    settings.EXCHANGE_RECEIPT_KEYS = []
    assert _verify(_doc(receipt), tenant_a.org)["valid"] is True
    with tenant_context(tenant_a.org), pytest.raises(ImproperlyConfigured, match="must be set"):
        build_purchase(tenant_a.org, seller.org, tenant_a.membership(tenant_a.owner), seed=7303)
