"""The independent coordinator's per-client invoice and rate card, through the pages
(/clients/invoice/, its CSV and PDF, POST /clients/rates/) and the API
(/api/v1/billing/client-invoice, /api/v1/billing/rates).

Ivy is the coordinator of two client organizations (Acme, Bayside); what she did in each is
read from that client's own audit log, and what she manages from its roster.
"""

from __future__ import annotations

import calendar
import csv
import io
import json

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from billing.models import CoordinatorRate
from credex.models import Organization, Role
from credex.services import api_key_create, organization_create
from credex.tenancy import tenant_context, user_context
from enrollment.services import enrollment_request, enrollment_transition, payer_create
from roster.models import Credential
from tests.conftest import add_member, make_user
from tests.factories import make_provider
from verifications.services.records import verification_record

pytestmark = pytest.mark.django_db


def this_month() -> tuple[str, str]:
    """The whole current calendar month: the providers line covers exactly one month."""
    today = timezone.localdate()
    last = calendar.monthrange(today.year, today.month)[1]
    return today.replace(day=1).isoformat(), today.replace(day=last).isoformat()


def _events(org, action):
    with tenant_context(org):
        return list(AuditEvent.objects.filter(organization=org, action=action).order_by("seq"))


def _platform_events(action):
    with user_context(None):
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.audit_platform', 'on', true)")
        return list(AuditEvent.objects.filter(organization__isnull=True, action=action))


def _rates(user) -> dict:
    with user_context(user.pk):
        return {
            (str(r.client_id) if r.client_id else None): r.rates()
            for r in CoordinatorRate.objects.filter(owner=user)
        }


@pytest.fixture
def ivy(tenant_a, tenant_b):
    """Coordinator of Acme and Bayside, with work of her own in Acme and a provider in each."""
    user = make_user("ivy@independent.example", first_name="Ivy", last_name="Ito")
    in_a = add_member(tenant_a.org, user, Role.COORDINATOR)
    in_b = add_member(tenant_b.org, user, Role.COORDINATOR)
    in_a.user = in_b.user = user
    in_a.organization, in_b.organization = tenant_a.org, tenant_b.org
    mine = [
        make_provider(tenant_a.org, seed=801, last_name="Alvarez", coordinator=in_a),
        make_provider(tenant_a.org, seed=802, last_name="Baker", coordinator=in_a),
    ]
    # Neither counts: inactive, and assigned to somebody else.
    make_provider(tenant_a.org, seed=803, last_name="Inactive", status="inactive", coordinator=in_a)
    other = tenant_a.membership(tenant_a.coordinator)
    make_provider(tenant_a.org, seed=804, last_name="Others", coordinator=other)
    make_provider(tenant_b.org, seed=805, last_name="Brennan", coordinator=in_b)
    owner_a = tenant_a.membership(tenant_a.owner)
    with tenant_context(tenant_a.org):
        for provider in mine:
            credential = Credential.objects.create(
                organization=tenant_a.org, provider=provider, kind="state_license", state="CA"
            )
            verification_record(
                org=tenant_a.org,
                actor=in_a,
                provider=provider,
                credential=credential,
                source="state_board",
                method="web",
                result="verified",
            )
        # The owner's verification is the owner's work, not Ivy's.
        verification_record(
            org=tenant_a.org,
            actor=owner_a,
            provider=mine[0],
            source="oig",
            method="web",
            result="verified",
        )
        payer = payer_create(org=tenant_a.org, actor=owner_a, name="Blue Payer")
        (enrollment,) = enrollment_request(
            org=tenant_a.org, actor=in_a, provider=mine[0], payers=[payer]
        )
        for step in ("in_preparation", "submitted"):
            enrollment_transition(org=tenant_a.org, actor=in_a, enrollment=enrollment, to=step)
    return user


def _invoice_json(client, org, start, end):
    response = client.get(
        f"/api/v1/billing/client-invoice?start={start}&end={end}",
        HTTP_X_CREDEX_ORGANIZATION=org.slug,
    )
    assert response.status_code == 200, response.content[:300]
    return response.json()


