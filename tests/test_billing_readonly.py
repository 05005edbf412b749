"""Billing read-only on every write path (issue 13, item 5).

"After a grace period the organization is read-only: every write (pages, API, imports,
scheduled jobs that write on its behalf except screening) answers with a clear 'billing past
due' message (402 on the API with the usual error shape), reads and exports keep working,
nothing is deleted; paying restores writes at once."

The write routes are not listed here: they come from the URLconf (django.urls.get_resolver,
walked recursively), so a new one joins by itself:
- every page under /o/<slug>/ whose view accepts an unsafe method (its require_http_methods
  list, or every method without one), every API route under /api/v1/ by the methods its view
  class serves, and every signed link (/u/ upload, /p/ payer package, /r/ release,
  /invitations/);
- every other route must be classified in OUTSIDE_AN_ORGANIZATION with the reason it is not an
  organization's write, or `test_every_route_is_enumerated_or_classified` fails;
- `test_the_enumeration_finds_the_known_write_routes` fails if the walk finds fewer than
  MIN_WRITE_CASES cases or loses a known write route, so it cannot rot into an empty list.

Each write is sent as the owner of a read-only organization with the body a member would send
(the owner's rendered forms, harvested as tests/test_permission_matrix_html.py does; the API
bodies of tests/test_permission_matrix.py), and must answer 402 with the billing-past-due
message and change nothing: a fingerprint of every tenant table's rows of the organization, its
own row and its audit head (tests/test_permission_matrix_html.py `fingerprint`). Billing's own
routes are the exception and must stay writable (that is how the organization pays).

The Celery tasks are enumerated from the Celery app: each tenant task is gated (skips a
read-only organization, writes nothing) or exempt with a reason, and each scheduled fan-out
says what it does with read-only organizations. Screening keeps writing its results. Paying
(writes_resume, or a paid invoice through the signed Stripe webhook) lets the same write
through at once, and the jobs that waited run.

One seeded organization (tests/fuzz_seed.py) serves every case: it is built once per module in
a transaction that is rolled back at the end, and each case runs in a savepoint of it.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from billing.models import BillingStatus
from billing.services.accounts import account_for, writes_pause, writes_resume
from credex.celery import TenantTask, app
from credex.models import Organization, Role
from credex.tenancy import tenant_context
from tests import test_permission_matrix as api_matrix
from tests import test_permission_matrix_html as html_matrix
from tests.conftest import build_tenant, make_user, own_queue
from tests.factories import PDF_BYTES
from tests.fuzz_seed import no_internet, seed
from tests.test_api import ERROR_KEYS, in_org, make_key
from tests.waiting import published_tasks

changes = html_matrix._changes


def fingerprint(org) -> dict:
    """Every row of the organization's tenant tables, its own row and its audit head
    (tests/test_permission_matrix_html.py), except an API key's `last_used_at`: the middleware
    stamps the key a request authenticates with before it refuses the write (authentication
    bookkeeping, like the session), so the key rows are compared without that column."""
    from credex.models import ApiKey

    found = html_matrix.fingerprint(org)
    with tenant_context(org):
        keys = sorted(
            ApiKey.objects.filter(organization=org).values_list(
                "id", "name", "role", "prefix", "key_hash", "revoked_at", "created_at"
            )
        )
    found[ApiKey._meta.label] = (len(keys), repr(keys))
    return found


ORG_PREFIX = "o/<slug:org_slug>/"
API_PREFIX = "api/v1/"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# Billing's own routes stay writable: they are how a read-only organization pays.
BILLING = re.compile(r"^o/<slug:org_slug>/billing/|^api/v1/billing(/|$)")

# The signed links (reached without /o/<slug>/): route name -> the seed's token for it.
LINK_TOKENS = {
    "upload_link_public": "upload_token",
    "package_share_public": "share_token",
    "package_share_download": "share_token",
    "release_public": "release_token",
    "invitation_accept": "invite_token",
}

# Every other route, and why a request to it is not a write of one organization.
OUTSIDE_AN_ORGANIZATION_PREFIXES = {
    "admin/": "Django admin: platform staff, not a member of the organization",
    "accounts/": "allauth: the person's own account (sign-in, password, MFA), no organization",
    "operator/exchange/": "the exchange operator's console: the platform's decisions about a "
    "member (approve, suspend), not the member's writes",
}
OUTSIDE_AN_ORGANIZATION = {
    "home": "lists the signed-in user's organizations (GET)",
    "healthz": "liveness probe (GET)",
    "organization_new": "creates a new organization, never the read-only one",
    "cross_org_expiring": "the user's expiring credentials across organizations (GET)",
    "stripe_webhook": "billing's webhook: it is how a payment restores writes "
    "(test_a_paid_invoice_through_the_signed_webhook_restores_writes_at_once)",
    "api_schema": "the OpenAPI document (GET)",
    "api_docs": "the API reference page (GET)",
    "pricing": "the public pricing page (GET)",
    "client_invoice": "the independent coordinator's invoice across her clients (GET)",
    "client_invoice_export": "its CSV and PDF (GET)",
    "client_rates": "the coordinator's own rate card: a person's data (RLS on its owner), "
    "not an organization's; it is priced work done, not a write on a client",
}

# The enumeration finds at least this many write cases (pages, API by session and by key,
# links); fewer means the walk broke, not that the application lost its writes.
MIN_WRITE_CASES = 200
KNOWN_WRITES = {
    ("page", "organization_settings", "POST"),
    ("page", "provider_new", "POST"),
    ("page", "imports", "POST"),
    ("page", "members", "POST"),
    ("api", "api_providers", "POST"),
    ("api", "api_imports", "POST"),
    ("api", "api_provider", "PATCH"),
    ("api", "api_member", "DELETE"),
    ("link", "upload_link_public", "POST"),
    ("link", "release_public", "POST"),
    ("link", "invitation_accept", "POST"),
}
# Reads that are POSTs (credex/writes.py READS_BY_POST): they keep working like every read.
READS_BY_POST = {"provider_reveal", "api_provider_reveal", "api_exchange_receipts_verify"}
# API reads that answer 4xx by the seeded state, not by the organization being read-only.
API_READ_4XX = {
    "api_packets_bulk_status": 404,  # no bulk job runs under the made-up id
    "api_exchange_price_votes": 409,  # the seeded organization is not an approved member
    "api_exchange_market_rates": 409,
    "api_exchange_search": 403,
    # A person's, not an organization's: the owner is no independent coordinator.
    "api_billing_client_invoice": 403,
    "api_billing_rates": 403,
}
# Query strings an API read needs to answer at all (pages: html_matrix.QUERY).
API_QUERY = {"api_nppes_lookup": {"npi": "1234567893"}, "api_exchange_search": {"q": "Lee"}}
FAKE_BULK_ID = "00000000-0000-4000-8000-00000000b111"


# --- the URLconf ---------------------------------------------------------------------------------
def walk(patterns=None, prefix=""):
    """(route, URLPattern) for every route of the project's URLconf, nested includes too."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


