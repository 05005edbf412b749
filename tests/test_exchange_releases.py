"""Clinician releases (issue 12, item 2): a signed document recorded by page and API, an
e-signature end to end through the public link (open, sign, the stored name / time / IP /
text and its hash, the audit events, the link gone after use, tampered and expired links),
revocation, which releases `release_current()` counts, the inbox item 30 days before expiry
through the real daily task and its resolution on renewal, who may do what, and hostile input.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from credex.errors import Forbidden, InvalidInput, NotFound
from credex.models import Role
from credex.tenancy import tenant_context
from exchange.models import ClinicianRelease, ReleaseRequest
from exchange.selectors.releases import release_current
from exchange.services import releases as services
from roster.models import InboxItem, InboxStatus
from tests.factories import make_provider, pdf_bytes
from tests.test_api import api, assert_error, make_key


@pytest.fixture(autouse=True)
def _generous_throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


@pytest.fixture
def provider(tenant_a):
    return make_provider(tenant_a.org, seed=21, email="pat.doe@clinic.example")


def today():
    return timezone.localdate()


def releases(org):
    with tenant_context(org):
        return list(ClinicianRelease.objects.order_by("created_at"))


def requests_of(org):
    with tenant_context(org):
        return list(ReleaseRequest.objects.order_by("created_at"))


def events(org, action=None):
    with tenant_context(org):
        qs = AuditEvent.objects.filter(organization=org).order_by("seq")
        if action:
            qs = qs.filter(action=action)
        return list(qs)


def stored_files():
    root = settings.MEDIA_ROOT
    import pathlib

    return [p for p in pathlib.Path(root).rglob("*") if p.is_file()]


def base(org_slug: str) -> str:
    return f"/o/{org_slug}/exchange/releases/"


def document_form(provider, **extra):
    form = {
        "provider": str(provider.pk),
        "scope": "all",
        "signed_on": today().isoformat(),
        "expires_on": (today() + timedelta(days=365)).isoformat(),
        "file": SimpleUploadedFile("release.pdf", pdf_bytes()),
    }
    form.update(extra)
    return {k: v for k, v in form.items() if v is not None}


def record(tenant, provider, *, signed_on=None, expires_on=None, scope_all=True, sources=()):
    with tenant_context(tenant.org):
        return services.release_record_document(
            org=tenant.org,
            actor=tenant.membership(tenant.coordinator),
            provider=provider,
            scope_all=scope_all,
            scope_sources=list(sources),
            signed_on=signed_on or today(),
            expires_on=expires_on or today() + timedelta(days=365),
            file=SimpleUploadedFile("release.pdf", pdf_bytes()),
        )


def request_esign(tenant, provider, django_capture_on_commit_callbacks, **extra):
    with tenant_context(tenant.org), django_capture_on_commit_callbacks(execute=True):
        return services.release_request_esign(
            org=tenant.org,
            actor=tenant.membership(tenant.coordinator),
            provider=provider,
            scope_all=extra.get("scope_all", True),
            scope_sources=extra.get("scope_sources", []),
            expires_on=extra.get("expires_on", today() + timedelta(days=365)),
        )


def link_path_from_mail() -> str:
    [message] = mail.outbox
    url = re.search(r"https?://\S+/r/\S+/", message.body).group(0)
    return url[url.index("/r/") :]


# --- a signed document -----------------------------------------------------------------------


def test_a_coordinator_records_a_signed_document_on_the_page_with_its_sha256(
    tenant_a, provider, login
):
    browser = login(tenant_a.coordinator)
    assert browser.get(base(tenant_a.org.slug) + "record/").status_code == 200
    response = browser.post(base(tenant_a.org.slug) + "record/", document_form(provider))
    assert response.status_code == 302
    [release] = releases(tenant_a.org)
    assert release.method == "document" and release.scope_all
    assert release.document_sha256 == hashlib.sha256(pdf_bytes()).hexdigest()
    assert release.recorded_by_id == tenant_a.membership(tenant_a.coordinator).pk
    [event] = events(tenant_a.org, "exchange.release.recorded")
    assert event.data["sha256"] == release.document_sha256
    detail = browser.get(response["Location"])
    assert detail.status_code == 200 and "Current" in detail.content.decode()
    listing = browser.get(base(tenant_a.org.slug))
    assert provider.full_name in listing.content.decode()


def test_the_release_document_download_is_audited_and_returns_the_stored_bytes(
    tenant_a, provider, login
):
    release = record(tenant_a, provider)
    browser = login(tenant_a.auditor)  # a read: every role
    response = browser.get(base(tenant_a.org.slug) + f"{release.pk}/document/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes()
    [event] = events(tenant_a.org, "exchange.release.document_downloaded")
    assert event.data["sha256"] == release.document_sha256


def test_the_api_records_a_document_release_from_multipart_and_lists_it(tenant_a, provider, client):
    _, raw = make_key(tenant_a, role=Role.COORDINATOR)
    response = client.post(
        "/api/v1/exchange/releases",
        {
            "method": "document",
            "provider_id": str(provider.pk),
            "scope_all": "false",
            "scope_sources": ["state_board", "dea"],
            "signed_on": today().isoformat(),
            "expires_on": (today() + timedelta(days=200)).isoformat(),
            "file": SimpleUploadedFile("r.pdf", pdf_bytes()),
        },
        HTTP_AUTHORIZATION=f"Api-Key {raw}",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["scope_sources"] == ["state_board", "dea"] and body["status"] == "current"
    assert body["document_sha256"] == hashlib.sha256(pdf_bytes()).hexdigest()
    listed = api(client, "GET", "exchange/releases?status=current", key=raw)
    assert [r["id"] for r in listed.json()["results"]] == [body["id"]]
    assert api(client, "GET", "exchange/releases?status=revoked", key=raw).json()["results"] == []


# --- e-signature -------------------------------------------------------------------------------


def test_an_e_signature_end_to_end_through_the_public_link(
    tenant_a, provider, login, client, django_capture_on_commit_callbacks
):
    browser = login(tenant_a.coordinator)
    expires = today() + timedelta(days=300)
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            base(tenant_a.org.slug) + "esign/",
            {
                "provider": str(provider.pk),
                "scope": "some",
                "sources": ["state_board", "npdb"],
                "expires_on": expires.isoformat(),
            },
        )
    assert response.status_code == 302
    [request] = requests_of(tenant_a.org)
    assert request.email == "pat.doe@clinic.example" and request.release_id is None
    assert mail.outbox[0].to == ["pat.doe@clinic.example"]
    path = link_path_from_mail()
    browser.logout()

    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    with tenant_context(tenant_a.org):
        text = services.release_text(org=tenant_a.org, request=request)
    assert services.RELEASE_TEXT_VERSION in text and provider.full_name in text
    assert "Acme Health" in text and "State licensing board, NPDB" in text
    shown = re.search(r'name="text_sha256" value="([0-9a-f]{64})"', html).group(1)
    assert shown == hashlib.sha256(text.encode()).hexdigest()
    assert page["Cache-Control"] == "private, no-store"
    [viewed] = events(tenant_a.org, "exchange.release_request.viewed")
    assert viewed.actor_kind == "provider_link"

    signed = client.post(
        path,
        {"signer_name": "Pat  Doe", "consent": "on", "text_sha256": shown},
        REMOTE_ADDR="203.0.113.9",
    )
    assert signed.status_code == 200 and "Thank you" in signed.content.decode()
    [release] = releases(tenant_a.org)
    assert release.method == "esign"
    assert (release.signer_name, release.signer_ip) == ("Pat Doe", "203.0.113.9")
    assert release.text_shown == text
    assert release.text_sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert release.signed_at is not None and release.signed_on == today()
    assert (release.expires_on, release.scope_sources) == (expires, ["state_board", "npdb"])
    [event] = events(tenant_a.org, "exchange.release.esigned")
    assert event.actor_kind == "provider_link" and event.data["ip"] == "203.0.113.9"
    assert event.data["text_sha256"] == release.text_sha256
    with tenant_context(tenant_a.org):
        assert release_current(org=tenant_a.org, provider=provider, source="npdb") == release
        assert release_current(org=tenant_a.org, provider=provider, source="dea") is None

    again = client.get(path)  # the link is spent
    assert again.status_code == 410 and "already signed" in again.content.decode()
    from credex import links

    assert links.registered()["release"] is services.RELEASE
    resign = client.post(path, {"signer_name": "Pat Doe", "consent": "on", "text_sha256": shown})
    assert resign.status_code == 410
    assert len(releases(tenant_a.org)) == 1
    refused = events(tenant_a.org, "exchange.release_request.refused")
    assert [e.data["reason"] for e in refused] == ["used", "used"]


def test_the_api_asks_for_an_e_signature_with_json(
    tenant_a, provider, client, django_capture_on_commit_callbacks
):
    _, raw = make_key(tenant_a, role=Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(
            client,
            "POST",
            "exchange/releases",
            {
                "method": "esign",
                "provider_id": str(provider.pk),
                "expires_on": (today() + timedelta(days=100)).isoformat(),
                "email": "other@clinic.example",
            },
            key=raw,
        )
    assert response.status_code == 202, response.content
    assert response.json()["email"] == "other@clinic.example"
    assert mail.outbox[0].to == ["other@clinic.example"] and "/r/" in mail.outbox[0].body
    assert releases(tenant_a.org) == []  # nothing is in force until the clinician signs


def test_a_tampered_token_is_404_and_an_expired_link_410(
    tenant_a, provider, client, monkeypatch, django_capture_on_commit_callbacks
):
    request_esign(tenant_a, provider, django_capture_on_commit_callbacks)
    path = link_path_from_mail()
    token = path.split("/")[2]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (tampered, "not-a-token"):
        assert client.get(f"/r/{bad}/").status_code == 404
    # An upload link's token (another salt) opens nothing here either.
    from roster.services.documents import upload_link_create, upload_link_token

    with tenant_context(tenant_a.org):
        upload = upload_link_create(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            provider=provider,
            kinds=["cv"],
        )
    assert client.get(f"/r/{upload_link_token(upload)}/").status_code == 404
    assert events(tenant_a.org, "exchange.release_request.viewed") == []

    later = time.time() + (settings.RELEASE_MAX_AGE_DAYS + 1) * 86400
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    response = client.get(path)
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert client.post(path, {"signer_name": "Pat Doe", "consent": "on"}).status_code == 410
    assert releases(tenant_a.org) == []


def test_signing_a_text_other_than_the_one_shown_is_refused_and_nothing_is_written(
    tenant_a, provider, client, django_capture_on_commit_callbacks
):
    request_esign(tenant_a, provider, django_capture_on_commit_callbacks)
    path = link_path_from_mail()
    response = client.post(
        path, {"signer_name": "Pat Doe", "consent": "on", "text_sha256": "0" * 64}
    )
    assert response.status_code == 409 and "Read it again" in response.content.decode()
    no_consent = client.post(path, {"signer_name": "Pat Doe", "text_sha256": "0" * 64})
    assert no_consent.status_code == 400 and "Tick the box" in no_consent.content.decode()
    no_name = client.post(path, {"signer_name": "  ", "consent": "on"})
    assert no_name.status_code == 400 and "Type your full name" in no_name.content.decode()
    assert releases(tenant_a.org) == []
    assert events(tenant_a.org, "exchange.release.esigned") == []


# --- revocation and release_current ------------------------------------------------------------


def test_revoking_on_the_page_takes_the_release_out_of_force(tenant_a, provider, login):
    release = record(tenant_a, provider)
    with tenant_context(tenant_a.org):
        assert release_current(org=tenant_a.org, provider=provider, source="dea") == release
    browser = login(tenant_a.admin)
    url = base(tenant_a.org.slug) + f"{release.pk}/revoke/"
    refused = browser.post(url, {"reason": ""})
    assert refused.status_code == 400 and "Say why" in refused.content.decode()
    assert browser.post(url, {"reason": "Clinician withdrew consent"}).status_code == 302
    [release] = releases(tenant_a.org)
    assert release.revoked_at and release.revoked_reason == "Clinician withdrew consent"
    assert release.revoked_by_id == tenant_a.membership(tenant_a.admin).pk
    [event] = events(tenant_a.org, "exchange.release.revoked")
    assert event.data["reason"] == "Clinician withdrew consent"
    with tenant_context(tenant_a.org):
        assert release_current(org=tenant_a.org, provider=provider, source="dea") is None
    page = browser.get(base(tenant_a.org.slug) + "?status=revoked")
    assert provider.full_name in page.content.decode()
    assert browser.post(url, {"reason": "again"}).status_code == 409


def test_release_current_covers_by_scope_and_by_dates(tenant_a, provider):
    scoped = record(tenant_a, provider, scope_all=False, sources=["dea", "board"])
    old = record(
        tenant_a,
        provider,
        signed_on=today() - timedelta(days=400),
        expires_on=today() - timedelta(days=1),
    )
    with tenant_context(tenant_a.org):
        org = tenant_a.org
        assert release_current(org=org, provider=provider, source="dea") == scoped
        assert release_current(org=org, provider=provider, source="state_board") is None
        # The expired all-scope release counted only while it was in force.
        yesterday_last = today() - timedelta(days=1)
        assert release_current(org=org, provider=provider, source="npdb", on=yesterday_last) == old
        assert release_current(org=org, provider=provider, source="npdb") is None
        # Not yet signed on a date before signed_on.
        before = today() - timedelta(days=401)
        assert release_current(org=org, provider=provider, source="dea", on=before) is None
        other = make_provider(org, seed=22)
        assert release_current(org=org, provider=other, source="dea") is None


# --- the expiry inbox --------------------------------------------------------------------------


def run_daily_generation(org):
    """The real Celery task of roster's daily job, for one organization (run in-process)."""
    from roster.jobs.inbox import inbox_generate_task

    return inbox_generate_task.apply(kwargs={"org_id": str(org.pk)}).get()


