"""The signed-link framework (credex.links, issue 11 item 3) through its real entry points:
a provider upload link (/u/), a payer package share (/p/), and a third spec declared here on an
existing model, mounted with nothing but `@signed_link_view(spec)`.

Each covers: expired and revoked answer the one 410 page, a tampered token the invalid page
(400, as the pages have always answered), invalid tries throttled per address (429), the
visit recorded in the audit chain, and the organization named by the token being the scope
the page runs in.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.core import signing
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone

from audit.models import ActorKind, AuditEvent
from audit.services import audit_record
from credex import links
from credex.tenancy import tenant_context
from credex.urls import urlpatterns as site_urlpatterns
from roster.models import Provider, UploadLink
from roster.services import documents as upload_services
from tests.factories import make_provider
from tests.test_documents import make_link
from tests.test_package_shares import make_share, ready_package
from verifications.models import PackageShare
from verifications.services import shares as share_services

pytestmark = pytest.mark.django_db


def fresh_ip() -> str:
    # The hourly counters live in the shared Redis: every test counts from its own address.
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


def events(org, action, target=None) -> list[AuditEvent]:
    with tenant_context(org):
        qs = AuditEvent.objects.filter(organization=org, action=action)
        if target is not None:
            qs = qs.filter(target_id=str(target.pk))
        return list(qs.order_by("seq"))


def tamper(token: str) -> str:
    return token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")


# --- a third spec, declared here: no view plumbing beyond the decorator --------------------------
def _release_visit(org, link):
    audit_record(
        org=org,
        actor=RELEASE.actor(link),
        action="tests.release.viewed",
        target=link,
        data={"provider": str(link.provider_id)},
    )


def _release_refusal(org, link, reason):
    audit_record(
        org=org,
        actor=RELEASE.actor(link),
        action="tests.release.refused",
        target=link,
        data={"reason": reason},
    )


RELEASE = links.register(
    links.LinkSpec(
        name="test_release",
        salt="credex.tests.release_signature",
        model=UploadLink,  # an existing model with expires_at / revoked_at
        id_key="link",
        url_name="test_release_link",
        lifetime_setting="UPLOAD_LINK_MAX_AGE_DAYS",
        actor_kind=ActorKind.PROVIDER_LINK,
        actor_label=lambda link: f"release for {link.provider.full_name}",
        record_visit=_release_visit,
        record_refusal=_release_refusal,
        select_related=("provider",),
        requests_per_hour=1000,
        invalid_requests_per_hour=1000,
        texts=links.LinkTexts(
            eyebrow="Release signature",
            invalid="This signature link is not valid.",
            unknown="This signature link is not valid (it no longer exists).",
            expired="This signature link expired on {expires:%d %B %Y}. Ask {org} again.",
            revoked="{org} withdrew this signature request.",
            gone_help="{org} can send you a new signature request.",
        ),
    )
)


@links.signed_link_view(RELEASE)
def release_page(request, opened: links.OpenLink):
    # The scope is the token's organization: the scoped manager lists only its providers.
    names = sorted(p.full_name for p in Provider.objects.all())
    if request.GET.get("gone"):
        # A write, then the link found gone: the decorator rolls the transaction back (the
        # visit included) and answers 410.
        _release_visit(opened.org, opened.row)
        raise links.LinkGone(RELEASE, "Withdrawn a moment ago.", org=opened.org, row=opened.row)
    return HttpResponse(f"{opened.org.name}: {', '.join(names)}", content_type="text/plain")


urlpatterns = [
    path("t/<str:token>/", release_page, name="test_release_link"),
    *site_urlpatterns,
]


# --- the upload link ------------------------------------------------------------------------
@pytest.fixture
def provider(tenant_a):
    return make_provider(
        tenant_a.org, seed=71, first_name="Rosa", last_name="Diaz", email="rosa@example.org"
    )


def upload_path(link) -> str:
    return f"/u/{upload_services.upload_link_token(link)}/"


def test_an_upload_link_opens_in_its_organization_and_records_the_visit(
    tenant_a, tenant_b, provider, client
):
    link = make_link(tenant_a, provider)
    other = make_provider(tenant_b.org, seed=72, first_name="Otto", last_name="Outsider")
    other_link = make_link(
        type(tenant_a)(org=tenant_b.org, owner=tenant_b.owner, coordinator=tenant_b.owner),
        other,
        email="otto@b.example",
    )
    ip = fresh_ip()
    page = client.get(upload_path(link), REMOTE_ADDR=ip)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Acme Health asks for your documents" in html and "Rosa Diaz" in html
    assert "Bayside Clinic" not in html and "Otto Outsider" not in html
    assert page["Cache-Control"] == "private, no-store"
    assert page["Referrer-Policy"] == "same-origin" and "noindex" in page["X-Robots-Tag"]
    [viewed] = events(tenant_a.org, "roster.upload_link.viewed", link)
    assert viewed.actor_kind == "provider_link" and viewed.actor_id == str(link.pk)
    assert viewed.actor_label == "Rosa Diaz" and viewed.ip == ip
    assert events(tenant_b.org, "roster.upload_link.viewed") == []
    other_page = client.get(upload_path(other_link)).content.decode()
    assert "Bayside Clinic asks for your documents" in other_page and "Rosa Diaz" not in other_page


def test_an_upload_link_token_in_the_old_format_still_opens(tenant_a, provider, client):
    link = make_link(tenant_a, provider)
    # Exactly what links sent before the framework carried.
    old = signing.dumps(
        {"org": str(tenant_a.org.pk), "link": str(link.pk)}, salt="credex.roster.upload_link"
    )
    assert client.get(f"/u/{old}/").status_code == 200


def test_an_expired_upload_link_answers_the_410_page(tenant_a, provider, client):
    link = make_link(tenant_a, provider)
    with tenant_context(tenant_a.org):
        UploadLink.objects.filter(pk=link.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    response = client.get(upload_path(link))
    assert response.status_code == 410
    html = response.content.decode()
    assert "This link has expired" in html and "Ask Acme Health for a new one" in html
    assert "Secure document upload" in html and "Nothing you sent before is lost" in html
    assert response["Cache-Control"] == "private, no-store"
    [refused] = events(tenant_a.org, "roster.upload_link.refused", link)
    assert refused.data == {"provider": str(provider.pk), "reason": "expired"}
    assert events(tenant_a.org, "roster.upload_link.viewed") == []


def test_an_upload_link_whose_signature_outlived_the_lifetime_is_expired(
    tenant_a, provider, client, monkeypatch, settings
):
    link = make_link(tenant_a, provider)
    token = upload_services.upload_link_token(link)
    later = time.time() + (settings.UPLOAD_LINK_MAX_AGE_DAYS + 1) * 86400
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    response = client.get(f"/u/{token}/")
    assert response.status_code == 410 and "This link has expired" in response.content.decode()


def test_a_revoked_upload_link_answers_the_410_page(tenant_a, provider, client):
    link = make_link(tenant_a, provider)
    with tenant_context(tenant_a.org):
        upload_services.upload_link_revoke(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.coordinator), link=link
        )
        # A second revoke changes nothing and records nothing.
        upload_services.upload_link_revoke(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.coordinator), link=link
        )
    response = client.get(upload_path(link))
    assert response.status_code == 410
    html = response.content.decode()
    assert "This link was withdrawn" in html and "withdrawn by Acme Health" in html
    assert len(events(tenant_a.org, "roster.upload_link.revoked", link)) == 1
    assert [e.data["reason"] for e in events(tenant_a.org, "roster.upload_link.refused")] == [
        "revoked"
    ]


def test_tampered_upload_tokens_are_invalid_and_throttled_per_address(
    tenant_a, provider, client, settings
):
    settings.INVALID_UPLOAD_LINK_REQUESTS_PER_HOUR = 2
    link = make_link(tenant_a, provider)
    bad = tamper(upload_services.upload_link_token(link))
    ip = fresh_ip()
    statuses = [client.get(f"/u/{bad}/", REMOTE_ADDR=ip).status_code for _ in range(3)]
    assert statuses == [links.INVALID_STATUS, links.INVALID_STATUS, 429]
    first = client.get(f"/u/{bad}/", REMOTE_ADDR=fresh_ip())
    assert "This upload link is not valid" in first.content.decode()
    assert "Links are long" in first.content.decode()
    limited = client.get(f"/u/{bad}/", REMOTE_ADDR=ip)
    assert limited.status_code == 429 and "Please wait" in limited.content.decode()
    # The counter is the upload links' own: the same address may still try a share link.
    assert client.get("/p/not-a-token/", REMOTE_ADDR=ip).status_code == links.INVALID_STATUS
    assert events(tenant_a.org, "roster.upload_link.viewed") == []


# --- the package share ----------------------------------------------------------------------
def share_path(share) -> str:
    return f"/p/{share_services.share_token(share)}/"


def test_a_share_opens_in_its_organization_and_records_the_visit(tenant_a, tenant_b, client):
    share = make_share(tenant_a, ready_package(tenant_a, seed=8301))
    ip = fresh_ip()
    page = client.get(share_path(share), REMOTE_ADDR=ip)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Acme Health shared a credential package with you" in html
    assert share.package.provider.full_name in html and "Bayside Clinic" not in html
    assert page["Cache-Control"] == "private, no-store"
    [viewed] = events(tenant_a.org, "verifications.share.viewed", share)
    assert viewed.actor_kind == "payer_link" and viewed.actor_label == "reviewer@payer.example"
    assert viewed.ip == ip
    with tenant_context(tenant_a.org):
        assert PackageShare.objects.get(pk=share.pk).view_count == 1
    # The download is not a visit: it records its own event.
    client.get(share_path(share) + "download", REMOTE_ADDR=ip)
    assert len(events(tenant_a.org, "verifications.share.viewed", share)) == 1
    assert len(events(tenant_a.org, "verifications.share.downloaded", share)) == 1


def test_an_expired_share_answers_the_410_page(tenant_a, client):
    share = make_share(tenant_a, ready_package(tenant_a, seed=8302))
    with tenant_context(tenant_a.org):
        PackageShare.objects.filter(pk=share.pk).update(
            expires_at=timezone.now() - timedelta(days=1)
        )
        expired_on = timezone.localtime(PackageShare.objects.get(pk=share.pk).expires_at)
    response = client.get(share_path(share))
    assert response.status_code == 410
    html = response.content.decode()
    assert "This link has expired" in html and f"expired on {expired_on:%d %B %Y}" in html
    assert "Secure credential package" in html
    assert "Acme Health can share the package with you again by e-mail." in html
    [refused] = events(tenant_a.org, "verifications.share.refused", share)
    assert refused.data["reason"] == "expired"


def test_a_revoked_share_answers_the_410_page(tenant_a, client):
    share = make_share(tenant_a, ready_package(tenant_a, seed=8303))
    with tenant_context(tenant_a.org):
        share_services.share_revoke(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.admin), share=share
        )
        assert PackageShare.objects.get(pk=share.pk).revoked_by.user == tenant_a.admin
    response = client.get(share_path(share) + "download")
    assert response.status_code == 410 and not hasattr(response, "streaming_content")
    assert "This link was withdrawn" in response.content.decode()
    assert [r.data["reason"] for r in events(tenant_a.org, "verifications.share.refused")] == [
        "revoked"
    ]


def test_a_share_of_a_package_that_is_gone_uses_the_specs_own_refusal(tenant_a, client):
    share = make_share(tenant_a, ready_package(tenant_a, seed=8304))
    with tenant_context(tenant_a.org):
        type(share.package).objects.filter(pk=share.package_id).update(status="failed")
    response = client.get(share_path(share))
    assert response.status_code == 410
    assert "This package is no longer available" in response.content.decode()
    [refused] = events(tenant_a.org, "verifications.share.refused", share)
    assert refused.data["reason"] == "unavailable"


def test_tampered_share_tokens_are_invalid_and_throttled_per_address(tenant_a, client, settings):
    settings.INVALID_SHARE_REQUESTS_PER_HOUR = 1
    share = make_share(tenant_a, ready_package(tenant_a, seed=8305))
    bad = tamper(share_services.share_token(share))
    ip = fresh_ip()
    first = client.get(f"/p/{bad}/", REMOTE_ADDR=ip)
    assert first.status_code == links.INVALID_STATUS
    assert "This link is not valid" in first.content.decode()
    assert client.get(f"/p/{bad}/download", REMOTE_ADDR=ip).status_code == 429
    # An upload link's token is not a share token, whatever it names.
    upload_token = signing.dumps(
        {"org": str(tenant_a.org.pk), "share": str(share.pk)}, salt="credex.roster.upload_link"
    )
    assert client.get(f"/p/{upload_token}/", REMOTE_ADDR=fresh_ip()).status_code == 404
    assert events(tenant_a.org, "verifications.share.viewed") == []


def test_a_share_is_throttled_per_link(tenant_a, client, settings):
    settings.SHARE_REQUESTS_PER_HOUR = 2
    share = make_share(tenant_a, ready_package(tenant_a, seed=8306))
    statuses = [client.get(share_path(share), REMOTE_ADDR=fresh_ip()).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert len(events(tenant_a.org, "verifications.share.viewed", share)) == 2


# --- a third spec ---------------------------------------------------------------------------
def release_path(link) -> str:
    return f"/t/{links.link_token(RELEASE, link)}/"


@pytest.mark.urls(__name__)
def test_a_new_spec_opens_in_the_tokens_scope_with_the_decorator_alone(
    tenant_a, tenant_b, provider, client
):
    make_provider(tenant_b.org, seed=73, first_name="Otto", last_name="Outsider")
    link = make_link(tenant_a, provider)
    ip = fresh_ip()
    response = client.get(release_path(link), REMOTE_ADDR=ip)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith("Acme Health: ") and "Rosa Diaz" in body
    assert "Otto Outsider" not in body
    assert response["Cache-Control"] == "private, no-store"
    [viewed] = events(tenant_a.org, "tests.release.viewed", link)
    assert viewed.actor_label == "release for Rosa Diaz" and viewed.ip == ip
    # Another spec's token for the same row does not open it, nor this one the upload page.
    upload_token = upload_services.upload_link_token(link)
    assert client.get(f"/t/{upload_token}/").status_code == links.INVALID_STATUS
    assert client.get(f"/u/{links.link_token(RELEASE, link)}/").status_code == 404


@pytest.mark.urls(__name__)
def test_a_new_spec_gets_the_same_refusal_pages(tenant_a, provider, client, settings):
    link = make_link(tenant_a, provider)
    path_ = release_path(link)
    with tenant_context(tenant_a.org):
        UploadLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    revoked = client.get(path_)
    assert revoked.status_code == 410
    html = revoked.content.decode()
    assert "Release signature" in html and "Acme Health withdrew this signature request." in html
    assert "This link was withdrawn" in html
    with tenant_context(tenant_a.org):
        UploadLink.objects.filter(pk=link.pk).update(
            revoked_at=None, expires_at=timezone.now() - timedelta(days=1)
        )
    expired = client.get(path_)
    assert (
        expired.status_code == 410 and "This signature link expired on" in expired.content.decode()
    )
    assert [e.data["reason"] for e in events(tenant_a.org, "tests.release.refused")] == [
        "revoked",
        "expired",
    ]
    settings.INVALID_TEST_RELEASE_REQUESTS_PER_HOUR = 1
    ip = fresh_ip()
    invalid = client.get(f"/t/{tamper(path_.split('/')[2])}/", REMOTE_ADDR=ip)
    assert (
        invalid.status_code == 404
        and "This signature link is not valid." in invalid.content.decode()
    )
    assert client.get("/t/garbage/", REMOTE_ADDR=ip).status_code == 429


@pytest.mark.urls(__name__)
def test_a_link_gone_during_the_view_rolls_back_and_answers_410(tenant_a, provider, client):
    link = make_link(tenant_a, provider)
    response = client.get(release_path(link) + "?gone=1")
    assert response.status_code == 410
    assert "Withdrawn a moment ago." in response.content.decode()
    assert "This link no longer works" in response.content.decode()
    assert events(tenant_a.org, "tests.release.viewed") == []


def test_a_second_spec_with_a_salt_in_use_is_refused():
    clash = links.LinkSpec(**{**RELEASE.__dict__, "name": "another"})
    with pytest.raises(ValueError, match="clashes"):
        links.register(clash)
    assert links.registered()["upload_link"] is upload_services.UPLOAD_LINK
    assert links.registered()["share"] is share_services.SHARE