ROUTES = list(walk())


def page_methods(pattern: URLPattern) -> set[str]:
    """The methods an HTML view accepts: its require_http_methods list, or all of them."""
    for fn in html_matrix._chain(pattern.callback):
        names = fn.__code__.co_freevars if hasattr(fn, "__code__") else ()
        if "request_method_list" in names:
            return set(fn.__closure__[names.index("request_method_list")].cell_contents)
    return {"GET", "HEAD", *UNSAFE}


def api_methods(pattern: URLPattern) -> set[str]:
    return set(api_matrix.served_methods(pattern))


def kind_of(route: str, pattern: URLPattern) -> str | None:
    if route.startswith(ORG_PREFIX):
        return "page"
    if route.startswith(API_PREFIX):
        return "api"
    if pattern.name in LINK_TOKENS:
        return "link"
    return None


@dataclass(frozen=True)
class Case:
    kind: str  # page, api, link
    name: str  # the route's name
    route: str
    method: str
    actor: str = "owner"  # owner (session), key (an admin API key), invitee

    def __str__(self):
        return f"{self.method} {self.name} ({self.kind}, {self.actor})"

    @property
    def billing(self) -> bool:
        return bool(BILLING.match(self.route))

    @property
    def refused(self) -> bool:
        """A write the read-only organization must be refused (not billing, not a read)."""
        return not self.billing and self.name not in READS_BY_POST


def write_cases() -> list[Case]:
    cases = []
    for route, pattern in ROUTES:
        kind = kind_of(route, pattern)
        if kind is None:
            continue
        methods = api_methods(pattern) if kind == "api" else page_methods(pattern)
        for method in sorted(set(UNSAFE) & methods):
            if kind == "api":
                cases.append(Case(kind, pattern.name, route, method, "owner"))
                cases.append(Case(kind, pattern.name, route, method, "key"))
            elif pattern.name == "invitation_accept":
                cases.append(Case(kind, pattern.name, route, method, "invitee"))
            else:
                cases.append(Case(kind, pattern.name, route, method))
    return cases


