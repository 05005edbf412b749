"""Payer shares: the signed link, its e-mail, the public page and download (audited with IP,
counted), expiry, revocation, tampering, invalid tokens and their rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from audit.models import AuditEvent
from credex.errors import Conflict, Forbidden, InvalidInput
from credex.tenancy import tenant_context
from enrollment.models import Payer
from enrollment.services import payer_contact_add
from tests.factories import make_provider, pdf_bytes
from tests.test_packages import build, upload
from verifications.models import PackageShare
from verifications.services import shares as services

pytestmark = pytest.mark.django_db


def ready_package(tenant, seed=8001, pages=2):
    provider = make_provider(tenant.org, seed=seed)
    owner = tenant.membership(tenant.owner)
    with tenant_context(tenant.org):
        upload(tenant.org, owner, provider, "cv", pdf_bytes(pages), "cv.pdf")
    return build(tenant, provider)


def make_share(tenant, package, **kwargs):
    with tenant_context(tenant.org):
        return services.share_create(
            org=tenant.org,
            actor=tenant.membership(tenant.coordinator),
            package=package,
            **({"email": "reviewer@payer.example"} | kwargs),
        )


def events(org, share, action):
    with tenant_context(org):
        return list(AuditEvent.objects.filter(target_id=str(share.pk), action=action))


def counts(org, share):
    with tenant_context(org):
        return PackageShare.objects.values_list("view_count", "download_count").get(pk=share.pk)


def public(share):
    return f"/p/{services.share_token(share)}/"


# --- creating ----------------------------------------------------------------------------
def test_sharing_e_mails_the_contact_a_link_and_audits_without_the_token(
    tenant_a, mailoutbox, django_capture_on_commit_callbacks
):
    package = ready_package(tenant_a)
    with tenant_context(tenant_a.org):
        payer = Payer.objects.create(organization=tenant_a.org, name="Blue Plan")
        contact = payer_contact_add(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            payer=payer,
            name="Rita Reviewer",
            email="rita@blue.example",
        )
    with django_capture_on_commit_callbacks(execute=True):
        share = make_share(tenant_a, package, contact=contact, email="", message="For Q3")
    assert share.email == "rita@blue.example"
    assert share.contact == contact
    days = (share.expires_at - timezone.now()).days
    assert days == 13  # the default: PACKAGE_SHARE_MAX_AGE_DAYS (14), less the seconds elapsed
    [mail] = mailoutbox
    assert mail.to == ["rita@blue.example"]
    assert "Hello Rita Reviewer" in mail.body and "For Q3" in mail.body
    token = services.share_token(share).split(":")[0]  # the signed payload part
    assert token in mail.body
    [created] = events(tenant_a.org, share, "verifications.share.created")
    assert token not in str(created.data)
    assert created.data["email"] == "rita@blue.example"


def test_a_share_needs_a_ready_package_a_valid_email_and_days_in_range(tenant_a):
    from verifications.services.packages import package_request

    package = ready_package(tenant_a)
    with tenant_context(tenant_a.org):
        queued = package_request(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.owner), provider=package.provider
        )
    with pytest.raises(Conflict):
        make_share(tenant_a, queued)
    with pytest.raises(InvalidInput) as exc:
        make_share(tenant_a, package, email="not-an-email", days=99)
    assert set(exc.value.details) == {"email", "days"}
    with pytest.raises(Forbidden):
        with tenant_context(tenant_a.org):
            services.share_create(
                org=tenant_a.org,
                actor=tenant_a.membership(tenant_a.auditor),
                package=package,
                email="x@payer.example",
            )
    with tenant_context(tenant_a.org):
        assert not PackageShare.objects.exists()


# --- the payer's page and download -----------------------------------------------------------
def test_the_payer_page_shows_the_package_and_is_audited_with_ip(tenant_a, client):
    package = ready_package(tenant_a)
    share = make_share(tenant_a, package)
    response = client.get(public(share), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme Health shared a credential package with you" in body
    assert package.provider.full_name in body
    assert package.sha256 in body
    assert f"{package.page_count} pages" in body
    assert "Curriculum vitae" in body and "Primary-source verification log" in body
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "same-origin"
    assert "noindex" in response["X-Robots-Tag"]
    assert counts(tenant_a.org, share) == (1, 0)
    [viewed] = events(tenant_a.org, share, "verifications.share.viewed")
    assert viewed.actor_kind == "payer_link"
    assert viewed.ip == "203.0.113.9"
    assert viewed.created_at is not None


def test_the_payer_downloads_the_exact_file_and_the_download_is_audited(tenant_a, client):
    package = ready_package(tenant_a)
    share = make_share(tenant_a, package)
    response = client.get(public(share) + "download", REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    data = b"".join(response.streaming_content)
    with package.file.open("rb") as fh:
        assert data == fh.read()
    assert counts(tenant_a.org, share) == (0, 1)
    [downloaded] = events(tenant_a.org, share, "verifications.share.downloaded")
    assert downloaded.actor_kind == "payer_link"
    assert downloaded.ip == "198.51.100.4"
    assert downloaded.data["sha256"] == package.sha256
    with tenant_context(tenant_a.org):
        share.refresh_from_db()
    assert share.last_viewed_at is not None


def test_an_expired_link_says_so_with_410_and_the_refusal_is_audited(tenant_a, client):
    share = make_share(tenant_a, ready_package(tenant_a))
    with tenant_context(tenant_a.org):
        PackageShare.objects.filter(pk=share.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    for url in (public(share), public(share) + "download"):
        response = client.get(url, REMOTE_ADDR="192.0.2.7")
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()
        assert response["Cache-Control"] == "private, no-store"
    assert counts(tenant_a.org, share) == (0, 0)
    refusals = events(tenant_a.org, share, "verifications.share.refused")
    assert [r.data["reason"] for r in refusals] == ["expired", "expired"]
    assert refusals[0].ip == "192.0.2.7" and refusals[0].actor_kind == "payer_link"


def test_a_revoked_link_says_so_with_410_and_nothing_is_served(tenant_a, client):
    share = make_share(tenant_a, ready_package(tenant_a))
    with tenant_context(tenant_a.org):
        services.share_revoke(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.admin), share=share
        )
    response = client.get(public(share) + "download")
    assert response.status_code == 410
    assert "This link was withdrawn" in response.content.decode()
    assert not hasattr(response, "streaming_content")
    assert counts(tenant_a.org, share) == (0, 0)
    assert len(events(tenant_a.org, share, "verifications.share.revoked")) == 1
    assert [
        e.data["reason"] for e in events(tenant_a.org, share, "verifications.share.refused")
    ] == ["revoked"]


def test_a_link_for_one_package_cannot_reach_another(tenant_a, tenant_b, client):
    first = ready_package(tenant_a, seed=8101, pages=1)
    second = ready_package(tenant_a, seed=8102, pages=3)
    share_one = make_share(tenant_a, first)
    share_two = make_share(tenant_a, second)
    token = services.share_token(share_one)
    payload, rest = token.split(":", 1)
    # Tamper: the same signature over a payload naming the other share.
    forged_payload = signing.dumps(
        {"org": str(tenant_a.org.pk), "share": str(share_two.pk)}, salt="other"
    ).split(":", 1)[0]
    for forged in (f"{forged_payload}:{rest}", token[:-2] + ("AA" if token[-2:] != "AA" else "BB")):
        response = client.get(f"/p/{forged}/download")
        assert response.status_code == 404
        assert "This link is not valid" in response.content.decode()
    # A share id of another organization under this organization's id: unknown.
    with tenant_context(tenant_b.org):
        provider_b = make_provider(tenant_b.org, seed=8103)
    package_b = build(
        type(tenant_a)(org=tenant_b.org, owner=tenant_b.owner, coordinator=tenant_b.owner),
        provider_b,
    )
    share_b = make_share(
        type(tenant_a)(org=tenant_b.org, owner=tenant_b.owner, coordinator=tenant_b.owner),
        package_b,
    )
    mixed = signing.dumps(
        {"org": str(tenant_a.org.pk), "share": str(share_b.pk)}, salt=services.SHARE_SALT
    )
    assert client.get(f"/p/{mixed}/").status_code == 404
    # The genuine link serves exactly its own package's bytes.
    data = b"".join(client.get(f"/p/{token}/download").streaming_content)
    with first.file.open("rb") as fh:
        assert data == fh.read()
    assert counts(tenant_a.org, share_two) == (0, 0)


def test_invalid_tokens_are_404_and_rate_limited_per_address(tenant_a, client, settings):
    settings.INVALID_SHARE_REQUESTS_PER_HOUR = 3
    ip = f"10.9.{timezone.now().microsecond % 250}.{timezone.now().second}"
    statuses = [client.get("/p/not-a-token/", REMOTE_ADDR=ip).status_code for _ in range(5)]
    assert statuses == [404, 404, 404, 429, 429]
    assert "Please wait" in client.get("/p/x/", REMOTE_ADDR=ip).content.decode()
