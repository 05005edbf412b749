"""Every API route x every method its view serves x every kind of caller.

Routes come from `credex.urls.api_patterns`, so a new endpoint joins the matrix by itself.
The expected answer is computed from the view's `required_capabilities` and
`credex.capabilities.ROLE_CAPABILITIES`, never written down per route:

- anonymous: 401 (never 403);
- a member of org B naming org A in X-CredEx-Organization: 404 (not yours = does not exist);
- a role (session or API key) with the capability: 2xx, or a domain 4xx such as 409, but
  never 401/403/404;
- a role without it: 403, and nothing changed.
"""

from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLPattern
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from committee.models import CommitteeReview
from credex.capabilities import ROLE_CAPABILITIES
from credex.models import ApiKey, Invitation, Membership, Organization, Role
from credex.permissions import HasCapability
from credex.services import api_key_create, membership_invite
from credex.tenancy import tenant_context
from credex.urls import api_patterns
from enrollment.models import Enrollment, Payer, PayerContract
from roster.models import Credential, Document, ImportJob, InboxItem, Provider
from screening.models import ScreeningHit, ScreeningRun
from screening.nppes.models import NppesMismatch, NppesRun
from tests.conftest import build_tenant
from tests.matrix_parts import PARTS

SESSION_ROLES = ["owner", "admin", "coordinator", "auditor"]
KEY_ROLES = ["admin", "coordinator", "auditor"]  # an API key is never an owner
ACTORS = [*SESSION_ROLES, *(f"key:{r}" for r in KEY_ROLES), "outsider", "anonymous"]
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

# Methods that need a signed-in caller but no capability. Anything else must name one.
CAPABILITY_FREE = {("api_me", "GET")}
# Routes anyone may read without signing in (AllowAny, `public = True` on the view): the
# receipt keys, published so that anyone can check a receipt's signature.
PUBLIC_ROUTES = {"api_exchange_receipt_keys"}

# A valid body for each write; a new write endpoint fails below until it gets one here.
BODIES = {
    ("api_organization", "PATCH"): {"recredentialing_cycle_months": 24},
    ("api_member", "PATCH"): {"role": "auditor"},
    ("api_invitations", "POST"): {"email": "newcomer@example.com", "role": "coordinator"},
    ("api_keys_list", "POST"): {"name": "Matrix", "role": "auditor"},
    ("api_providers", "POST"): {
        "first_name": "Matrix",
        "last_name": "Provider",
        "provider_type": "MD",
        "npi": "1000004246",
    },
    ("api_provider", "PATCH"): {"status": "inactive"},
    ("api_provider_reveal", "POST"): {"field": "ssn", "reason": "matrix"},
    ("api_provider_credentials", "POST"): {"kind": "board_cert", "number": "B-1"},
    ("api_credential", "PATCH"): {"number": "L-2"},
    # enrollment area (ids: enrollment_ids below)
    ("api_payers", "POST"): {"name": "Matrix Plan"},
    ("api_payer", "PATCH"): {"contact_name": "Matrix Contact"},
    ("api_payer_contracts", "POST"): {"effective_date": "2026-01-01"},
    ("api_payer_contract", "PATCH"): {"fee_schedule_ref": "FS-MATRIX"},
    ("api_enrollments", "POST"): {
        "provider": "00000000-0000-4000-8000-00000000e001",
        "payer": "00000000-0000-4000-8000-00000000e002",
    },
    ("api_enrollment", "PATCH"): {"reference_number": "M-1"},
    ("api_enrollment_transition", "POST"): {"to": "in_preparation"},
    ("api_provider_committee_ready", "POST"): {},  # not ready (no requirements): 409
    ("api_committee_decision", "POST"): {"decision": "deferred", "decision_date": "2026-01-02"},
    ("api_committee_notified", "POST"): {},  # no decision yet: 409
    # NPPES (ids: nppes_ids below)
    ("api_nppes_mismatch_accept", "POST"): {},
    ("api_nppes_mismatch_dismiss", "POST"): {"note": "matrix"},
    ("api_nppes_refresh", "POST"): {},
    # exclusion screening (ids: screening_ids below)
    ("api_screening_runs", "POST"): {},
    ("api_screening_hit_confirm", "POST"): {"note": "matrix"},
    ("api_screening_hit_clear", "POST"): {"reason": "Different person", "evidence": "matrix"},
    # expiry inbox (ids: inbox_ids below)
    ("api_inbox_snooze", "POST"): {"days": 7},
    ("api_inbox_dismiss", "POST"): {"reason": "matrix"},
    ("api_inbox_resolve", "POST"): {},
    ("api_inbox_undo", "POST"): {},  # the item is open: nothing to undo, 409
    # imports and documents are multipart-only: a JSON body is refused (400/415) for allowed
    # callers, which still proves the capability check ran first.
    ("api_imports", "POST"): {},
    ("api_provider_documents", "POST"): {"kind": "cv"},
    ("api_documents_review", "POST"): {"decision": "reject", "reason": "matrix"},
}
for _part in PARTS:
    BODIES.update(_part.BODIES)