def read_cases() -> list[Case]:
    cases = []
    for route, pattern in ROUTES:
        kind = kind_of(route, pattern)
        if kind is None:
            continue
        methods = api_methods(pattern) if kind == "api" else page_methods(pattern)
        if "GET" in methods:
            cases.append(Case(kind, pattern.name, route, "GET"))
    return cases


WRITES = write_cases()
READS = read_cases()


# --- the classification --------------------------------------------------------------------------
def test_every_route_is_enumerated_or_classified():
    """A route outside /o/, /api/v1/ and the signed links fails here until someone says why a
    request to it is not a write of one organization."""
    unclassified = [
        f"{pattern.name} ({route})"
        for route, pattern in ROUTES
        if kind_of(route, pattern) is None
        and not route.startswith(tuple(OUTSIDE_AN_ORGANIZATION_PREFIXES))
        and pattern.name not in OUTSIDE_AN_ORGANIZATION
    ]
    assert unclassified == [], "enumerate these routes or say why in OUTSIDE_AN_ORGANIZATION"
    names = {pattern.name for _, pattern in ROUTES}
    assert set(OUTSIDE_AN_ORGANIZATION) - names == set(), "these names are not routes any more"
    assert set(LINK_TOKENS) - names == set(), "LINK_TOKENS names a route that is gone"


def test_the_enumeration_finds_the_known_write_routes():
    found = {(c.kind, c.name, c.method) for c in WRITES}
    assert len(WRITES) >= MIN_WRITE_CASES, len(WRITES)
    assert found >= KNOWN_WRITES, sorted(KNOWN_WRITES - found)
    kinds = {c.kind for c in WRITES if c.refused}
    assert kinds == {"page", "api", "link"}, kinds
    assert any(c.billing and c.kind == "page" for c in WRITES)
    assert any(c.billing and c.kind == "api" for c in WRITES)
    assert len(READS) >= 150, len(READS)


# --- the seeded, read-only organization ----------------------------------------------------------
@pytest.fixture(autouse=True)
def _generous_throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


@pytest.fixture(scope="module")
def readonly_media(tmp_path_factory):
    return tmp_path_factory.mktemp("readonly-media")


@pytest.fixture(autouse=True)
def _readonly_settings(settings, readonly_media):
    settings.MEDIA_ROOT = readonly_media  # the seeded documents live here for every case
    no_internet(settings)
    settings.NPPES_MAX_RETRIES = 0
    settings.NPPES_BACKOFF_SECONDS = 0


def _session(user) -> str:
    browser = Client()
    browser.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


def pause(org) -> None:
    with tenant_context(org):
        assert writes_pause(org=org, account=account_for(org), reason="past due beyond grace")


def resume(org) -> None:
    with tenant_context(org):
        account = account_for(org)
        assert writes_resume(org=org, account=account, status=BillingStatus.ACTIVE, reason="paid")


def _release_sha(org) -> str:
    from exchange.models import ReleaseRequest
    from exchange.services.releases import release_text, text_hash

    with tenant_context(org):
        request = ReleaseRequest.objects.get(organization=org, email="clinician@a.example")
        return text_hash(release_text(org=org, request=request))


def _package_ready(org, package_id) -> None:
    """The seeded package, built (a stored PDF), so that its share link opens."""
    import hashlib

    from verifications.models import CredentialPackage, PackageStatus

    with tenant_context(org):
        package = CredentialPackage.objects.get(organization=org, pk=package_id)
        package.file.save("package.pdf", ContentFile(PDF_BYTES), save=False)
        package.status = PackageStatus.READY
        package.size = len(PDF_BYTES)
        package.sha256 = hashlib.sha256(PDF_BYTES).hexdigest()
        package.page_count = 1
        package.finished_at = timezone.now()
        package.save()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, readonly_media):
    """Org A, seeded with a row in every tenant table and made read-only; org B beside it."""
    from django.test import override_settings

    outer = transaction.atomic()
    outer._from_testcase = True  # audit events seal as the code's own blocks end (pgbackend)
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=readonly_media), outer:
        a = build_tenant("Acme Health", "a.example")
        b = build_tenant("Bayside Clinic", "b.example", roles=())
        ids = seed(a) | {"bulk_id": FAKE_BULK_ID}
        invitee = make_user("pending@a.example")  # the seeded invitation's address
        raw_key = make_key(a, role=Role.ADMIN, name="Read-only matrix")[1]
        sessions = {"owner": _session(a.owner), "invitee": _session(invitee)}
        org_routes = html_matrix.org_routes()
        page_urls = {p.name: html_matrix.url_of(r, p, ids, a.org.slug) for r, p in org_routes}
        bodies = html_matrix._harvest_forms(sessions["owner"], page_urls)
        bodies |= {
            page_urls[name]: list(build(ids).items()) for name, build in html_matrix.BODIES.items()
        }
        release_sha = _release_sha(a.org)
        _package_ready(a.org, ids["package_id"])
        pause(a.org)
        yield SimpleNamespace(
            a=a,
            b=b,
            ids=ids,
            raw_key=raw_key,
            sessions=sessions,
            page_urls=page_urls,
            bodies=bodies,
            release_sha=release_sha,
        )
        transaction.set_rollback(True)