def release_items(org):
    with tenant_context(org):
        return list(InboxItem.objects.filter(kind="release_expiry").order_by("created_at"))


def test_an_expiring_release_reaches_the_inbox_at_30_days_and_resolves_on_renewal(
    tenant_a, provider, login
):
    far = record(tenant_a, provider, expires_on=today() + timedelta(days=31))
    run_daily_generation(tenant_a.org)
    assert release_items(tenant_a.org) == []

    with tenant_context(tenant_a.org):
        ClinicianRelease.objects.filter(pk=far.pk).update(expires_on=today() + timedelta(days=30))
    run_daily_generation(tenant_a.org)
    [item] = release_items(tenant_a.org)
    assert (item.subject_id, item.provider_id, item.threshold_days) == (far.pk, provider.pk, 30)
    assert item.link == base(tenant_a.org.slug) + f"?provider={provider.pk}"
    inbox = login(tenant_a.coordinator).get(f"/o/{tenant_a.org.slug}/inbox/")
    assert f'href="{item.link}"' in inbox.content.decode()
    assert "Clinician release expiring" in inbox.content.decode()
    run_daily_generation(tenant_a.org)  # idempotent
    assert len(release_items(tenant_a.org)) == 1

    record(tenant_a, provider, expires_on=today() + timedelta(days=400))  # the renewal
    run_daily_generation(tenant_a.org)
    [item] = release_items(tenant_a.org)
    assert (item.status, item.resolution) == (InboxStatus.RESOLVED, "renewed")