# POSTs that only read (an audited reveal): allowed, but they change no row.
READS_BY_POST = {("api_provider_reveal", "POST")}.union(*(p.READS_BY_POST for p in PARTS))


def routes() -> list[URLPattern]:
    assert api_patterns, "no API routes?"
    return list(api_patterns)


def view_of(route: URLPattern):
    return route.callback.view_class


def served_methods(route: URLPattern) -> list[str]:
    view = view_of(route)
    methods = [m for m in ALL_METHODS if hasattr(view, m.lower())]
    if "GET" in methods:
        methods.append("HEAD")  # Django serves HEAD with get()
    return [*methods, "OPTIONS"]


def required_capability(route: URLPattern, method: str) -> str | None:
    """The capability the view declares; HEAD and OPTIONS need what GET needs."""
    declared = view_of(route).required_capabilities
    if method in declared:
        return declared[method]
    if method in ("HEAD", "OPTIONS"):
        return declared.get("GET")
    raise AssertionError(f"{route.name} serves {method} without declaring a capability")


def expected(route: URLPattern, method: str, actor: str) -> str:
    if route.name in PUBLIC_ROUTES and actor != "outsider":
        # The outsider names org A in its header: the middleware answers 404 before the view.
        return "allowed"
    if actor == "anonymous":
        return "401"
    if actor == "outsider":
        return "404"
    capability = required_capability(route, method)
    role = actor.removeprefix("key:")
    if actor.startswith("key:") and getattr(view_of(route), "person_only", False):
        # The view acts for a signed-in person across their organizations (the independent
        # coordinator's invoice): a key acts for one organization, never for a person.
        return "403"
    if capability is None or capability in ROLE_CAPABILITIES[role]:
        return "allowed"
    return "403"


CASES = [
    pytest.param(route, method, actor, id=f"{method} {route.pattern} as {actor}")
    for route in routes()
    for method in served_methods(route)
    for actor in ACTORS
]


@pytest.fixture(autouse=True)
def _generous_throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


@pytest.fixture(scope="module")
def matrix_media(tmp_path_factory):
    return tmp_path_factory.mktemp("matrix-media")


@pytest.fixture(autouse=True)
def _matrix_media(settings, matrix_media):
    # The module's documents are stored once (in `world`); every case must find them.
    settings.MEDIA_ROOT = matrix_media


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, matrix_media):
    """Org A with a pending invitation, a key to revoke, and one API key per role; org B.

    Built once for the module inside a transaction that is rolled back at the end, the way
    TestCase.setUpTestData works: each test runs in a savepoint of it, so one caller's
    DELETE never leaks into the next case. (Per-test building made the file twice as slow.)
    """
    from django.test import override_settings

    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=matrix_media),
        transaction.atomic(),
    ):
        a = build_tenant("Acme Health", "a.example")
        b = build_tenant("Bayside Clinic", "b.example", roles=())
        owner = a.membership(a.owner)
        with tenant_context(a.org):
            invitation = membership_invite(
                org=a.org, actor=owner, email="pending@example.com", role=Role.COORDINATOR
            )
            target_key, _ = api_key_create(org=a.org, actor=owner, name="Target")
            raw_keys = {
                role: api_key_create(org=a.org, actor=owner, name=f"{role} key", role=role)[1]
                for role in KEY_ROLES
            }
        with tenant_context(b.org):
            _, raw_b = api_key_create(
                org=b.org, actor=b.membership(b.owner), name="B admin", role=Role.ADMIN
            )
        ids = {
            "member_id": a.membership(a.coordinator).pk,
            "invitation_id": invitation.pk,
            "key_id": target_key.pk,
            **roster_ids(a),
            **enrollment_ids(a),
            **nppes_ids(a),
            **inbox_ids(a),
            **document_ids(a),
            **screening_ids(a),
        }
        for part in PARTS:
            ids.update(part.ids(a, dict(ids)))
        # One signed-in session per person, reused by every case (logging in is not the
        # subject here, and it writes an audit event each time).
        people = {role: getattr(a, role) for role in SESSION_ROLES} | {"outsider": b.owner}
        sessions = {}
        for actor, user in people.items():
            browser = Client()
            browser.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
            sessions[actor] = browser.cookies[settings.SESSION_COOKIE_NAME].value
        yield SimpleNamespace(
            a=a, b=b, ids=ids, raw_keys=raw_keys, raw_key_b=raw_b, sessions=sessions
        )
        transaction.set_rollback(True)