# --- the rate card and the invoice, end to end ---------------------------------------------------
def test_rates_set_on_the_page_and_by_the_api_price_each_clients_work(
    tenant_a, tenant_b, ivy, client, login
):
    login(ivy)
    start, end = this_month()
    saved = client.post(
        "/clients/rates/",
        {
            "client": "",
            "provider_month": "45",
            "verification": "12.50",
            "package": "",
            "enrollment": "$150.00",
            "recredentialing": "0",
            "next": f"/clients/invoice/?start={start}&end={end}",
        },
    )
    assert saved.status_code == 302 and saved["Location"].startswith("/clients/invoice/")
    assert _rates(ivy)[None] == {
        "provider_month_cents": 4500,
        "verification_cents": 1250,
        "package_cents": 0,
        "enrollment_cents": 15000,
        "recredentialing_cents": 0,
    }
    # Bayside gets rates of its own through the API.
    put = client.put(
        "/api/v1/billing/rates",
        json.dumps(
            {
                "client": tenant_b.org.slug,
                "provider_month_cents": 3000,
                "verification_cents": 0,
                "package_cents": 0,
                "enrollment_cents": 0,
                "recredentialing_cents": 0,
            }
        ),
        content_type="application/json",
        HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug,
    )
    assert put.status_code == 200, put.content[:300]
    card = put.json()
    assert card["default"]["provider_month_cents"] == 4500
    assert [(c["client"]["slug"], c["provider_month_cents"]) for c in card["clients"]] == [
        (tenant_b.org.slug, 3000)
    ]

    data = _invoice_json(client, tenant_a.org, start, end)
    by_slug = {c["organization"]["slug"]: c for c in data["clients"]}
    acme, bayside = by_slug[tenant_a.org.slug], by_slug[tenant_b.org.slug]
    acme_lines = {line["kind"]: (line["quantity"], line["amount_cents"]) for line in acme["lines"]}
    assert acme_lines == {
        "providers": (2, 9000),  # Alvarez and Baker, one month at $45
        "verifications": (2, 2500),  # hers, not the owner's
        "packages": (0, 0),
        "enrollments": (1, 15000),
        "recredentialing": (0, 0),
    }
    assert sorted(p["name"].split()[-1] for p in acme["providers"]) == ["Alvarez", "Baker"]
    assert acme["total_cents"] == 26500 and acme["client_rates"] is False
    assert bayside["client_rates"] is True and bayside["total_cents"] == 3000
    assert data["total_cents"] == 29500 and (data["start"], data["end"]) == (start, end)

    page = client.get(f"/clients/invoice/?start={start}&end={end}")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Acme Health" in body and "Bayside Clinic" in body
    assert "$265.00" in body and "$30.00" in body and "$295.00" in body
    assert "client rates" in body

    # Each showing named the providers in that client's own chain (web and API).
    reads = _events(tenant_a.org, "roster.provider.list_viewed")
    assert len(reads) == 2
    assert {r.data.get("via") for r in reads} == {"web", "api"}
    assert {r.actor_id for r in reads} == {str(ivy.pk)}
    assert _events(tenant_b.org, "roster.provider.list_viewed")
    # The rate card's changes are the person's own: the platform chain, actor Ivy.
    updates = _platform_events("billing.coordinator_rates.updated")
    assert len(updates) == 2 and {e.actor_id for e in updates} == {str(ivy.pk)}


def test_clearing_a_clients_rates_goes_back_to_the_default(tenant_a, tenant_b, ivy, client, login):
    login(ivy)
    common = {"verification": "0", "package": "0", "enrollment": "0", "recredentialing": "0"}
    client.post("/clients/rates/", {"client": "", "provider_month": "10", **common})
    client.post("/clients/rates/", {"client": tenant_b.org.slug, "provider_month": "99", **common})
    assert _rates(ivy)[str(tenant_b.org.pk)]["provider_month_cents"] == 9900
    cleared = client.post("/clients/rates/", {"client": tenant_b.org.slug, "action": "clear"})
    assert cleared.status_code == 302
    assert set(_rates(ivy)) == {None}
    start, end = this_month()
    bayside = next(
        c
        for c in _invoice_json(client, tenant_a.org, start, end)["clients"]
        if c["organization"]["slug"] == tenant_b.org.slug
    )
    assert bayside["client_rates"] is False and bayside["total_cents"] == 1000
    assert len(_platform_events("billing.coordinator_rates.cleared")) == 1


