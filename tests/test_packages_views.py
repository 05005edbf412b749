"""Package pages, the provider file's block, payer contacts, and the packages API: the allowed
role works, the auditor reads but gets 403 on writes, the outsider gets 404, anonymous is
sent to log in (401 on the API); refused writes change nothing."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from enrollment.models import Payer, PayerContact
from tests.factories import make_provider, pdf_bytes
from tests.test_packages import build, upload
from verifications.models import CredentialPackage, PackageShare
from verifications.services.shares import share_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(tenant_a):
    p = make_provider(tenant_a.org, seed=9001, first_name="Nia", last_name="Okafor")
    with tenant_context(tenant_a.org):
        upload(tenant_a.org, tenant_a.membership(tenant_a.owner), p, "cv", pdf_bytes(2), "cv.pdf")
    return p


@pytest.fixture
def package(tenant_a, provider):
    return build(tenant_a, provider)


@pytest.fixture
def payer(tenant_a):
    with tenant_context(tenant_a.org):
        return Payer.objects.create(organization=tenant_a.org, name="Blue Plan")


def base(tenant):
    return f"/o/{tenant.org.slug}/packages/"


def package_count(tenant):
    with tenant_context(tenant.org):
        return CredentialPackage.objects.count()


def audit_count(tenant, action):
    with tenant_context(tenant.org):
        return AuditEvent.objects.filter(organization=tenant.org, action=action).count()


# --- the list and the detail -------------------------------------------------------------------
def test_the_list_shows_packages_with_counts_and_filters_in_the_url(tenant_a, package, login):
    client = login(tenant_a.coordinator)
    response = client.get(base(tenant_a))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Nia Okafor" in body
    assert 'title="Packages">1<' in body
    assert client.get(base(tenant_a) + "?status=failed").content.decode().count("Nia Okafor") == 0
    assert "Nia Okafor" in client.get(base(tenant_a) + "?q=okaf").content.decode()


def test_the_empty_list_says_what_to_do(tenant_a, login):
    body = login(tenant_a.coordinator).get(base(tenant_a)).content.decode()
    assert "Open a provider and press <strong>Build package</strong>" in body


def test_the_auditor_reads_the_list_and_detail_without_share_form(tenant_a, package, login):
    client = login(tenant_a.auditor)
    assert client.get(base(tenant_a)).status_code == 200
    response = client.get(f"{base(tenant_a)}{package.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert package.sha256 in body and "Primary-source verification log" in body
    assert "Send secure link" not in body


def test_a_package_of_another_org_is_404_under_its_own_org(tenant_a, tenant_b, package, login):
    assert (
        login(tenant_b.owner).get(f"/o/{tenant_b.org.slug}/packages/{package.pk}/").status_code
        == 404
    )


# --- building ----------------------------------------------------------------------------------
def test_the_coordinator_builds_a_package_from_the_provider_file(tenant_a, provider, login):
    client = login(tenant_a.coordinator)
    page = client.get(f"/o/{tenant_a.org.slug}/providers/{provider.pk}/").content.decode()
    assert "Credential packages" in page and "Build package" in page
    response = client.post(f"{base(tenant_a)}build/{provider.pk}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="provider-packages"' in body
    assert "Queued" in body and "every 1s" in body  # the polled progress bar
    assert package_count(tenant_a) == 1
    plain = client.post(f"{base(tenant_a)}build/{provider.pk}")
    with tenant_context(tenant_a.org):
        newest = CredentialPackage.objects.order_by("-created_at").first()
    assert plain.status_code == 302 and plain["Location"].endswith(f"/packages/{newest.pk}/")


def test_the_auditor_gets_403_building_and_sees_no_button(tenant_a, provider, login):
    client = login(tenant_a.auditor)
    page = client.get(f"/o/{tenant_a.org.slug}/providers/{provider.pk}/").content.decode()
    assert "Credential packages" in page and "Build package" not in page
    assert client.post(f"{base(tenant_a)}build/{provider.pk}").status_code == 403
    assert package_count(tenant_a) == 0


def test_progress_polls_while_queued_and_ends_with_a_link(tenant_a, provider, package, login):
    from verifications.services.packages import package_request

    client = login(tenant_a.coordinator)
    with tenant_context(tenant_a.org):
        queued = package_request(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.owner), provider=provider
        )
    body = client.get(f"{base(tenant_a)}{queued.pk}/progress").content.decode()
    assert 'hx-trigger="every 1s"' in body and "<progress" in body
    done = client.get(f"{base(tenant_a)}{package.pk}/progress").content.decode()
    assert "every 1s" not in done
    assert f"/packages/{package.pk}/download" in done and "Ready" in done


# --- download ----------------------------------------------------------------------------------
def test_a_member_download_is_the_stored_file_and_is_audited(tenant_a, package, login):
    response = login(tenant_a.auditor).get(f"{base(tenant_a)}{package.pk}/download")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    data = b"".join(response.streaming_content)
    with package.file.open("rb") as fh:
        assert data == fh.read()
    with tenant_context(tenant_a.org):
        event = AuditEvent.objects.get(
            action="verifications.package.downloaded", target_id=str(package.pk)
        )
    assert event.actor_label == tenant_a.auditor.email


# --- sharing from the page -----------------------------------------------------------------------
def test_the_coordinator_shares_with_a_typed_email(
    tenant_a, package, login, mailoutbox, django_capture_on_commit_callbacks
):
    client = login(tenant_a.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{base(tenant_a)}{package.pk}/share",
            {"email": "cred@payer.example", "days": "5", "message": "Hi"},
        )
    assert response.status_code == 302
    with tenant_context(tenant_a.org):
        share = PackageShare.objects.get()
    assert share.email == "cred@payer.example"
    assert len(mailoutbox) == 1
    detail = client.get(f"{base(tenant_a)}{package.pk}/").content.decode()
    assert "cred@payer.example" in detail and "Active" in detail and "Revoke" in detail


def test_a_bad_share_form_keeps_what_was_typed_and_shares_nothing(tenant_a, package, login):
    response = login(tenant_a.coordinator).post(
        f"{base(tenant_a)}{package.pk}/share",
        {"email": "nope", "days": "500", "message": "Keep me"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a valid e-mail address." in body and "Choose from 1 to 14 days." in body
    assert "Keep me" in body
    with tenant_context(tenant_a.org):
        assert not PackageShare.objects.exists()


def test_the_auditor_gets_403_sharing_and_revoking(tenant_a, package, login):
    with tenant_context(tenant_a.org):
        share = share_create(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            package=package,
            email="x@payer.example",
        )
    client = login(tenant_a.auditor)
    assert (
        client.post(f"{base(tenant_a)}{package.pk}/share", {"email": "y@p.example"}).status_code
        == 403
    )
    assert client.post(f"{base(tenant_a)}shares/{share.pk}/revoke").status_code == 403
    with tenant_context(tenant_a.org):
        assert PackageShare.objects.count() == 1
        assert PackageShare.objects.get().revoked_at is None


def test_the_coordinator_revokes_a_share(tenant_a, package, login):
    with tenant_context(tenant_a.org):
        share = share_create(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            package=package,
            email="x@payer.example",
        )
    response = login(tenant_a.coordinator).post(f"{base(tenant_a)}shares/{share.pk}/revoke")
    assert response.status_code == 302
    with tenant_context(tenant_a.org):
        share.refresh_from_db()
    assert share.revoked_at is not None
    assert audit_count(tenant_a, "verifications.share.revoked") == 1


# --- payer contacts ------------------------------------------------------------------------------
def test_contacts_are_added_grouped_by_payer_and_removed_with_audit(tenant_a, payer, login):
    client = login(tenant_a.coordinator)
    url = f"{base(tenant_a)}contacts/"
    response = client.post(
        url, {"payer": str(payer.pk), "name": "Rita Reviewer", "email": "Rita@Blue.example"}
    )
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "Blue Plan" in page and "Rita Reviewer" in page and "rita@blue.example" in page
    again = client.post(url, {"payer": str(payer.pk), "name": "R", "email": "rita@blue.example"})
    assert again.status_code == 409
    assert "Already a contact of this payer." in again.content.decode()
    with tenant_context(tenant_a.org):
        contact = PayerContact.objects.get()
    assert client.post(f"{url}{contact.pk}/remove").status_code == 302
    with tenant_context(tenant_a.org):
        assert not PayerContact.objects.exists()
    assert audit_count(tenant_a, "verifications.payer_contact.added") == 1
    assert audit_count(tenant_a, "verifications.payer_contact.removed") == 1


def test_the_auditor_sees_contacts_but_gets_403_changing_them(tenant_a, payer, login):
    with tenant_context(tenant_a.org):
        contact = PayerContact.objects.create(
            organization=tenant_a.org, payer=payer, name="Pat", email="pat@blue.example"
        )
    client = login(tenant_a.auditor)
    url = f"{base(tenant_a)}contacts/"
    page = client.get(url)
    assert page.status_code == 200 and "Add a contact" not in page.content.decode()
    assert (
        client.post(url, {"payer": str(payer.pk), "name": "X", "email": "x@b.example"}).status_code
        == 403
    )
    assert client.post(f"{url}{contact.pk}/remove").status_code == 403
    with tenant_context(tenant_a.org):
        assert list(PayerContact.objects.values_list("email", flat=True)) == ["pat@blue.example"]


# --- the API -------------------------------------------------------------------------------------
def api(client, tenant, user, method, path, body=None):
    import json

    client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
    return client.generic(
        method,
        f"/api/v1/{path}",
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        HTTP_X_CREDEX_ORGANIZATION=tenant.org.slug,
    )


def test_the_api_requests_lists_reads_and_downloads_packages(tenant_a, provider, package, client):
    created = api(
        client, tenant_a, tenant_a.coordinator, "POST", f"providers/{provider.pk}/packages"
    )
    assert created.status_code == 202 and created.json()["status"] == "queued"
    listed = api(client, tenant_a, tenant_a.auditor, "GET", "packages?status=ready").json()
    assert [p["id"] for p in listed["results"]] == [str(package.pk)]
    one = api(client, tenant_a, tenant_a.auditor, "GET", f"packages/{package.pk}").json()
    assert one["sha256"] == package.sha256 and one["page_count"] == package.page_count
    assert one["sections"][0] == {"title": "Cover", "page": 1, "level": 1}
    download = api(client, tenant_a, tenant_a.auditor, "GET", f"packages/{package.pk}/download")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    bad = api(client, tenant_a, tenant_a.auditor, "GET", "packages?status=nope")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_the_api_shares_revokes_and_manages_contacts(tenant_a, package, payer, client):
    who = tenant_a.coordinator
    contact = api(
        client,
        tenant_a,
        who,
        "POST",
        f"payers/{payer.pk}/contacts",
        {"name": "Rita", "email": "rita@blue.example"},
    )
    assert contact.status_code == 201
    contact_id = contact.json()["id"]
    share = api(
        client,
        tenant_a,
        who,
        "POST",
        f"packages/{package.pk}/shares",
        {"contact": contact_id, "days": 3},
    )
    assert share.status_code == 201
    assert share.json()["email"] == "rita@blue.example" and share.json()["state"] == "active"
    shares = api(client, tenant_a, tenant_a.auditor, "GET", f"packages/{package.pk}/shares").json()
    assert [s["id"] for s in shares] == [share.json()["id"]]
    revoked = api(client, tenant_a, who, "POST", f"shares/{share.json()['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    listed = api(client, tenant_a, tenant_a.auditor, "GET", f"payers/{payer.pk}/contacts").json()
    assert [c["email"] for c in listed] == ["rita@blue.example"]
    assert api(client, tenant_a, who, "DELETE", f"payer-contacts/{contact_id}").status_code == 204
    with tenant_context(tenant_a.org):
        assert not PayerContact.objects.exists()


def test_the_api_refuses_the_auditor_writes_the_outsider_and_anonymous(
    tenant_a, tenant_b, provider, package, payer, client
):
    auditor = tenant_a.auditor
    assert (
        api(client, tenant_a, auditor, "POST", f"providers/{provider.pk}/packages").status_code
        == 403
    )
    assert (
        api(
            client,
            tenant_a,
            auditor,
            "POST",
            f"packages/{package.pk}/shares",
            {"email": "a@b.example"},
        ).status_code
        == 403
    )
    assert (
        api(
            client,
            tenant_a,
            auditor,
            "POST",
            f"payers/{payer.pk}/contacts",
            {"name": "A", "email": "a@b.example"},
        ).status_code
        == 403
    )
    # The outsider, in their own organization, names org A's ids: 404.
    for method, path in [
        ("GET", f"packages/{package.pk}"),
        ("GET", f"packages/{package.pk}/download"),
        ("POST", f"providers/{provider.pk}/packages"),
        ("GET", f"payers/{payer.pk}/contacts"),
    ]:
        assert api(client, tenant_b, tenant_b.owner, method, path).status_code == 404, path
    client.logout()
    assert client.get("/api/v1/packages").status_code == 401
    assert package_count(tenant_a) == 1
    with tenant_context(tenant_a.org):
        assert not PackageShare.objects.exists() and not PayerContact.objects.exists()


def test_an_active_share_link_is_on_the_page_to_copy_for_who_can_share(tenant_a, package, login):
    from verifications.services.shares import share_revoke

    with tenant_context(tenant_a.org):
        owner = tenant_a.membership(tenant_a.owner)
        live = share_create(org=tenant_a.org, actor=owner, package=package, email="x@payer.example")
        gone = share_create(org=tenant_a.org, actor=owner, package=package, email="y@payer.example")
        share_revoke(org=tenant_a.org, actor=owner, share=gone)
    url = f"{base(tenant_a)}{package.pk}/"
    body = login(tenant_a.coordinator).get(url).content.decode()
    assert f'id="share-url-{live.pk}"' in body and f'data-copy="#share-url-{live.pk}"' in body
    assert "/p/" in body.split(f'id="share-url-{live.pk}" value="')[1].split('"')[0]
    assert f"share-url-{gone.pk}" not in body  # a revoked link is not offered
    auditor = login(tenant_a.auditor).get(url).content.decode()
    assert "share-url-" not in auditor


def test_each_contact_option_names_the_contact_its_email_and_payer(tenant_a, package, login):
    from enrollment.services import payer_contact_add

    with tenant_context(tenant_a.org):
        owner = tenant_a.membership(tenant_a.owner)
        for name in ("Blue Plan", "Green Plan"):
            p = Payer.objects.create(organization=tenant_a.org, name=name)
            payer_contact_add(
                org=tenant_a.org, actor=owner, payer=p, name="Credentialing", email="cred@x.example"
            )
    body = login(tenant_a.coordinator).get(f"{base(tenant_a)}{package.pk}/").content.decode()
    assert "Credentialing &lt;cred@x.example&gt; · Blue Plan</option>" in body
    assert "Credentialing &lt;cred@x.example&gt; · Green Plan</option>" in body