def roster_ids(tenant) -> dict:
    """A provider (with DOB/SSN to reveal) and one of its credentials in org A."""
    from tests.factories import make_provider

    provider = make_provider(tenant.org, seed=4242)
    with tenant_context(tenant.org):
        from roster.services.providers import credential_create, provider_update

        owner = tenant.membership(tenant.owner)
        provider_update(org=tenant.org, actor=owner, provider=provider, ssn="900-12-3456")
        credential = credential_create(
            org=tenant.org, actor=owner, provider=provider, kind="state_license", state="CA"
        )
    return {"provider_id": provider.pk, "credential_id": credential.pk}


def enrollment_ids(tenant) -> dict:
    """A payer with a contract, an open enrollment and an undecided committee review in org
    A, plus a second provider and payer with the fixed ids the enrollment POST body names."""
    import uuid

    from enrollment.services import contract_create, enrollment_request, payer_create
    from tests.factories import make_provider

    owner = tenant.membership(tenant.owner)
    provider = make_provider(tenant.org, seed=4343)
    make_provider(tenant.org, seed=4344, id=uuid.UUID("00000000-0000-4000-8000-00000000e001"))
    with tenant_context(tenant.org):
        Payer.objects.create(
            organization=tenant.org, name="Matrix Fixed", id="00000000-0000-4000-8000-00000000e002"
        )
        payer = payer_create(org=tenant.org, actor=owner, name="Matrix Payer")
        contract = contract_create(
            org=tenant.org, actor=owner, payer=payer, effective_date=date(2025, 1, 1)
        )
        (enrollment,) = enrollment_request(
            org=tenant.org, actor=owner, provider=provider, payers=[payer]
        )
        review = CommitteeReview.objects.create(
            organization=tenant.org, provider=provider, cycle="initial", ready_marked_by=owner
        )
    return {
        "payer_id": payer.pk,
        "contract_id": contract.pk,
        "enrollment_id": enrollment.pk,
        "review_id": review.pk,
    }


def inbox_ids(tenant) -> dict:
    """One open inbox item and one finished import job in org A (leaf rows)."""
    from django.core.files.base import ContentFile

    with tenant_context(tenant.org):
        item = InboxItem.objects.create(
            organization=tenant.org,
            kind="contract_renewal",
            key="matrix:item",
            threshold_days=30,
            due_date=date(2030, 1, 1),
        )
        job = ImportJob(organization=tenant.org, original_name="matrix.csv", status="done")
        job.file.save("matrix.csv", ContentFile(b"npi\n"), save=False)
        job.save()
    return {"item_id": item.pk, "job_id": job.pk}


