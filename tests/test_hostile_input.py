"""Hostile input gets a clear 4xx, never a 500: control characters in any text input, deeply
nested JSON, oversized bodies, and every error under /api/ in the {code, message, details} shape.

The refusal is central (credex/hostile.py); these tests go through the real entry points (pages
and API, real Postgres with RLS) and check that nothing was written.
"""

from __future__ import annotations

import json

import pytest
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from credex.models import Organization, Role
from credex.tenancy import tenant_context
from tests.factories import make_provider
from tests.test_api import assert_error, make_key

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _generous_throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


@pytest.fixture
def key(tenant_a):
    return make_key(tenant_a, role=Role.ADMIN)[1]


@pytest.fixture
def provider(tenant_a):
    with tenant_context(tenant_a.org):
        return make_provider(tenant_a.org, seed=7)


def _events(org):
    with tenant_context(org):
        return AuditEvent.objects.filter(organization=org).count()


def _auth(key):
    return {"HTTP_AUTHORIZATION": f"Api-Key {key}"}


def _json(client, method, path, raw, key):
    return client.generic(method, path, raw, content_type="application/json", **_auth(key))


# --- control characters -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path,field",
    [
        ("/api/v1/providers?q=a%00b", "q"),
        ("/api/v1/providers?type=%00", "type"),
        ("/api/v1/nppes/mismatches?q=%00", "q"),
        ("/api/v1/verifications/queue?type=x%00", "type"),
        ("/api/v1/audit/events?action=%1b[31m", "action"),
        ("/api/v1/providers?%00=1", "?"),
    ],
)
def test_a_control_character_in_an_api_query_gets_400_naming_the_field(
    tenant_a, client, key, path, field
):
    body = assert_error(client.get(path, **_auth(key)), 400, "invalid")
    assert field in body["details"], body
    assert field in body["message"]