def test_a_narrower_newer_release_does_not_renew_a_wider_one(tenant_a, provider):
    record(tenant_a, provider, expires_on=today() + timedelta(days=10))
    record(
        tenant_a,
        provider,
        scope_all=False,
        sources=["dea"],
        expires_on=today() + timedelta(days=400),
    )
    run_daily_generation(tenant_a.org)
    [item] = release_items(tenant_a.org)
    assert item.status == InboxStatus.OPEN


def test_revoking_an_expiring_release_retires_its_item(tenant_a, provider):
    release = record(tenant_a, provider, expires_on=today() + timedelta(days=5))
    run_daily_generation(tenant_a.org)
    with tenant_context(tenant_a.org):
        services.release_revoke(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            release=release,
            reason="Replaced on paper",
        )
    run_daily_generation(tenant_a.org)
    [item] = release_items(tenant_a.org)
    assert (item.status, item.resolution) == (InboxStatus.RESOLVED, "no longer applies")


# --- who may do what ---------------------------------------------------------------------------


def test_an_auditor_gets_403_on_every_release_write_and_nothing_is_written(
    tenant_a, provider, login, client
):
    release = record(tenant_a, provider)
    before = len(events(tenant_a.org))
    browser = login(tenant_a.auditor)
    slug = tenant_a.org.slug
    assert browser.get(base(slug)).status_code == 200
    assert browser.get(base(slug) + f"{release.pk}/").status_code == 200
    assert browser.get(base(slug) + "record/").status_code == 403
    assert browser.post(base(slug) + "record/", document_form(provider)).status_code == 403
    esign = {"provider": str(provider.pk), "scope": "all", "expires_on": "2030-01-01"}
    assert browser.post(base(slug) + "esign/", esign).status_code == 403
    assert browser.post(base(slug) + f"{release.pk}/revoke/", {"reason": "x"}).status_code == 403
    _, raw = make_key(tenant_a, role=Role.AUDITOR)
    body = {"method": "esign", "provider_id": str(provider.pk), "expires_on": "2030-01-01"}
    assert_error(api(client, "POST", "exchange/releases", body, key=raw), 403, "forbidden")
    revoke = api(client, "POST", f"exchange/releases/{release.pk}/revoke", {"reason": "x"}, key=raw)
    assert_error(revoke, 403)
    assert len(releases(tenant_a.org)) == 1 and requests_of(tenant_a.org) == []
    assert releases(tenant_a.org)[0].revoked_at is None
    with tenant_context(tenant_a.org):
        with pytest.raises(Forbidden):
            services.release_revoke(
                org=tenant_a.org,
                actor=tenant_a.membership(tenant_a.auditor),
                release=release,
                reason="x",
            )
    # No exchange event was recorded by the refused writes.
    assert [
        e.action for e in events(tenant_a.org)[before:] if e.action.startswith("exchange.")
    ] == []