def url_of(world, case: Case) -> str:
    if case.kind == "page":
        return world.page_urls[case.name]
    if case.kind == "api":
        pattern = next(p for r, p in ROUTES if p.name == case.name)
        url = api_matrix.url_for(pattern, world.ids)
        return f"{url}?{urlencode(API_QUERY[case.name])}" if case.name in API_QUERY else url
    return reverse(case.name, kwargs={"token": world.ids[LINK_TOKENS[case.name]]})


def link_body(world, case: Case) -> dict:
    if case.name == "upload_link_public":
        return {"kind": "cv", "file": SimpleUploadedFile("cv.pdf", PDF_BYTES, "application/pdf")}
    if case.name == "release_public":
        return {"signer_name": "Ann Lee", "consent": "on", "text_sha256": world.release_sha}
    return {}


def send(client, world, case: Case):
    url = url_of(world, case)
    if case.kind == "api":
        body = api_matrix.BODIES.get((case.name, case.method))
        data = json.dumps(body) if body is not None else ""
        extra = (
            {"HTTP_AUTHORIZATION": f"Api-Key {world.raw_key}"}
            if case.actor == "key"
            else {"HTTP_X_CREDEX_ORGANIZATION": world.a.org.slug}
        )
        if case.actor != "key":
            client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions["owner"]
        return client.generic(case.method, url, data, content_type="application/json", **extra)
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[
        "invitee" if case.actor == "invitee" else "owner"
    ]
    if case.method == "GET":
        return client.get(url)
    if case.kind == "link":
        if case.method == "POST":
            return client.post(url, link_body(world, case))  # multipart, as a browser sends
        return client.generic(case.method, url, "")
    body = urlencode(world.bodies.get(url, []))
    return client.generic(case.method, url, body, content_type="application/x-www-form-urlencoded")


def peek(response) -> bytes:
    """The start of a body, for failure messages (a file download streams)."""
    return b"<streamed>" if response.streaming else response.content[:300]


def assert_refused(response, case: Case) -> None:
    detail = (str(case), response.status_code, peek(response))
    assert response.status_code == 402, detail
    if case.kind == "api":
        body = response.json()
        assert set(body) == ERROR_KEYS, detail
        assert body["code"] == "billing_past_due", detail
        assert "billing is past due" in body["message"].lower(), detail
        assert body["details"]["billing_url"].endswith("/billing/"), detail
    elif case.kind == "page":
        assert b"Billing past due" in response.content, detail
    else:
        assert b"read-only" in response.content, detail


# --- (a) every write route -----------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("case", [c for c in WRITES if c.refused], ids=str)
def test_every_write_answers_402_billing_past_due_and_changes_nothing(client, world, case):
    before = fingerprint(world.a.org)
    response = send(client, world, case)
    assert_refused(response, case)
    assert changes(before, fingerprint(world.a.org)) == {}, str(case)


@pytest.mark.django_db
@pytest.mark.parametrize("case", [c for c in WRITES if c.billing], ids=str)
def test_billing_routes_stay_writable_for_a_read_only_organization(client, world, case):
    response = send(client, world, case)
    detail = (str(case), response.status_code, peek(response))
    assert response.status_code != 402 and response.status_code < 500, detail


# --- (b) reads and exports keep working ----------------------------------------------------------
def test_only_the_reads_by_post_pass_the_read_only_check():
    """credex/writes.py lets these POSTs through; the pattern matches no other route."""
    from credex.writes import READS_BY_POST as PATTERN

    sample = str(uuid.UUID(int=1))
    matching = set()
    for route, pattern in ROUTES:
        path = "/" + re.sub(
            r"<(?:(\w+):)?\w+>", lambda m: "acme" if m[1] == "slug" else sample, route
        )
        if PATTERN.match(path):
            matching.add(pattern.name)
    assert matching == READS_BY_POST


