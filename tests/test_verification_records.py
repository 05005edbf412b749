"""The PSV log: records are immutable in the database, a correction supersedes once, the
validity window's edges, evidence storage (nothing half-written on a bad file), the provider
file's PSV block, and the verification-record API.

Real Postgres (RLS on, the app role) and real files in a temporary MEDIA_ROOT.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import InternalError, ProgrammingError, connections, transaction
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from audit.services import Actor
from credex.errors import Conflict, InvalidInput
from credex.services import api_key_create
from credex.tenancy import tenant_context
from roster.models import Credential
from tests.factories import make_provider, pdf_bytes, png_bytes
from verifications.models import Verification, VerificationEvidence
from verifications.selectors.records import (
    current_verifications,
    valid_verifications,
    validity_window,
    verification_counts_for,
)
from verifications.services.records import verification_correct, verification_record


@pytest.fixture(autouse=True)
def _db(request):
    # Every test runs in the rolled-back test transaction except the immutability ones, which
    # need committed rows that a second connection (the owner's) can see.
    if "committed_tenant" not in request.fixturenames:
        request.getfixturevalue("db")


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _generous_limits(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


@pytest.fixture
def provider(tenant_a):
    return make_provider(tenant_a.org, seed=31, first_name="Rosa", last_name="Diaz")


@pytest.fixture
def licence(tenant_a, provider):
    with tenant_context(tenant_a.org):
        return Credential.objects.create(
            organization=tenant_a.org,
            provider=provider,
            kind="state_license",
            state="TX",
            number="Q1234",
        )


def record(tenant, provider, credential, **fields):
    values = {"source": "state_board", "method": "web", "result": "verified"} | fields
    with tenant_context(tenant.org):
        return verification_record(
            org=tenant.org,
            actor=tenant.membership(tenant.coordinator),
            provider=provider,
            credential=credential,
            **values,
        )


def correct(tenant, verification, reason="Wrong method", **changes):
    with tenant_context(tenant.org):
        return verification_correct(
            org=tenant.org,
            actor=tenant.membership(tenant.coordinator),
            verification=verification,
            reason=reason,
            **changes,
        )


def events(org, prefix="verifications."):
    with tenant_context(org):
        return list(
            AuditEvent.objects.filter(action__startswith=prefix)
            .order_by("seq")
            .values_list("action", flat=True)
        )


def at(day: date) -> datetime:
    # The start of that local day: never in the future, whatever the time of day the suite
    # runs at (noon was "in the future" every morning before 12:00 UTC).
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


# --- immutability ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE verifications_verification SET result = 'discrepancy' WHERE id = %s",
        "DELETE FROM verifications_verification WHERE id = %s",
        "UPDATE verifications_verificationevidence SET size = 1 WHERE verification_id = %s",
        "DELETE FROM verifications_verificationevidence WHERE verification_id = %s",
    ],
)
def test_the_database_refuses_update_and_delete_of_records_even_for_the_owner(
    committed_tenant, statement
):
    tenant = committed_tenant
    provider = make_provider(tenant.org, seed=3131)
    with tenant_context(tenant.org):
        licence = Credential.objects.create(
            organization=tenant.org, provider=provider, kind="state_license", state="TX"
        )
    v = record(tenant, provider, licence, evidence_files=[SimpleUploadedFile("a.pdf", pdf_bytes())])
    owner = connections["owner"]
    with pytest.raises((InternalError, ProgrammingError), match="immutable"):
        with transaction.atomic(using="owner"), owner.cursor() as cursor:
            cursor.execute(statement, [v.pk])
    with tenant_context(tenant.org):
        assert Verification.objects.get(pk=v.pk).result == "verified"
        assert VerificationEvidence.objects.filter(verification=v).count() == 1


def test_the_orm_cannot_save_a_change_to_a_record(tenant_a, provider, licence):
    v = record(tenant_a, provider, licence)
    v.result = "discrepancy"
    with tenant_context(tenant_a.org):
        with pytest.raises((InternalError, ProgrammingError)):
            with transaction.atomic():
                v.save()
        assert Verification.objects.get(pk=v.pk).result == "verified"


# --- supersession ---------------------------------------------------------------------------
def test_a_correction_is_a_new_record_that_supersedes_and_heads_the_chain(
    tenant_a, provider, licence
):
    first = record(tenant_a, provider, licence)
    second = correct(tenant_a, first, reason="Checked by phone, not web", method="phone")
    assert second.pk != first.pk and second.supersedes_id == first.pk
    assert second.method == "phone" and second.source_state == "TX"
    assert second.correction_reason == "Checked by phone, not web"
    with tenant_context(tenant_a.org):
        assert list(current_verifications(org=tenant_a.org).values_list("pk", flat=True)) == [
            second.pk
        ]
        assert Verification.objects.get(pk=first.pk).method == "web"  # untouched
    assert events(tenant_a.org)[-1] == "verifications.verification.corrected"


def test_a_record_can_be_corrected_once_and_correcting_the_superseded_one_is_a_conflict(
    tenant_a, provider, licence
):
    first = record(tenant_a, provider, licence)
    second = correct(tenant_a, first)
    before = events(tenant_a.org)
    with pytest.raises(Conflict):
        correct(tenant_a, first, reason="Again")
    third = correct(tenant_a, second, reason="One more fix")
    assert third.supersedes_id == second.pk
    assert events(tenant_a.org) == [*before, "verifications.verification.corrected"]


def test_a_correction_needs_a_reason(tenant_a, provider, licence):
    first = record(tenant_a, provider, licence)
    with pytest.raises(InvalidInput):
        correct(tenant_a, first, reason="  ")
    with tenant_context(tenant_a.org):
        assert Verification.objects.count() == 1


# --- the validity window -----------------------------------------------------------------------
def counts(tenant, v, decision):
    with tenant_context(tenant.org):
        v = current_verifications(org=tenant.org).filter(pk=v.pk).first() or v
        return verification_counts_for(org=tenant.org, verification=v, decision_date=decision)


def valid_ids(tenant, decision):
    with tenant_context(tenant.org):
        return set(
            valid_verifications(org=tenant.org, decision_date=decision).values_list("pk", flat=True)
        )


def test_exactly_the_window_before_the_decision_counts_and_one_day_more_does_not(
    tenant_a, provider, licence
):
    decision = timezone.localdate()
    days = tenant_a.org.psv_validity_days
    edge = record(tenant_a, provider, licence, verified_at=at(decision - timedelta(days=days)))
    assert counts(tenant_a, edge, decision) and edge.pk in valid_ids(tenant_a, decision)
    next_day = decision + timedelta(days=1)
    assert not counts(tenant_a, edge, next_day) and edge.pk not in valid_ids(tenant_a, next_day)


def test_a_record_dated_after_the_decision_does_not_count_for_it(tenant_a, provider, licence):
    today = timezone.localdate()
    v = record(tenant_a, provider, licence, verified_at=at(today))
    yesterday = today - timedelta(days=1)
    assert not counts(tenant_a, v, yesterday) and v.pk not in valid_ids(tenant_a, yesterday)
    assert counts(tenant_a, v, today)


@pytest.mark.parametrize("result", ["discrepancy", "unable"])
def test_a_discrepancy_or_unable_to_verify_never_counts(tenant_a, provider, licence, result):
    v = record(tenant_a, provider, licence, result=result)
    assert not counts(tenant_a, v, timezone.localdate())
    assert v.pk not in valid_ids(tenant_a, timezone.localdate())


def test_a_superseded_record_no_longer_counts(tenant_a, provider, licence):
    first = record(tenant_a, provider, licence)
    second = correct(tenant_a, first)
    today = timezone.localdate()
    assert not counts(tenant_a, first, today) and counts(tenant_a, second, today)


def test_the_organizations_setting_changes_the_window(tenant_a, provider, licence):
    today = timezone.localdate()
    v = record(tenant_a, provider, licence, verified_at=at(today - timedelta(days=100)))
    assert counts(tenant_a, v, today)
    tenant_a.org.psv_validity_days = 90
    tenant_a.org.save(update_fields=["psv_validity_days"])
    assert validity_window(org=tenant_a.org, decision_date=today) == (
        today - timedelta(days=90),
        today,
    )
    assert not counts(tenant_a, v, today) and v.pk not in valid_ids(tenant_a, today)


# --- recording ---------------------------------------------------------------------------------
def test_a_record_keeps_the_verifier_evidence_and_an_audit_event(tenant_a, provider, licence):
    v = record(
        tenant_a,
        provider,
        licence,
        evidence_files=[
            SimpleUploadedFile("board.png", png_bytes()),
            SimpleUploadedFile("board.pdf", pdf_bytes()),
        ],
    )
    assert v.verifier_kind == "member" and v.verifier_user == tenant_a.coordinator
    with tenant_context(tenant_a.org):
        stored = list(v.evidence.order_by("content_type"))
        event = AuditEvent.objects.filter(action="verifications.verification.recorded").get()
    assert [e.content_type for e in stored] == ["application/pdf", "image/png"]
    assert all(Path(settings.MEDIA_ROOT, e.file.name).exists() for e in stored)
    assert len(event.data["evidence"]) == 2 and event.source == "state_board"


def test_a_program_renamed_pdf_is_invalid_input_and_nothing_is_written(tenant_a, provider, licence):
    with pytest.raises(InvalidInput):
        record(
            tenant_a,
            provider,
            licence,
            evidence_files=[
                SimpleUploadedFile("ok.pdf", pdf_bytes()),
                SimpleUploadedFile("board.pdf", EXE),
            ],
        )
    with tenant_context(tenant_a.org):
        assert not Verification.objects.exists() and not VerificationEvidence.objects.exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))
    assert events(tenant_a.org) == []


def test_a_system_job_records_as_system(tenant_a, provider):
    with tenant_context(tenant_a.org):
        v = verification_record(
            org=tenant_a.org,
            actor=Actor.system("nppes nightly"),
            provider=provider,
            source="nppes",
            method="api",
            result="verified",
        )
    assert v.verifier_kind == "system" and v.verifier_label == "nppes nightly"


def test_a_state_board_record_needs_a_state_and_a_future_date_is_refused(tenant_a, provider):
    with tenant_context(tenant_a.org):
        dea = Credential.objects.create(organization=tenant_a.org, provider=provider, kind="dea")
    with pytest.raises(InvalidInput) as exc:
        record(tenant_a, provider, dea, source="state_board")
    assert "source_state" in exc.value.details
    with pytest.raises(InvalidInput) as exc:
        record(
            tenant_a, provider, dea, source="dea", verified_at=timezone.now() + timedelta(days=2)
        )
    assert "verified_at" in exc.value.details


# --- the provider file ---------------------------------------------------------------------------
def test_the_provider_file_shows_the_log_with_superseded_records_and_what_is_left(
    tenant_a, provider, licence, login
):
    first = record(
        tenant_a, provider, licence, evidence_files=[SimpleUploadedFile("board.pdf", pdf_bytes())]
    )
    correct(tenant_a, first, reason="Wrong method recorded", method="phone")
    body = (
        login(tenant_a.coordinator)
        .get(f"/o/{tenant_a.org.slug}/providers/{provider.pk}/")
        .content.decode()
    )
    assert "Primary-source verification" in body
    assert "Superseded" in body and "because “Wrong method recorded”" in body
    assert "counts until" in body and "board.pdf" in body
    assert "NPPES NPI Registry check" in body  # still to verify
    assert body.count(">Correct<") == 1  # only the current record offers a correction


def test_the_auditor_sees_the_log_without_actions_and_gets_403_on_the_correction_form(
    tenant_a, provider, licence, login
):
    v = record(tenant_a, provider, licence)
    client = login(tenant_a.auditor)
    body = client.get(f"/o/{tenant_a.org.slug}/providers/{provider.pk}/").content.decode()
    assert "Texas Medical Board" in body or "State licensing board" in body
    assert ">Correct<" not in body and ">Verify<" not in body
    url = f"/o/{tenant_a.org.slug}/verifications/records/{v.pk}/correct/"
    assert client.get(url).status_code == 403
    assert (
        client.post(
            url,
            {
                "reason": "x",
                "source": "state_board",
                "method": "web",
                "result": "verified",
                "source_state": "TX",
            },
        ).status_code
        == 403
    )
    with tenant_context(tenant_a.org):
        assert Verification.objects.count() == 1


def test_the_correction_form_saves_a_superseding_record_and_returns_to_the_file(
    tenant_a, provider, licence, login
):
    v = record(tenant_a, provider, licence)
    client = login(tenant_a.coordinator)
    url = f"/o/{tenant_a.org.slug}/verifications/records/{v.pk}/correct/"
    page = client.get(url).content.decode()
    assert 'value="TX"' in page and "Why this correction" in page
    back = f"/o/{tenant_a.org.slug}/providers/{provider.pk}/"
    missing = client.post(
        url,
        {
            "source": "state_board",
            "source_state": "TX",
            "method": "web",
            "result": "verified",
            "reason": "",
            "next": back,
        },
    )
    assert missing.status_code == 400 and "Say why" in missing.content.decode()
    ok = client.post(
        url,
        {
            "source": "state_board",
            "source_state": "TX",
            "method": "phone",
            "result": "verified",
            "reason": "Was a phone call",
            "next": back,
        },
    )
    assert ok.status_code == 302 and ok["Location"] == back
    again = client.post(
        url,
        {
            "source": "state_board",
            "source_state": "TX",
            "method": "fax",
            "result": "verified",
            "reason": "Again",
            "next": back,
        },
    )
    assert again.status_code == 400
    with tenant_context(tenant_a.org):
        assert Verification.objects.count() == 2


def test_an_outsider_gets_404_for_the_correction_form_and_evidence(
    tenant_a, tenant_b, provider, licence, login
):
    v = record(tenant_a, provider, licence)
    client = login(tenant_b.owner)
    assert (
        client.get(f"/o/{tenant_a.org.slug}/verifications/records/{v.pk}/correct/").status_code
        == 404
    )
    assert (
        client.get(f"/o/{tenant_b.org.slug}/verifications/records/{v.pk}/correct/").status_code
        == 404
    )


# --- API ------------------------------------------------------------------------------------------
@pytest.fixture
def keys(tenant_a, tenant_b):
    with tenant_context(tenant_a.org):
        owner = tenant_a.membership(tenant_a.owner)
        coordinator = api_key_create(org=tenant_a.org, actor=owner, name="c", role="coordinator")[1]
        auditor = api_key_create(org=tenant_a.org, actor=owner, name="a", role="auditor")[1]
    with tenant_context(tenant_b.org):
        outsider = api_key_create(
            org=tenant_b.org, actor=tenant_b.membership(tenant_b.owner), name="b", role="admin"
        )[1]
    return {"coordinator": coordinator, "auditor": auditor, "outsider": outsider}


def api(client, method, path, key, data=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"} if key else {}
    if method == "get":
        return client.get(f"/api/v1/{path}", **headers)
    if extra.get("multipart"):
        return client.post(f"/api/v1/{path}", data, **headers)
    return client.post(
        f"/api/v1/{path}", json.dumps(data or {}), content_type="application/json", **headers
    )


def test_the_api_records_with_json_lists_the_log_and_corrects(
    client, tenant_a, provider, licence, keys
):
    created = api(
        client,
        "post",
        f"providers/{provider.pk}/verifications",
        keys["coordinator"],
        {
            "credential": str(licence.pk),
            "source": "state_board",
            "method": "web",
            "result": "verified",
            "reference": "TMB-1",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["source_state"] == "TX" and body["verifier_kind"] == "api_key"
    assert body["superseded"] is False and body["counts_until"]
    corrected = api(
        client,
        "post",
        f"verifications/{body['id']}/correct",
        keys["coordinator"],
        {"reason": "Wrong reference", "reference": "TMB-2"},
    )
    assert corrected.status_code == 201 and corrected.json()["supersedes"] == body["id"]
    again = api(
        client,
        "post",
        f"verifications/{body['id']}/correct",
        keys["coordinator"],
        {"reason": "Again"},
    )
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    log = api(client, "get", f"providers/{provider.pk}/verifications", keys["auditor"]).json()
    flags = {r["id"]: r["superseded"] for r in log["results"]}
    assert flags == {body["id"]: True, corrected.json()["id"]: False}
    with tenant_context(tenant_a.org):
        read = AuditEvent.objects.filter(action="roster.provider.viewed").latest("seq")
    assert read.target_id == str(provider.pk) and read.actor_kind == "api_key"
    assert read.data == {"part": "verifications", "via": "api"}
    one = api(client, "get", f"verifications/{body['id']}", keys["auditor"]).json()
    assert one["superseded"] is True and one["counts_until"] is None


def test_the_api_records_multipart_with_evidence_and_downloads_it_audited(
    client, tenant_a, provider, licence, keys
):
    created = api(
        client,
        "post",
        f"providers/{provider.pk}/verifications",
        keys["coordinator"],
        {
            "credential": str(licence.pk),
            "source": "state_board",
            "method": "web",
            "result": "verified",
            "evidence": [
                SimpleUploadedFile("a.pdf", pdf_bytes()),
                SimpleUploadedFile("b.png", png_bytes()),
            ],
        },
        multipart=True,
    )
    assert created.status_code == 201, created.content
    evidence = created.json()["evidence"]
    assert len(evidence) == 2
    got = client.get(evidence[0]["download"], HTTP_AUTHORIZATION=f"Api-Key {keys['auditor']}")
    assert got.status_code == 200 and got["X-Content-Type-Options"] == "nosniff"
    assert events(tenant_a.org)[-1] == "verifications.evidence.downloaded"
    outsider = client.get(evidence[0]["download"], HTTP_AUTHORIZATION=f"Api-Key {keys['outsider']}")
    assert outsider.status_code == 404


def test_the_api_refuses_a_bad_evidence_file_and_writes_nothing(
    client, tenant_a, provider, licence, keys
):
    response = api(
        client,
        "post",
        f"providers/{provider.pk}/verifications",
        keys["coordinator"],
        {
            "credential": str(licence.pk),
            "source": "state_board",
            "method": "web",
            "result": "verified",
            "evidence": [SimpleUploadedFile("x.pdf", EXE)],
        },
        multipart=True,
    )
    assert response.status_code == 400 and response.json()["code"] in ("invalid", "file_type")
    with tenant_context(tenant_a.org):
        assert not Verification.objects.exists()


def test_the_api_answers_auditor_403_outsider_404_anonymous_401(
    client, tenant_a, provider, licence, keys
):
    body = {
        "credential": str(licence.pk),
        "source": "state_board",
        "method": "web",
        "result": "verified",
    }
    path = f"providers/{provider.pk}/verifications"
    assert api(client, "post", path, keys["auditor"], body).status_code == 403
    assert api(client, "post", path, keys["outsider"], body).status_code == 404
    assert api(client, "get", path, keys["outsider"]).status_code == 404
    assert api(client, "post", path, None, body).status_code == 401
    assert api(client, "get", path, keys["auditor"]).status_code == 200
    with tenant_context(tenant_a.org):
        assert not Verification.objects.exists()


def test_the_api_queue_and_request_flow(client, tenant_a, provider, licence, keys):
    queue = api(client, "get", "verifications/queue?source=state_board", keys["auditor"])
    assert queue.status_code == 200
    rows = queue.json()["results"]
    assert [r["credential"] for r in rows] == [str(licence.pk)] and rows[0]["status"] == "needs"
    assert rows[0]["source_name"] == "Texas Medical Board"
    bad = api(client, "get", "verifications/queue?status=nope", keys["auditor"])
    assert bad.status_code == 400 and "status" in bad.json()["details"]
    opened = api(
        client,
        "post",
        "verification-requests",
        keys["coordinator"],
        {"provider": str(provider.pk), "credential": str(licence.pk)},
    )
    assert opened.status_code == 200 and opened.json()["status"] == "open"
    rid = opened.json()["id"]
    assert (
        api(
            client, "post", f"verification-requests/{rid}/follow-up", keys["coordinator"]
        ).status_code
        == 409
    )
    sent = api(
        client,
        "post",
        f"verification-requests/{rid}/send",
        keys["coordinator"],
        {"method": "fax", "sent_to": "+1 512 555 0100"},
    )
    assert sent.status_code == 200 and sent.json()["status"] == "requested"
    assert (
        api(
            client,
            "post",
            f"verification-requests/{rid}/send",
            keys["auditor"],
            {"method": "fax", "sent_to": "x"},
        ).status_code
        == 403
    )
    followed = api(client, "post", f"verification-requests/{rid}/follow-up", keys["coordinator"])
    assert followed.json()["follow_up_count"] == 1
    requested = api(client, "get", "verifications/queue?status=requested", keys["auditor"]).json()
    assert [r["request"]["id"] for r in requested["results"]] == [rid]
    cancelled = api(
        client,
        "post",
        f"verification-requests/{rid}/cancel",
        keys["coordinator"],
        {"reason": "Duplicate"},
    )
    assert cancelled.json()["status"] == "cancelled"
    assert (
        api(
            client, "post", f"verification-requests/{rid}/cancel", keys["outsider"], {"reason": "x"}
        ).status_code
        == 404
    )
    assert events(tenant_a.org)[-4:] == [
        "verifications.request.opened",
        "verifications.request.sent",
        "verifications.request.followed_up",
        "verifications.request.cancelled",
    ]