def test_an_outsider_gets_404_and_a_foreign_provider_id_is_404(
    tenant_a, tenant_b, provider, login, client
):
    release = record(tenant_a, provider)
    foreign = make_provider(tenant_b.org, seed=23)
    outsider = login(tenant_b.owner)
    slug = tenant_a.org.slug
    for url in (base(slug), base(slug) + f"{release.pk}/", base(slug) + f"{release.pk}/document/"):
        assert outsider.get(url).status_code == 404
    assert outsider.post(base(slug) + f"{release.pk}/revoke/", {"reason": "x"}).status_code == 404
    # Org B's owner naming org A's release under org B.
    assert outsider.get(base(tenant_b.org.slug) + f"{release.pk}/").status_code == 404
    outsider.logout()

    coordinator = login(tenant_a.coordinator)
    response = coordinator.post(base(slug) + "record/", document_form(foreign))
    assert response.status_code == 404
    _, raw = make_key(tenant_a, role=Role.COORDINATOR)
    body = {"method": "esign", "provider_id": str(foreign.pk), "expires_on": "2030-01-01"}
    assert_error(api(client, "POST", "exchange/releases", body, key=raw), 404)
    assert_error(api(client, "GET", f"exchange/releases?provider_id={foreign.pk}", key=raw), 404)
    assert len(releases(tenant_a.org)) == 1 and releases(tenant_b.org) == []
    assert requests_of(tenant_a.org) == []
    with tenant_context(tenant_a.org):
        with pytest.raises(NotFound):
            services.release_request_esign(
                org=tenant_a.org,
                actor=tenant_a.membership(tenant_a.owner),
                provider=foreign,
                scope_all=True,
                scope_sources=[],
                expires_on=today() + timedelta(days=10),
            )