def document_ids(tenant) -> dict:
    """A document uploaded the production way in org A."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from roster.services.documents import document_upload
    from tests.factories import make_provider, pdf_bytes

    provider = make_provider(tenant.org, seed=4747)
    with tenant_context(tenant.org):
        doc = document_upload(
            org=tenant.org,
            actor=tenant.membership(tenant.owner),
            provider=provider,
            kind="license",
            file=SimpleUploadedFile("matrix.pdf", pdf_bytes()),
        )
    return {"document_id": doc.pk}


def nppes_ids(tenant) -> dict:
    """An open NPPES mismatch (acceptable: a credential text) and a finished run in org A."""
    from tests.factories import make_provider

    provider = make_provider(tenant.org, seed=4545)
    with tenant_context(tenant.org):
        mismatch = NppesMismatch.objects.create(
            organization=tenant.org,
            provider=provider,
            field="credential_text",
            our_value="MD",
            nppes_value="D.O.",
            nppes_value_hash="matrix",
            severity="low",
        )
        run = NppesRun.objects.create(organization=tenant.org, status="done", trigger="matrix")
    return {"mismatch_id": mismatch.pk, "run_id": run.pk}


def screening_ids(tenant) -> dict:
    """A finished screening run and a new hit in org A (tests/factories.populate_screening)."""
    from screening.models import ScreeningHit
    from tests.factories import make_provider, populate_screening

    provider = make_provider(tenant.org, seed=4646)
    with tenant_context(tenant.org):
        run = populate_screening(tenant.org, provider, tenant.membership(tenant.owner))
        run.status = "done"
        run.save()
        ScreeningHit.objects.filter(run=run).update(status="new", reviewed_by=None)
        hit = ScreeningHit.objects.get(run=run)
    return {"screening_run_id": run.pk, "hit_id": hit.pk}


def url_for(route: URLPattern, ids: dict) -> str:
    kwargs = route.pattern.converters
    missing = set(kwargs) - set(ids)
    assert not missing, f"{route.name}: give the matrix a real org A id for {missing}"
    path = str(route.pattern)
    for name, converter in kwargs.items():
        path = path.replace(
            f"<{type(converter).__name__.removesuffix('Converter').lower()}:{name}>", str(ids[name])
        )
    assert "<" not in path, path
    return f"/api/v1/{path}"


def snapshot(org) -> dict:
    """Org A's state that any API write could change (audit events aside)."""
    with tenant_context(org):
        return {
            "org": Organization.objects.filter(pk=org.pk)
            .values("name", "recredentialing_cycle_months", "require_mfa")
            .get(),
            "members": sorted(Membership.objects.values_list("id", "role")),
            "invitations": sorted(Invitation.objects.values_list("id", "revoked_at")),
            "keys": sorted(ApiKey.objects.values_list("id", "revoked_at")),
            "providers": sorted(Provider.objects.values_list("id", "updated_at")),
            "credentials": sorted(Credential.objects.values_list("id", "updated_at")),
            "payers": sorted(Payer.objects.values_list("id", "name", "contact_name")),
            "contracts": sorted(
                PayerContract.objects.values_list("id", "fee_schedule_ref", "renewal_date")
            ),
            "enrollments": sorted(Enrollment.objects.values_list("id", "status", "updated_at")),
            "reviews": sorted(CommitteeReview.objects.values_list("id", "decision", "notified_at")),
            "nppes_mismatches": sorted(NppesMismatch.objects.values_list("id", "status")),
            "nppes_runs": sorted(NppesRun.objects.values_list("id", "status")),
            "screening_runs": sorted(ScreeningRun.objects.values_list("id", "status")),
            "screening_hits": sorted(ScreeningHit.objects.values_list("id", "status")),
            "inbox": sorted(
                InboxItem.objects.values_list("id", "status", "snoozed_until", "resolution")
            ),
            "documents": sorted(Document.objects.values_list("id", "status", "reviewed_at")),
        } | {k: v for part in PARTS for k, v in part.snapshot(org).items()}


def request_as(client, world, actor: str, method: str, url: str, body):
    extra = {}
    if actor.startswith("key:"):
        extra["HTTP_AUTHORIZATION"] = f"Api-Key {world.raw_keys[actor.removeprefix('key:')]}"
    elif actor != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[actor]
        extra["HTTP_X_CREDEX_ORGANIZATION"] = world.a.org.slug
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, url, data, content_type="application/json", **extra)


