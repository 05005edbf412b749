"""Exchange membership from the member's side: applying through the page and the API,
hostile and bad input (nothing written), re-applying, recording a renewal, the exchange home
for each status, and who may do what (auditor 403, outsider 404, anonymous sent to sign in)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from credex.tenancy import tenant_context
from tests.exchange_membership_support import (
    accreditation_count,
    actions,
    application,
    apply,
    approved,
    directory,
    listing_states,
    make_listings,
    make_operator,
    membership_of,
    page_form,
)
from tests.factories import PDF_BYTES, png_bytes

pytestmark = pytest.mark.django_db
API = "/api/v1/exchange/membership"


def page(tenant):
    return reverse("exchange_membership", kwargs={"org_slug": tenant.org.slug})


def home(tenant):
    return reverse("exchange_home", kwargs={"org_slug": tenant.org.slug})


def api_client(client, login, tenant, user):
    login(user)
    return lambda method, **kw: getattr(client, method)(
        API, HTTP_X_CREDEX_ORGANIZATION=tenant.org.slug, **kw
    )


def nothing_written(tenant):
    assert membership_of(tenant) is None
    assert accreditation_count(tenant) == 0
    assert directory(tenant) is None


# --- applying ---------------------------------------------------------------------------------


def test_an_owner_applies_from_the_membership_page_and_the_application_is_pending(
    tenant_a, client, login
):
    login(tenant_a.owner)
    form = page_form(evidence=SimpleUploadedFile("ncqa.pdf", PDF_BYTES))
    response = client.post(page(tenant_a), form)
    assert response.status_code == 302
    assert response["Location"] == home(tenant_a)
    m = membership_of(tenant_a)
    assert (m.status, m.display_name, m.releases_attested) == (
        "pending",
        "Acme Health Credentialing",
        True,
    )
    assert m.attested_by_id == tenant_a.membership(tenant_a.owner).pk
    with tenant_context(tenant_a.org):
        [a] = list(m.accreditations.all())
        assert (a.body, a.status, a.evidence_name) == ("ncqa", "accredited", "ncqa.pdf")
        assert len(a.evidence_sha256) == 64 and a.evidence.read() == PDF_BYTES
    d = directory(tenant_a)
    assert (d.status, d.good_standing) == ("pending", False)
    assert "exchange.membership.applied" in actions(tenant_a)
    shown = client.get(home(tenant_a)).content.decode()
    assert "Application under review" in shown


def test_the_membership_page_shows_the_form_to_an_admin_and_not_to_a_coordinator(
    tenant_a, client, login
):
    login(tenant_a.admin)
    assert 'name="releases_attested"' in client.get(page(tenant_a)).content.decode()
    login(tenant_a.coordinator)
    body = client.get(page(tenant_a)).content.decode()
    assert 'name="releases_attested"' not in body
    assert "Ask an owner or admin" in body


def test_the_api_applies_with_json_and_get_returns_status_standing_and_accreditations(
    tenant_a, client, login
):
    call = api_client(client, login, tenant_a, tenant_a.admin)
    before = call("get").json()
    assert before["status"] is None and before["accreditations"] == []
    response = call("post", data=application(), content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["good_standing"] is False
    assert body["accreditations"][0]["body"] == "ncqa"
    assert body["accreditations"][0]["evidence_sha256"] == ""
    again = call("get").json()
    assert again["status"] == "pending" and again["decision_reason"] == ""


def test_the_api_takes_the_evidence_document_as_multipart(tenant_a, client, login):
    call = api_client(client, login, tenant_a, tenant_a.owner)
    data = application(evidence=SimpleUploadedFile("cert.png", png_bytes()))
    data["releases_attested"] = "true"
    response = call("post", data=data)
    assert response.status_code == 201, response.content
    assert response.json()["accreditations"][0]["evidence_name"] == "cert.png"


def test_a_state_accreditation_needs_the_state_code(tenant_a, client, login):
    call = api_client(client, login, tenant_a, tenant_a.owner)
    response = call(
        "post", data=application(accrediting_body="state"), content_type="application/json"
    )
    assert response.status_code == 400
    assert "accrediting_state" in response.json()["details"]
    nothing_written(tenant_a)
    ok = call(
        "post",
        data=application(accrediting_body="state", accrediting_state="ca"),
        content_type="application/json",
    )
    assert ok.status_code == 201
    assert ok.json()["accreditations"][0]["body_state"] == "CA"


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"releases_attested": False}, "releases_attested"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"display_name": "  "}, "display_name"),
        ({"accrediting_body": "acme"}, "accrediting_body"),
        ({"accreditation_status": "great"}, "accreditation_status"),
        ({"accreditation_expires_on": "31/12/2027"}, "accreditation_expires_on"),
        ({"accreditation_expires_on": "2099-01-01"}, "accreditation_expires_on"),
        ({"profile": "x" * 5001}, "profile"),
    ],
)
def test_a_bad_application_is_refused_with_the_field_named_and_nothing_written(
    tenant_a, client, login, overrides, field
):
    call = api_client(client, login, tenant_a, tenant_a.owner)
    response = call("post", data=application(**overrides), content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "details"} and field in body["details"]
    nothing_written(tenant_a)


def test_nul_bytes_are_refused_on_the_page_and_the_api_and_nothing_is_written(
    tenant_a, client, login
):
    login(tenant_a.owner)
    response = client.post(page(tenant_a), page_form(display_name="Acme\x00Health"))
    assert response.status_code == 400
    call = api_client(client, login, tenant_a, tenant_a.owner)
    api = call("post", data=application(contact_name="Casey\x00"), content_type="application/json")
    assert api.status_code == 400 and set(api.json()) == {"code", "message", "details"}
    nothing_written(tenant_a)


def test_an_oversize_evidence_file_is_refused_and_nothing_is_written(
    tenant_a, client, login, settings
):
    settings.DOCUMENT_MAX_BYTES = len(PDF_BYTES) - 1
    login(tenant_a.owner)
    form = page_form(evidence=SimpleUploadedFile("big.pdf", PDF_BYTES))
    response = client.post(page(tenant_a), form)
    assert response.status_code == 400
    assert "larger than" in response.content.decode()
    call = api_client(client, login, tenant_a, tenant_a.owner)
    data = application(evidence=SimpleUploadedFile("big.pdf", PDF_BYTES))
    data["releases_attested"] = "true"
    api = call("post", data=data)
    assert api.status_code == 400 and api.json()["code"] == "file_too_large"
    nothing_written(tenant_a)


def test_a_fake_pdf_is_refused_saying_what_it_is_and_nothing_is_written(tenant_a, client, login):
    login(tenant_a.owner)
    fake = SimpleUploadedFile("cert.pdf", b"%PDF-1.4 this is not really a pdf")
    response = client.post(page(tenant_a), page_form(evidence=fake))
    assert response.status_code == 400
    assert "damaged" in response.content.decode()
    exe = SimpleUploadedFile("cert.pdf", b"MZ\x90\x00" + b"\x00" * 64)
    call = api_client(client, login, tenant_a, tenant_a.owner)
    data = application(evidence=exe)
    data["releases_attested"] = "true"
    api = call("post", data=data)
    assert api.status_code == 400
    assert "Windows program" in api.json()["details"]["evidence"]
    nothing_written(tenant_a)


def test_applying_again_while_pending_is_a_conflict(tenant_a, client, login):
    apply(tenant_a)
    call = api_client(client, login, tenant_a, tenant_a.owner)
    response = call("post", data=application(), content_type="application/json")
    assert response.status_code == 409 and response.json()["code"] == "membership_exists"
    assert accreditation_count(tenant_a) == 1


def test_reapplying_after_information_was_requested_returns_to_pending(tenant_a, client, login):
    from exchange.services.membership import membership_request_info

    operator = make_operator()
    apply(tenant_a)
    membership_request_info(operator=operator, org_id=tenant_a.org.pk, message="Send the letter.")
    login(tenant_a.owner)
    shown = client.get(home(tenant_a)).content.decode()
    assert "Send the letter." in shown and "Update the application" in shown
    form = page_form(display_name="Acme Health CVO")
    assert client.post(page(tenant_a), form).status_code == 302
    m = membership_of(tenant_a)
    assert (m.status, m.display_name) == ("pending", "Acme Health CVO")
    assert accreditation_count(tenant_a) == 2
    assert directory(tenant_a).display_name == "Acme Health CVO"
    assert "exchange.membership.reapplied" in actions(tenant_a)


def test_reapplying_after_a_rejection_returns_to_pending(tenant_a, client, login):
    from exchange.services.membership import membership_reject

    operator = make_operator()
    apply(tenant_a)
    membership_reject(operator=operator, org_id=tenant_a.org.pk, reason="No accreditation.")
    login(tenant_a.owner)
    assert "No accreditation." in client.get(home(tenant_a)).content.decode()
    call = api_client(client, login, tenant_a, tenant_a.owner)
    assert call("get").json()["decision_reason"] == "No accreditation."
    response = call("post", data=application(), content_type="application/json")
    assert response.status_code == 201 and response.json()["status"] == "pending"


# --- who may ---------------------------------------------------------------------------------


def test_an_auditor_gets_403_on_apply_by_page_and_api_and_nothing_is_written(
    tenant_a, client, login
):
    login(tenant_a.auditor)
    assert client.get(page(tenant_a)).status_code == 200
    assert client.post(page(tenant_a), page_form()).status_code == 403
    call = api_client(client, login, tenant_a, tenant_a.auditor)
    assert call("get").status_code == 200
    response = call("post", data=application(), content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    nothing_written(tenant_a)


def test_a_coordinator_cannot_apply(tenant_a, client, login):
    login(tenant_a.coordinator)
    assert client.post(page(tenant_a), page_form()).status_code == 403
    nothing_written(tenant_a)


def test_an_outsider_gets_404_on_the_membership_pages_and_api(tenant_a, tenant_b, client, login):
    login(tenant_b.owner)
    assert client.get(page(tenant_a)).status_code == 404
    assert client.get(home(tenant_a)).status_code == 404
    assert client.post(page(tenant_a), page_form()).status_code == 404
    response = client.post(
        API,
        data=application(),
        content_type="application/json",
        HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug,
    )
    assert response.status_code == 404
    nothing_written(tenant_a)


def test_anonymous_is_sent_to_sign_in_and_the_api_answers_401(tenant_a, client):
    for url in (page(tenant_a), home(tenant_a)):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.post(API, data=application(), content_type="application/json")
    assert response.status_code == 401
    nothing_written(tenant_a)


# --- the exchange home -------------------------------------------------------------------------


def test_the_home_of_a_non_member_invites_an_owner_to_apply_and_tells_others_to_ask(
    tenant_a, client, login
):
    login(tenant_a.owner)
    body = client.get(home(tenant_a)).content.decode()
    assert "What the exchange is" in body and "Apply to join the exchange" in body
    login(tenant_a.coordinator)
    body = client.get(home(tenant_a)).content.decode()
    assert "Apply to join" not in body and "Ask an owner or admin" in body


def test_the_home_of_an_approved_member_shows_its_standing_and_the_way_in(tenant_a, client, login):
    approved(tenant_a, make_operator())
    login(tenant_a.coordinator)
    body = client.get(home(tenant_a)).content.decode()
    assert "In good standing" in body and "NCQA" in body
    for name in ("exchange_search", "exchange_listings", "exchange_orders"):
        assert reverse(name, kwargs={"org_slug": tenant_a.org.slug}) in body


def test_the_home_of_a_suspended_member_gives_the_reason(tenant_a, client, login):
    from exchange.services.membership import membership_suspend

    operator = make_operator()
    approved(tenant_a, operator)
    membership_suspend(operator=operator, org_id=tenant_a.org.pk, reason="Unpaid fees.")
    login(tenant_a.auditor)
    body = client.get(home(tenant_a)).content.decode()
    assert "Suspended" in body and "Unpaid fees." in body


# --- renewals ----------------------------------------------------------------------------------


def test_recording_a_renewal_from_the_page_resumes_listings_paused_for_standing(
    tenant_a, client, login
):
    from exchange.models import Accreditation
    from exchange.services.standing import standing_refresh

    approved(tenant_a, make_operator())
    make_listings(tenant_a, 2)
    with tenant_context(tenant_a.org):
        Accreditation.objects.update(expires_on=date.today() - timedelta(days=1))
        standing_refresh(org=tenant_a.org)
    assert listing_states(tenant_a) == [("paused", "standing")] * 2
    login(tenant_a.admin)
    renewal = {
        "action": "accreditation",
        "accrediting_body": "tjc",
        "accreditation_status": "accredited",
        "accreditation_expires_on": (date.today() + timedelta(days=700)).isoformat(),
        "evidence": SimpleUploadedFile("tjc.pdf", PDF_BYTES),
    }
    response = client.post(page(tenant_a), renewal)
    assert response.status_code == 302
    assert listing_states(tenant_a) == [("live", "")] * 2
    assert directory(tenant_a).good_standing is True
    assert membership_of(tenant_a).standing_paused_at is None
    chain = actions(tenant_a)
    assert "exchange.accreditation.recorded" in chain and "exchange.standing.restored" in chain


def test_an_auditor_cannot_record_a_renewal(tenant_a, client, login):
    approved(tenant_a, make_operator())
    login(tenant_a.auditor)
    renewal = {
        "action": "accreditation",
        "accrediting_body": "tjc",
        "accreditation_status": "accredited",
        "accreditation_expires_on": (date.today() + timedelta(days=700)).isoformat(),
    }
    assert client.post(page(tenant_a), renewal).status_code == 403
    assert accreditation_count(tenant_a) == 1


def test_updating_the_profile_keeps_the_status_and_is_audited(tenant_a):
    from credex.errors import Forbidden, InvalidInput
    from exchange.services.membership import membership_update

    apply(tenant_a)
    with tenant_context(tenant_a.org):
        m = membership_update(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.admin),
            display_name="Acme CVO",
            contact_phone="555-0199",
        )
        assert (m.status, m.display_name, m.contact_phone) == ("pending", "Acme CVO", "555-0199")
        with pytest.raises(InvalidInput):
            membership_update(
                org=tenant_a.org, actor=tenant_a.membership(tenant_a.admin), contact_email="x"
            )
        with pytest.raises(Forbidden):
            membership_update(
                org=tenant_a.org, actor=tenant_a.membership(tenant_a.auditor), profile="hi"
            )
    assert directory(tenant_a).display_name == "Acme CVO"
    assert actions(tenant_a).count("exchange.membership.updated") == 1