@pytest.mark.parametrize(
    "path,field",
    [
        ("providers/?q=%00", "q"),
        ("providers/?status=%00", "status"),
        ("verifications/?type=%00", "type"),
        ("audit/?action=%00", "action"),
        ("audit/?actor=a%00", "actor"),
        ("screening/?q=%00", "q"),
    ],
)
def test_a_nul_in_a_page_filter_gets_a_400_page_naming_the_field(
    tenant_a, tenant_b, login, path, field
):
    response = login(tenant_a.owner).get(f"/o/{tenant_a.org.slug}/{path}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    text = response.content.decode()
    assert f"&#x27;{field}&#x27;" in text and "control character (NUL)" in text
    assert "\x00" not in text


def test_a_nul_in_an_html_form_field_gets_400_and_changes_nothing(tenant_a, tenant_b, login):
    client = login(tenant_a.owner)
    before = _events(tenant_a.org)
    response = client.post(
        f"/o/{tenant_a.org.slug}/settings/",
        {"name": "Acme\x00Health", "recredentialing_cycle_months": "24"},
    )
    assert response.status_code == 400
    assert "&#x27;name&#x27;" in response.content.decode()
    org = Organization.objects.get(pk=tenant_a.org.pk)
    assert org.name == "Acme Health" and org.recredentialing_cycle_months != 24
    assert _events(tenant_a.org) == before


def test_an_htmx_request_with_a_nul_gets_the_message_as_a_fragment(tenant_a, login):
    response = login(tenant_a.owner).get(
        f"/o/{tenant_a.org.slug}/providers/?q=%00", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "<html" not in text and 'role="alert"' in text and "&#x27;q&#x27;" in text


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\x85"])
def test_any_control_character_but_tab_and_newlines_in_a_form_is_refused(tenant_a, login, char):
    response = login(tenant_a.owner).post(
        f"/o/{tenant_a.org.slug}/settings/",
        {"name": f"Acme{char}", "recredentialing_cycle_months": "24"},
    )
    assert response.status_code == 400
    assert Organization.objects.get(pk=tenant_a.org.pk).name == "Acme Health"


def test_tab_and_newlines_pass_through_untouched(tenant_a, client, key):
    response = _json(
        client, "PATCH", "/api/v1/organization", json.dumps({"name": "Acme\tHealth\r\n"}), key
    )
    assert response.status_code == 200, response.content
    assert Organization.objects.get(pk=tenant_a.org.pk).name.startswith("Acme\tHealth")


def test_a_nul_in_a_nested_json_value_gets_400_naming_the_path_and_records_nothing(
    tenant_a, client, key, provider
):
    before = _events(tenant_a.org)
    payload = {"source": "nppes", "method": "web", "result": "verified", "data": {"k": "a\x00b"}}
    body = assert_error(
        _json(
            client,
            "POST",
            f"/api/v1/providers/{provider.pk}/verifications",
            json.dumps(payload),
            key,
        ),
        400,
        "invalid",
    )
    assert "data.k" in body["details"], body
    from verifications.models import Verification

    with tenant_context(tenant_a.org):
        assert not Verification.objects.filter(provider=provider).exists()
    assert _events(tenant_a.org) == before


def test_a_nul_in_a_json_key_at_depth_is_refused(tenant_a, client, key, provider):
    payload = {"source": "nppes", "method": "web", "result": "verified"}
    payload["data"] = {"list": [{"bad\x00key": 1}]}
    body = assert_error(
        _json(
            client,
            "POST",
            f"/api/v1/providers/{provider.pk}/verifications",
            json.dumps(payload),
            key,
        ),
        400,
        "invalid",
    )
    assert "data.list[0].bad?key" in body["details"], body


def test_a_nul_in_a_multipart_field_is_refused(tenant_a, client, key, provider):
    response = client.post(
        f"/api/v1/providers/{provider.pk}/verifications",
        {"source": "nppes", "method": "web", "result": "verified", "reference": "R\x00"},
        **_auth(key),
    )
    body = assert_error(response, 400, "invalid")
    assert "reference" in body["details"]


def test_a_nul_in_an_uploaded_file_name_never_reaches_the_database(tenant_a, client, key, provider):
    # Django's multipart parser drops non-printable characters from file names; the middleware
    # checks the name again for any other parser.
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import PDF_BYTES

    upload = SimpleUploadedFile("scan\x00.pdf", PDF_BYTES, content_type="application/pdf")
    response = client.post(
        f"/api/v1/providers/{provider.pk}/verifications",
        {"source": "nppes", "method": "web", "result": "verified", "evidence": upload},
        **_auth(key),
    )
    assert response.status_code == 201, response.content
    assert "\\u0000" not in response.content.decode()
    assert response.json()["evidence"][0]["original_name"] == "scan.pdf"


@pytest.mark.parametrize("content_type", ["multipart", "urlencoded"])
def test_a_nul_in_a_patch_form_body_is_refused(tenant_a, client, key, content_type):
    from django.test.client import MULTIPART_CONTENT, encode_multipart

    if content_type == "multipart":
        data = encode_multipart("BoUnDaRy", {"name": "Ac\x00me"})
        ctype = "multipart/form-data; boundary=BoUnDaRy"
    else:
        data, ctype = "name=Ac%00me", "application/x-www-form-urlencoded"
    assert MULTIPART_CONTENT
    response = client.generic("PATCH", "/api/v1/organization", data, ctype, **_auth(key))
    body = assert_error(response, 400, "invalid")
    assert "name" in body["details"]
    assert Organization.objects.get(pk=tenant_a.org.pk).name == "Acme Health"


def test_a_multipart_patch_without_control_characters_still_works(tenant_a, client, key):
    from django.test.client import encode_multipart

    response = client.generic(
        "PATCH",
        "/api/v1/organization",
        encode_multipart("BoUnDaRy", {"name": "Acme Renamed"}),
        "multipart/form-data; boundary=BoUnDaRy",
        **_auth(key),
    )
    assert response.status_code == 200, response.content
    assert Organization.objects.get(pk=tenant_a.org.pk).name == "Acme Renamed"


def test_a_nul_in_a_url_path_segment_is_a_400_not_a_500(db, client):
    response = client.get("/invitations/abc%00def/")
    assert response.status_code == 400


def test_a_nul_in_the_organization_header_is_refused(tenant_a, login):
    response = login(tenant_a.owner).get("/api/v1/me", HTTP_X_CREDEX_ORGANIZATION="acme\x00")
    body = assert_error(response, 400, "invalid")
    assert "header X-CredEx-Organization" in body["details"]


def test_a_nul_in_the_user_agent_is_refused_before_it_reaches_the_audit_log(tenant_a, login):
    client = login(tenant_a.owner)
    before = _events(tenant_a.org)
    response = client.get(f"/o/{tenant_a.org.slug}/providers/", HTTP_USER_AGENT="evil\x00agent")
    assert response.status_code == 400
    assert _events(tenant_a.org) == before


# --- deeply nested JSON ---------------------------------------------------------------------------
def test_json_nested_50000_levels_gets_400_with_the_error_shape(tenant_a, client, key, provider):
    raw = '{"first_name": ' + "[" * 50_000 + "]" * 50_000 + "}"
    body = assert_error(
        _json(client, "PATCH", f"/api/v1/providers/{provider.pk}", raw, key), 400, "invalid"
    )
    assert "32 levels" in body["message"]
    with tenant_context(tenant_a.org):
        provider.refresh_from_db()
    assert provider.first_name == "Pat"


def test_json_at_the_depth_limit_is_parsed_one_level_deeper_is_refused(tenant_a, client, key):
    def nested(levels):  # `levels` containers in all, the outer object included
        return '{"name": ' + "[" * (levels - 1) + '"x"' + "]" * (levels - 1) + "}"

    at_limit = _json(client, "PATCH", "/api/v1/organization", nested(32), key)
    assert at_limit.status_code == 400 and "32 levels" not in at_limit.json()["message"]
    assert "name" in at_limit.json()["details"]  # the serializer's own complaint
    too_deep = assert_error(
        _json(client, "PATCH", "/api/v1/organization", nested(33), key), 400, "invalid"
    )
    assert "32 levels" in too_deep["message"]


def test_deep_json_to_an_html_route_gets_a_400_page(tenant_a, login):
    client = login(tenant_a.owner)
    response = client.generic(
        "POST",
        f"/o/{tenant_a.org.slug}/settings/",
        "[" * 50_000 + "]" * 50_000,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


# --- every error under /api/ has the shape ----------------------------------------------
def test_a_5_mb_json_body_gets_413_with_the_error_shape(tenant_a, client, key, provider):
    raw = json.dumps({"first_name": "x" * (5 * 1024 * 1024)})
    body = assert_error(
        _json(client, "PATCH", f"/api/v1/providers/{provider.pk}", raw, key),
        413,
        "payload_too_large",
    )
    assert body["details"]["max_bytes"] > 0


def test_a_5_mb_form_body_gets_413_with_the_error_shape(tenant_a, client, key):
    response = client.post("/api/v1/api-keys", {"name": "x" * (5 * 1024 * 1024)}, **_auth(key))
    assert_error(response, 413, "payload_too_large")


def test_a_5_mb_form_post_to_a_page_gets_a_413_page(tenant_a, login):
    response = login(tenant_a.owner).post(
        f"/o/{tenant_a.org.slug}/settings/", {"name": "x" * (5 * 1024 * 1024)}
    )
    assert response.status_code == 413
    assert "Request too large" in response.content.decode()
    assert Organization.objects.get(pk=tenant_a.org.pk).name == "Acme Health"


def test_too_many_fields_gets_400_with_the_error_shape(tenant_a, client, key):
    query = "&".join(f"f{i}=1" for i in range(1100))
    assert_error(client.get(f"/api/v1/providers?{query}", **_auth(key)), 400, "invalid")


def test_a_disallowed_host_under_api_gets_400_with_the_error_shape(db, client):
    assert_error(client.get("/api/v1/me", HTTP_HOST="evil.example"), 400, "invalid")


def test_a_disallowed_host_on_a_page_gets_the_400_page(db, client):
    response = client.get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()


@pytest.mark.parametrize(
    "path", ["/api/v1/no-such-thing", "/api/v2/providers", "/api/", "/api/v1/providers/nope"]
)
def test_an_unknown_api_url_gets_404_with_the_error_shape(tenant_a, client, key, path):
    assert_error(client.get(path, **_auth(key)), 404, "not_found")


def test_a_wrong_method_gets_405_with_the_error_shape(tenant_a, client, key):
    assert_error(client.delete("/api/v1/providers", **_auth(key)), 405, "method_not_allowed")


def test_throttling_gets_429_with_retry_after_and_the_error_shape(tenant_a, client, monkeypatch):
    _, raw = make_key(tenant_a, role=Role.AUDITOR, name="Throttled")
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1/min", "user": "1/min"})
    client.get("/api/v1/me", **_auth(raw))
    response = client.get("/api/v1/me", **_auth(raw))
    body = assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert body["details"]["retry_after_seconds"] == int(response["Retry-After"])


def test_a_csrf_failure_under_api_has_the_error_shape(tenant_a):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(
        tenant_a.owner, backend="allauth.account.auth_backends.AuthenticationBackend"
    )
    response = browser.post("/api/v1/api-keys", {"name": "x"})
    assert_error(response, 403, "forbidden")