@pytest.mark.django_db
@pytest.mark.parametrize("route,method,actor", CASES)
def test_every_api_route_answers_each_caller_as_the_capability_table_says(
    client, world, route, method, actor
):
    want = expected(route, method, actor)
    body = BODIES.get((route.name, method))
    assert body is not None or method not in {"POST", "PUT", "PATCH"}, (
        f"add a valid body for {method} {route.name} to BODIES"
    )
    url = url_for(route, world.ids)
    before = snapshot(world.a.org)

    response = request_as(client, world, actor, method, url, body)

    status = response.status_code
    detail = (method, url, actor, status, response.getvalue()[:300])
    if want == "allowed":
        assert status < 500 and status not in (401, 403, 404, 405), detail
        if method in WRITE_METHODS and status < 300 and (route.name, method) not in READS_BY_POST:
            assert snapshot(world.a.org) != before, f"an allowed write changed nothing: {detail}"
    else:
        assert str(status) == want, detail
    if status >= 400 and method != "HEAD":
        assert set(response.json()) == {"code", "message", "details"}, detail
    if want != "allowed" or method not in WRITE_METHODS:
        assert snapshot(world.a.org) == before, f"state changed: {detail}"


ID_CASES = [
    pytest.param(route, method, id=f"{method} {route.pattern}")
    for route in routes()
    if route.pattern.converters
    for method in served_methods(route)
    if method != "OPTIONS"  # describes the endpoint; looks up no object
]


@pytest.mark.django_db
@pytest.mark.parametrize("route,method", ID_CASES)
def test_an_admin_key_of_org_b_gets_404_for_every_org_a_id(client, world, route, method):
    url = url_for(route, world.ids)
    before = snapshot(world.a.org)
    body = BODIES.get((route.name, method))
    response = client.generic(
        method,
        url,
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {world.raw_key_b}",
    )
    assert response.status_code == 404, (method, url, response.getvalue()[:300])
    assert snapshot(world.a.org) == before


UNSERVED = [
    pytest.param(route, method, id=f"{method} {route.pattern}")
    for route in routes()
    for method in ALL_METHODS
    if method not in served_methods(route)
]


@pytest.mark.django_db
@pytest.mark.parametrize("route,method", UNSERVED)
def test_a_method_a_route_does_not_serve_is_405_for_the_owner_and_401_for_anonymous(
    client, world, route, method
):
    url = url_for(route, world.ids)
    before = snapshot(world.a.org)
    anonymous = 405 if route.name in PUBLIC_ROUTES else 401
    assert request_as(client, world, "anonymous", method, url, {}).status_code == anonymous
    response = request_as(client, world, "owner", method, url, {})
    assert response.status_code == 405, (method, url, response.getvalue()[:300])
    assert response.json()["code"] == "method_not_allowed"
    assert snapshot(world.a.org) == before


@pytest.mark.parametrize("route", routes(), ids=lambda r: str(r.pattern))
def test_every_api_route_declares_a_known_capability_for_every_method_it_serves(route):
    view = view_of(route)
    assert issubclass(view, APIView), route.name
    if route.name in PUBLIC_ROUTES:
        assert getattr(view, "public", False), route.name
        assert set(served_methods(route)) <= {"GET", "HEAD", "OPTIONS"}, route.name
        return
    assert not getattr(view, "public", False), f"{route.name} is public: add it to PUBLIC_ROUTES"
    assert HasCapability in [type(p) for p in view().get_permissions()], route.name
    known = set().union(*ROLE_CAPABILITIES.values())
    for method in served_methods(route):
        capability = required_capability(route, method)
        if method == "OPTIONS" and "GET" not in served_methods(route):
            continue  # describes the endpoint only; see credex.permissions.capability_for
        if capability is None:
            assert (
                route.name,
                "GET" if method in ("HEAD", "OPTIONS") else method,
            ) in CAPABILITY_FREE, f"{route.name} {method} needs no capability: say why"
        else:
            assert capability in known, f"{route.name} {method}: unknown {capability!r}"


def test_a_method_served_but_not_declared_is_refused_to_everyone():
    class Forgetful(APIView):
        required_capabilities = {"GET": "org.view"}

        def get(self, request):
            raise AssertionError("not reached for POST")

        def post(self, request):
            raise AssertionError("a forgotten declaration must not open the method")

    request = APIRequestFactory().post("/api/v1/forgetful", {}, format="json")
    force_authenticate(request, user=SimpleNamespace(is_authenticated=True, pk=1))
    request.api_key = request.membership = None
    response = Forgetful.as_view()(request)
    assert response.status_code == 403
    assert response.data["code"] == "capability_undeclared"