def test_anonymous_is_sent_to_sign_in_and_the_api_answers_401(tenant_a, provider, client):
    release = record(tenant_a, provider)
    slug = tenant_a.org.slug
    for url in (base(slug), base(slug) + "record/", base(slug) + f"{release.pk}/document/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert_error(api(client, "GET", "exchange/releases"), 401)
    body = {"method": "esign", "provider_id": str(provider.pk), "expires_on": "2030-01-01"}
    assert_error(api(client, "POST", "exchange/releases", body), 401)
    assert len(releases(tenant_a.org)) == 1


# --- hostile input -----------------------------------------------------------------------------


def test_a_fake_pdf_is_refused_with_the_error_shape_and_nothing_is_stored(
    tenant_a, provider, client, login
):
    _, raw = make_key(tenant_a, role=Role.COORDINATOR)
    fake = SimpleUploadedFile("release.pdf", b"%PDF-1.7\nthis is not really a pdf")
    response = client.post(
        "/api/v1/exchange/releases",
        {
            "method": "document",
            "provider_id": str(provider.pk),
            "signed_on": today().isoformat(),
            "expires_on": (today() + timedelta(days=10)).isoformat(),
            "file": fake,
        },
        HTTP_AUTHORIZATION=f"Api-Key {raw}",
    )
    assert_error(response, 400, "pdf_broken")
    exe = SimpleUploadedFile("release.pdf", b"MZ\x90\x00" + b"\x00" * 64)
    page = login(tenant_a.coordinator).post(
        base(tenant_a.org.slug) + "record/", document_form(provider, file=exe)
    )
    assert page.status_code == 400 and "Windows program" in page.content.decode()
    assert releases(tenant_a.org) == [] and stored_files() == []


def test_a_file_over_the_limit_is_refused_and_nothing_is_stored(
    tenant_a, provider, login, settings
):
    settings.DOCUMENT_MAX_BYTES = 1024
    big = SimpleUploadedFile("release.pdf", pdf_bytes() + b"\x00" * 4096)
    page = login(tenant_a.coordinator).post(
        base(tenant_a.org.slug) + "record/", document_form(provider, file=big)
    )
    assert page.status_code == 400 and "larger than the 1 KB limit" in page.content.decode()
    assert releases(tenant_a.org) == [] and stored_files() == []


def test_nul_bytes_in_names_and_reasons_are_refused_before_anything_is_written(
    tenant_a, provider, login, client, django_capture_on_commit_callbacks
):
    release = record(tenant_a, provider)
    request_esign(tenant_a, provider, django_capture_on_commit_callbacks)
    path = link_path_from_mail()
    signed = client.post(path, {"signer_name": "Pat\x00Doe", "consent": "on"})
    assert signed.status_code == 400
    browser = login(tenant_a.coordinator)
    revoke = browser.post(base(tenant_a.org.slug) + f"{release.pk}/revoke/", {"reason": "a\x00b"})
    assert revoke.status_code == 400
    _, raw = make_key(tenant_a, role=Role.COORDINATOR)
    body = {
        "method": "esign",
        "provider_id": str(provider.pk),
        "expires_on": "2030-01-01",
        "email": "x\x00@clinic.example",
    }
    assert_error(api(client, "POST", "exchange/releases", body, key=raw), 400)
    assert [r.pk for r in releases(tenant_a.org)] == [release.pk]
    assert releases(tenant_a.org)[0].revoked_at is None
    assert len(requests_of(tenant_a.org)) == 1


def test_a_huge_json_body_is_refused_with_413(tenant_a, provider, client, settings):
    _, raw = make_key(tenant_a, role=Role.COORDINATOR)
    body = {
        "method": "esign",
        "provider_id": str(provider.pk),
        "expires_on": "2030-01-01",
        "scope_all": False,
        "scope_sources": ["dea"] * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 4),
    }
    response = api(client, "POST", "exchange/releases", body, key=raw)
    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code)
    assert requests_of(tenant_a.org) == []


@pytest.mark.parametrize(
    "change,field",
    [
        ({"signed_on": "2999-01-01"}, "signed_on"),
        ({"expires_on": "2000-01-01"}, "expires_on"),
        ({"scope": "some", "sources": ["dea", "not_a_source"]}, "scope_sources"),
        ({"scope": "some"}, "scope_sources"),
        ({"signed_on": "yesterday"}, "signed_on"),
    ],
)
def test_invalid_dates_and_scopes_are_refused_next_to_their_field(
    tenant_a, provider, login, change, field
):
    response = login(tenant_a.coordinator).post(
        base(tenant_a.org.slug) + "record/", document_form(provider, **change)
    )
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    assert releases(tenant_a.org) == [] and stored_files() == []


def test_the_services_validate_like_the_pages(tenant_a, provider):
    with tenant_context(tenant_a.org), pytest.raises(InvalidInput) as refused:
        services.release_request_esign(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            provider=provider,
            scope_all=False,
            scope_sources=["npdb", "oops"],
            expires_on=today(),
        )
    assert set(refused.value.details) == {"scope_sources", "expires_on"}
    assert requests_of(tenant_a.org) == []