@pytest.mark.django_db
@pytest.mark.parametrize("case", [c for c in WRITES if c.name in READS_BY_POST], ids=str)
def test_reads_by_post_keep_working_for_a_read_only_organization(client, world, case):
    response = send(client, world, case)
    assert response.status_code != 402 and response.status_code < 500, (
        str(case),
        response.status_code,
        peek(response),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("case", READS, ids=str)
def test_every_read_still_answers_for_a_read_only_organization(client, world, case):
    response = send(client, world, case)
    detail = (str(case), response.status_code, peek(response))
    if case.kind == "page" and (case.name, "GET") in html_matrix.ALLOWED_4XX:
        assert response.status_code == html_matrix.ALLOWED_4XX[(case.name, "GET")], detail
    elif case.kind == "api" and case.name in API_READ_4XX:
        assert response.status_code == API_READ_4XX[case.name], detail
    else:
        assert response.status_code < 400, detail


@pytest.mark.django_db
def test_exports_of_a_read_only_organization_carry_its_data(client, world):
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions["owner"]
    slug = world.a.org.slug
    audit = client.get(f"/o/{slug}/audit/export.csv")
    assert audit.status_code == 200
    assert b"billing.read_only_on" in b"".join(
        audit.streaming_content if audit.streaming else [audit.content]
    )
    providers = client.get("/api/v1/providers", HTTP_X_CREDEX_ORGANIZATION=slug)
    assert providers.status_code == 200 and providers.json()["results"]


@pytest.mark.django_db
def test_the_upload_page_of_a_read_only_organization_shows_without_its_form(client, world):
    token = world.ids["upload_token"]
    response = client.get(f"/u/{token}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "read-only" in page and 'enctype="multipart/form-data"' not in page
    release = client.get(f"/r/{world.ids['release_token']}/").content.decode()
    assert "read-only" in release and 'name="signer_name"' not in release


@pytest.mark.django_db
def test_the_payers_package_download_keeps_working(client, world):
    token = world.ids["share_token"]
    response = client.get(f"/p/{token}/download")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


# --- (c) scheduled and queued work ---------------------------------------------------------------
# Every tenant task (credex.celery.TenantTask) either skips a read-only organization (gated) or
# keeps running for it, and then says why (`runs_while_read_only=True` on its decorator).
GATED_TASKS = {
    "roster.import.run",
    "roster.inbox.generate",
    "verifications.extraction.run",
    "verifications.package.build",
    "verifications.packets.bulk_start",
    "exchange.listings.bulk",
    "exchange.listings.expire",
}
EXEMPT_TASKS = {
    "screening.run_org": "exclusion screening: patient safety does not wait for payment",
    "screening.run_provider": "exclusion screening of one provider (a new hire, a rename)",
    "nppes.refresh.org": "the NPPES check is screening's primary-source check (deactivations); "
    "it writes only checks, review items and PSV records, never the roster",
    "verifications.screening_records": "the PSV records of a screening run are its results",
    "roster.inbox.digest": "a reminder: reads the items there are, records only that it was sent",
    "exchange.standing.refresh": "a market rule protecting buyers: a lapsed seller's listings "
    "are paused whether or not it has paid",
    "billing.lifecycle.check": "billing's own: how the organization pays and is restored",
    "billing.seats.sync": "billing's own: the seat count the next invoice charges",
    "billing.invoices.issue": "billing's own: a read-only organization is still billed (the "
    "offline invoice records what it owes)",
    "exchange.membership.fee_renew": "billing's own: the next membership year is owed whether "
    "or not the member is past due (it stays a member)",
    "billing.payouts.run": "paying a seller what it earned is not a write on its data; holding "
    "its money because its own subscription is past due is not ours to do",
    "credex.tasks.count_members": "a read",
}
# The scheduled jobs that are not tenant tasks, and what each does with read-only organizations.
FANOUTS = {
    "roster.inbox.daily": "no generation for a read-only organization, only its digest",
    "exchange.listings.expire_daily": "writable organizations only",
    "nppes.refresh.nightly": "every organization (nppes.refresh.org is exempt)",
    "screening.monthly": "every organization (screening is exempt)",
    "exchange.standing.daily": "every approved member (exchange.standing.refresh is exempt)",
    "billing.lifecycle.daily": "billing's own",
    "billing.seats.reconcile": "billing's own",
    "billing.invoices.issue_monthly": "billing's own: every organization is invoiced",
    "exchange.membership.fees_daily": "every approved member (its fee_renew is exempt)",
    "billing.payouts.daily": "every seller with proceeds (billing.payouts.run is exempt)",
    "jobs.reconcile": "leaves a read-only organization's waiting jobs alone (screening's not)",
    "credex.tasks.heartbeat": "no organization",
}
SKIPPED = {"skipped": "billing_past_due"}


def project_tasks() -> dict:
    app.loader.import_default_modules()
    return {
        name: task for name, task in app.tasks.items() if not name.startswith(("celery.", "tests."))
    }


def test_every_task_is_gated_or_exempt_with_a_reason():
    tasks = project_tasks()
    tenant = {name for name, task in tasks.items() if isinstance(task, TenantTask)}
    assert tenant == GATED_TASKS | set(EXEMPT_TASKS), "classify the new tenant task here"
    assert set(tasks) - tenant == set(FANOUTS), "say what the new scheduled job does"
    for name in tenant:
        assert tasks[name].runs_while_read_only is (name in EXEMPT_TASKS), name


def _owner(world):
    member = world.a.membership(world.a.owner)
    member.organization = world.a.org
    return member


def _csv() -> bytes:
    """One valid roster row (tests/test_import.py), a provider named Waiting."""
    from tests.factories import valid_npi
    from tests.test_import import csv_bytes, row

    # A DO with no credential: the seeded organization requires a license document of MDs.
    blank = {c: "" for c in row(0) if c.startswith("credential_")}
    waiting = row(880_001, npi=valid_npi(880_001), last_name="Waiting", provider_type="DO")
    return csv_bytes([waiting | blank])


def _queued_import(world):
    from roster.models import ImportJob

    org = world.a.org
    with tenant_context(org):
        job = ImportJob(organization=org, created_by=_owner(world), original_name="late.csv")
        job.file.save("late.csv", ContentFile(_csv()), save=False)
        job.save()
    return {"job_id": str(job.pk)}


def _inbox_work(world):
    from roster.models import Credential

    org = world.a.org
    with tenant_context(org):
        Credential.objects.create(
            organization=org,
            provider_id=world.ids["provider_id"],
            kind="dea",
            number="AB1234563",
            expiry_date=timezone.localdate() + timedelta(days=10),
        )
    return {}


def _new_document(world):
    import hashlib

    from roster.models import Document

    org = world.a.org
    with tenant_context(org):
        doc = Document(
            organization=org,
            provider_id=world.ids["provider_id"],
            kind="license",
            original_name="late.pdf",
            content_type="application/pdf",
            size=len(PDF_BYTES),
            sha256=hashlib.sha256(PDF_BYTES).hexdigest(),
        )
        doc.file.save("late.pdf", ContentFile(PDF_BYTES), save=False)
        doc.save()
    return {"document_id": str(doc.pk)}


def _queued_package(world):
    from verifications.models import CredentialPackage

    org = world.a.org
    with tenant_context(org):
        package = CredentialPackage.objects.create(
            organization=org, provider_id=world.ids["provider_id"], requested_by=_owner(world)
        )
    return {"package_id": str(package.pk)}


def _bulk_packets(world):
    from tests.factories import make_provider

    due = timezone.localdate() + timedelta(days=30)
    make_provider(world.a.org, seed=880_002, recredentialing_due_date=due)
    return {
        "bulk_key": uuid.uuid4().hex,
        "actor_kind": "member",
        "actor_id": str(_owner(world).pk),
    }


def _queued_batch(world):
    from exchange.models import ListingBatch

    with tenant_context(world.a.org):
        batch = ListingBatch.objects.create(organization=world.a.org, requested_by=_owner(world))
    return {"batch_id": str(batch.pk)}


def _listing_past_expiry(world):
    from exchange.models import Listing

    with tenant_context(world.a.org):
        Listing.objects.filter(organization=world.a.org).update(
            status="live", expires_at=timezone.now() - timedelta(days=1)
        )
    return {}


# Each gated task with work it would do for a writable organization (the second half proves it).
WORK = {
    "roster.import.run": _queued_import,
    "roster.inbox.generate": _inbox_work,
    "verifications.extraction.run": _new_document,
    "verifications.package.build": _queued_package,
    "verifications.packets.bulk_start": _bulk_packets,
    "exchange.listings.bulk": _queued_batch,
    "exchange.listings.expire": _listing_past_expiry,
}


def test_every_gated_task_has_work_in_this_test():
    assert set(WORK) == GATED_TASKS


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(GATED_TASKS))
def test_a_gated_task_writes_nothing_for_a_read_only_organization_and_runs_once_paid(world, name):
    task = project_tasks()[name]
    org = world.a.org
    kwargs = {"org_id": str(org.pk), **WORK[name](world)}
    before = fingerprint(org)

    result = task(**kwargs)

    assert {k: result[k] for k in SKIPPED} == SKIPPED, result
    assert changes(before, fingerprint(org)) == {}, name
    resume(org)
    paid = fingerprint(org)
    result = task(**kwargs)
    assert not isinstance(result, dict) or result.get("skipped") != "billing_past_due", result
    if name == "roster.import.run":
        assert result["status"] == "done", result
    if name == "verifications.packets.bulk_start":
        assert result["started"] == 1, result
    assert changes(paid, fingerprint(org)) != {}, f"{name} wrote nothing once writes resumed"


@pytest.mark.django_db
def test_an_import_paused_while_its_file_was_checked_writes_nothing(world, monkeypatch):
    from roster import importer
    from roster.jobs.imports import import_run_task
    from roster.models import ImportJob, Provider

    org = world.a.org
    resume(org)
    kwargs = {"org_id": str(org.pk), **_queued_import(world)}
    check = importer.check

    def check_then_pause(*args, **kw):
        found = check(*args, **kw)
        # Billing pauses the organization while the worker is still checking rows.
        Organization.objects.filter(pk=org.pk).update(writes_paused_at=timezone.now())
        return found

    monkeypatch.setattr(importer, "check", check_then_pause)
    before = fingerprint(org)
    assert import_run_task(**kwargs)["skipped"] == "billing_past_due"
    assert changes(before, fingerprint(org)) == {}
    with tenant_context(org):
        assert ImportJob.objects.get(pk=kwargs["job_id"]).status == "queued"
        assert not Provider.objects.filter(last_name="Waiting").exists()


@pytest.mark.django_db
def test_an_import_queued_before_read_only_waits_and_runs_when_writes_resume(
    world, django_capture_on_commit_callbacks
):
    from credex.jobs import jobs_reconcile
    from roster.jobs.imports import import_run_task
    from roster.models import ImportJob, Provider
    from roster.services.imports import import_job_create

    org = world.a.org
    resume(org)
    with own_queue() as queue, published_tasks(queue) as published:
        with tenant_context(org):
            job = import_job_create(
                org=org,
                actor=_owner(world),
                csv_file=SimpleUploadedFile("late.csv", _csv()),
                run="queue",
            )
        assert [name for name, _ in published] == ["roster.import.run"]
        pause(org)
        # The worker takes the message after the organization became read-only.
        assert import_run_task(org_id=str(org.pk), job_id=str(job.pk))["skipped"]
        # The reconciler does not spend the waiting job's attempts or fail it.
        published.clear()
        summary = jobs_reconcile(now=timezone.now() + timedelta(hours=2))
        assert f"roster.import:{job.pk}" not in summary["requeued"] + summary["failed"]
        with tenant_context(org):
            waiting = ImportJob.objects.get(pk=job.pk)
            assert (waiting.status, waiting.attempts) == ("queued", 0)
            assert not Provider.objects.filter(last_name="Waiting").exists()
        published.clear()
        with django_capture_on_commit_callbacks(execute=True):
            resume(org)  # paid: the waiting job is published again at once
        sent = [(name, kw.get("job_id")) for name, kw in published]
    assert ("roster.import.run", str(job.pk)) in sent, sent
    assert import_run_task(org_id=str(org.pk), job_id=str(job.pk))["status"] == "done", in_org(
        org, lambda: ImportJob.objects.get(pk=job.pk).errors
    )
    with tenant_context(org):
        assert Provider.objects.filter(last_name="Waiting").count() == 1


@pytest.mark.django_db
def test_writes_resumed_sends_the_skipped_daily_work_at_once(
    world, django_capture_on_commit_callbacks
):
    org = world.a.org
    doc = _new_document(world)
    with own_queue() as queue, published_tasks(queue) as published:
        with django_capture_on_commit_callbacks(execute=True):
            resume(org)
    sent = {(name, kw.get("document_id")) for name, kw in published if kw["org_id"] == str(org.pk)}
    assert ("roster.inbox.generate", None) in sent, sent
    assert ("exchange.listings.expire", None) in sent, sent
    assert ("verifications.extraction.run", doc["document_id"]) in sent, sent


@pytest.mark.django_db
def test_the_daily_fan_outs_leave_a_read_only_organization_out_of_writing_work(world, settings):
    from exchange.models import MemberDirectory
    from exchange.tasks.listings import listings_expire_daily
    from roster.jobs.inbox import inbox_daily

    a, b = str(world.a.org.pk), str(world.b.org.pk)
    for org in (world.a.org, world.b.org):
        MemberDirectory.objects.create(member=org, display_name=org.name, status="approved")
    settings.INBOX_DIGEST_ENABLED = True
    with own_queue() as queue, published_tasks(queue) as published:
        inbox_daily(force=True)
        listings_expire_daily()
    sent = {(name, kw["org_id"]) for name, kw in published if kw.get("org_id") in (a, b)}
    assert sent == {
        ("roster.inbox.digest", a),  # the reminder still goes out, no items are generated
        ("roster.inbox.generate", b),  # chained with its digest
        ("exchange.listings.expire", b),
    }


@pytest.mark.django_db
def test_a_read_only_organizations_screening_runs_keep_being_reconciled(world):
    from credex.jobs import jobs_reconcile
    from screening.models import RunTrigger
    from screening.services import screening_run_request

    org = world.a.org
    with tenant_context(org):
        run = screening_run_request(
            org=org, actor=None, trigger=RunTrigger.SCHEDULE, publish_now=False
        )
    with own_queue() as queue, published_tasks(queue) as published:
        summary = jobs_reconcile(now=timezone.now() + timedelta(hours=2))
    assert f"screening.run:{run.pk}" in summary["requeued"]
    assert ("screening.run_org", str(run.pk)) in {(n, kw.get("run_id")) for n, kw in published}


@pytest.mark.django_db
def test_screening_keeps_running_and_writes_its_results_for_a_read_only_organization(world):
    from screening.loaders import active_version
    from screening.models import ScreeningResult, ScreeningRun
    from screening.tasks import monthly, run_org
    from tests.test_screening_runs import load_lists

    org = world.a.org
    if active_version("leie") is None and active_version("sam") is None:
        load_lists()  # global reference data, loaded the way platform staff load it
    queued = monthly(load=False)  # the monthly run queues one for the read-only org too
    with tenant_context(org):
        run = ScreeningRun.objects.get(organization=org, status="queued", trigger="schedule")
        results_before = ScreeningResult.objects.filter(organization=org).count()
    assert str(run.pk) in queued["queued"]
    before = fingerprint(org)
    done = run_org(org_id=str(org.pk), run_id=str(run.pk))
    assert done["status"] == "done", done
    assert changes(before, fingerprint(org)) != {}
    with tenant_context(org):
        assert ScreeningResult.objects.filter(organization=org).count() > results_before


@pytest.mark.django_db
def test_the_nppes_refresh_keeps_running_for_a_read_only_organization(world):
    from screening.nppes.models import NppesCheck
    from screening.nppes.tasks import refresh_org

    org = world.a.org
    with tenant_context(org):
        checks = NppesCheck.objects.filter(organization=org).count()
    result = refresh_org(org_id=str(org.pk), trigger="nightly")
    assert result["status"] == "done", result
    with tenant_context(org):
        assert NppesCheck.objects.filter(organization=org).count() > checks


# --- (d) paying restores writes at once ----------------------------------------------------------
RESTORED = [
    Case("api", "api_providers", "api/v1/providers", "POST", "owner"),
    Case("api", "api_providers", "api/v1/providers", "POST", "key"),
    Case("page", "organization_settings", ORG_PREFIX + "settings/", "POST"),
    Case("link", "upload_link_public", "u/<str:token>/", "POST"),
    Case("link", "release_public", "r/<str:token>/", "POST"),
    Case("link", "invitation_accept", "invitations/<str:token>/", "POST", "invitee"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("case", RESTORED, ids=str)
def test_paying_lets_the_same_write_through_at_once(client, world, case):
    assert case in WRITES
    assert_refused(send(client, world, case), case)
    resume(world.a.org)
    before = fingerprint(world.a.org)
    response = send(client, world, case)
    assert response.status_code < 400, (str(case), response.status_code, peek(response))
    assert "audit" in changes(before, fingerprint(world.a.org)), str(case)


@pytest.mark.django_db
def test_a_paid_invoice_through_the_signed_webhook_restores_writes_at_once(client, world, settings):
    from tests.test_billing_webhooks import SECRET, _customer, deliver, event, invoice

    settings.STRIPE_WEBHOOK_SECRET = SECRET
    case = RESTORED[0]
    assert_refused(send(client, world, case), case)
    _customer(world.a.org, customer="cus_readonly")
    paid = event(
        "invoice.paid",
        invoice("paid", customer="cus_readonly"),
        created=int(timezone.now().timestamp()),
    )
    assert deliver(Client(), paid).status_code == 200
    world.a.org.refresh_from_db()
    assert world.a.org.writes_paused_at is None
    response = send(client, world, case)
    assert response.status_code == 201, (response.status_code, peek(response))