def test_the_csv_and_pdf_exports_are_audited_in_each_clients_chain(
    tenant_a, tenant_b, ivy, client, login
):
    login(ivy)
    client.post(
        "/clients/rates/",
        {
            "client": "",
            "provider_month": "45",
            "verification": "10",
            "package": "0",
            "enrollment": "0",
            "recredentialing": "0",
        },
    )
    start, end = this_month()
    response = client.get(f"/clients/invoice.csv?start={start}&end={end}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    totals = {r["client"]: r["amount_cents"] for r in rows if r["kind"] == "client_total"}
    assert totals == {"Acme Health": "11000", "Bayside Clinic": "4500"}
    assert [r["amount_cents"] for r in rows if r["kind"] == "total"] == ["15500"]
    providers = next(r for r in rows if r["client"] == "Acme Health" and r["kind"] == "providers")
    assert "Alvarez" in providers["detail"] and "Inactive" not in providers["detail"]

    pdf = client.get(f"/clients/invoice.pdf?start={start}&end={end}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    exported = _events(tenant_a.org, "billing.client_invoice.exported")
    assert [e.data["format"] for e in exported] == ["csv", "pdf"]
    assert exported[0].data["total_cents"] == 11000 and exported[0].actor_id == str(ivy.pk)
    assert len(exported[0].data["providers"]) == 2
    assert [
        e.data["total_cents"] for e in _events(tenant_b.org, "billing.client_invoice.exported")
    ] == [
        4500,
        4500,
    ]


def test_a_client_that_requires_two_factor_is_not_read_without_it(
    tenant_a, tenant_b, ivy, client, login
):
    Organization.objects.filter(pk=tenant_b.org.pk).update(require_mfa=True)
    login(ivy)
    start, end = this_month()
    data = _invoice_json(client, tenant_a.org, start, end)
    bayside = next(c for c in data["clients"] if c["organization"]["slug"] == tenant_b.org.slug)
    assert bayside["blocked"] is True and bayside["providers"] == [] and bayside["lines"] == []
    page = client.get(f"/clients/invoice/?start={start}&end={end}")
    assert "requires two-factor authentication" in page.content.decode()
    client.get(f"/clients/invoice.csv?start={start}&end={end}")
    assert _events(tenant_b.org, "roster.provider.list_viewed") == []
    assert _events(tenant_b.org, "billing.client_invoice.exported") == []
    assert len(_events(tenant_a.org, "billing.client_invoice.exported")) == 1


def test_the_default_period_is_last_month(tenant_a, ivy, client, login):
    login(ivy)
    page = client.get("/clients/invoice/")
    assert page.status_code == 200
    first_of_month = timezone.localdate().replace(day=1)
    last = first_of_month - timezone.timedelta(days=1)
    assert f'value="{last.replace(day=1).isoformat()}"' in page.content.decode()
    data = client.get(
        "/api/v1/billing/client-invoice", HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug
    ).json()
    assert (data["start"], data["end"]) == (last.replace(day=1).isoformat(), last.isoformat())


# --- who may -------------------------------------------------------------------------------------
def test_anyone_but_an_independent_coordinator_is_refused(tenant_a, client, login):
    # The owner holds no clients.invoice; the employee coordinator has one organization.
    for user in (tenant_a.owner, tenant_a.coordinator):
        login(user)
        assert client.get("/clients/invoice/").status_code == 403
        assert client.get("/clients/invoice.csv").status_code == 403
        assert client.post("/clients/rates/", {"provider_month": "1"}).status_code == 403
        api = client.get(
            "/api/v1/billing/client-invoice", HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug
        )
        assert api.status_code == 403 and set(api.json()) == {"code", "message", "details"}
    assert api.json()["code"] == "not_independent"
    assert _events(tenant_a.org, "roster.provider.list_viewed") == []


def test_an_api_key_names_no_person_and_is_refused(tenant_a, ivy, client):
    with tenant_context(tenant_a.org):
        _, raw = api_key_create(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.owner),
            name="coordinator key",
            role=Role.COORDINATOR,
        )
    for method, path in (("get", "billing/client-invoice"), ("put", "billing/rates")):
        response = client.generic(
            method.upper(),
            f"/api/v1/{path}",
            json.dumps({"provider_month_cents": 1}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Api-Key {raw}",
        )
        assert response.status_code == 403 and response.json()["code"] == "person_required"
    assert _rates(ivy) == {}


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get("/clients/invoice/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- bad input: a clear 4xx, nothing written ------------------------------------------------------
@pytest.mark.parametrize(
    "start,end,field,message",
    [
        ("2026-11-30", "2026-11-01", "end", "The end date is before the start date"),
        ("2024-01-01", "2026-01-01", "end", "A period is at most 366 days"),
        ("yesterday", "2026-11-01", "start", "Use a date like"),
        ("1899-01-01", "1899-01-31", "start", "Choose a date between 2000 and 2100"),
        # Refused before any view runs (credex/hostile.py), with the same error shape.
        ("2026-11-01\x00", "2026-11-30", "start", "contains a control character (NUL)"),
    ],
)
def test_a_bad_period_is_a_400_on_the_page_and_the_api(
    tenant_a, ivy, client, login, start, end, field, message
):
    login(ivy)
    page = client.get("/clients/invoice/", {"start": start, "end": end})
    assert page.status_code == 400
    assert message in page.content.decode()
    api = client.get(
        "/api/v1/billing/client-invoice",
        {"start": start, "end": end},
        HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug,
    )
    assert api.status_code == 400 and field in api.json()["details"]
    export = client.get("/clients/invoice.csv", {"start": start, "end": end})
    assert export.status_code == 400
    assert _events(tenant_a.org, "roster.provider.list_viewed") == []
    assert _events(tenant_a.org, "billing.client_invoice.exported") == []


@pytest.mark.parametrize(
    "value,message",
    [
        ("-5", "cannot be negative"),
        ("12\x0034", "contains a control character (NUL)"),
        ("99999999999", "Enter an amount in dollars"),
        ("1000000", "A rate is at most"),
        ("12.345", "Enter an amount in dollars"),
        ("x" * 5000, "Enter an amount in dollars"),
    ],
)
def test_hostile_rates_on_the_page_are_refused_and_nothing_is_saved(
    tenant_a, ivy, client, login, value, message
):
    login(ivy)
    response = client.post("/clients/rates/", {"client": "", "provider_month": value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _rates(ivy) == {}
    assert _platform_events("billing.coordinator_rates.updated") == []


@pytest.mark.parametrize(
    "body",
    [
        {"provider_month_cents": -1},
        {"provider_month_cents": True},
        {"provider_month_cents": 10**12},
        {"provider_month_cents": "12\u0000"},
        {"client": "x" * 500},
        {"client": "not-a-client-of-hers"},
    ],
)
def test_hostile_rates_on_the_api_are_refused_and_nothing_is_saved(
    tenant_a, ivy, client, login, body
):
    login(ivy)
    full = {
        "provider_month_cents": 100,
        "verification_cents": 100,
        "package_cents": 100,
        "enrollment_cents": 100,
        "recredentialing_cents": 100,
        **body,
    }
    response = client.put(
        "/api/v1/billing/rates",
        json.dumps(full),
        content_type="application/json",
        HTTP_X_CREDEX_ORGANIZATION=tenant_a.org.slug,
    )
    assert 400 <= response.status_code < 500, response.content[:300]
    assert set(response.json()) == {"code", "message", "details"}
    assert _rates(ivy) == {}


def test_a_client_she_does_not_serve_is_a_404_and_its_roster_is_never_read(
    tenant_a, ivy, client, login
):
    stranger = organization_create(name="Cedar Clinic", owner=make_user("owner@c.example"))
    make_provider(stranger, seed=809, last_name="Zimmer")
    login(ivy)
    response = client.post("/clients/rates/", {"client": stranger.slug, "provider_month": "5"})
    assert response.status_code == 404
    assert _rates(ivy) == {}
    start, end = this_month()
    page = client.get(f"/clients/invoice/?start={start}&end={end}").content.decode()
    assert "Cedar Clinic" not in page and "Zimmer" not in page


def test_a_rate_card_is_read_by_its_owner_only_rls(tenant_a, ivy, client, login):
    # Not a tenant table (no organization column): row-level security on its owner keeps the
    # card private, also from the organizations it prices and from raw ORM reads.
    login(ivy)
    client.post("/clients/rates/", {"client": "", "provider_month": "45"})
    assert _rates(ivy)[None]["provider_month_cents"] == 4500
    for someone in (tenant_a.owner, tenant_a.coordinator):
        with user_context(someone.pk):
            assert not CoordinatorRate.objects.filter(owner=ivy).exists()
    with tenant_context(tenant_a.org):
        assert not CoordinatorRate.objects.exists()
