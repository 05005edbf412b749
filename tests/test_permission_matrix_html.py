"""Every HTML route x GET and POST x every kind of caller (issue 11, item 6).

The twin of tests/test_permission_matrix.py for the server-rendered pages. Routes come from
the URLconf: every route under /o/<slug>/ is walked by itself, so a new page joins the matrix
without anyone listing it; every other route must be named in NOT_WALKED with a reason, or
`test_every_html_route_is_walked_or_classified` fails.

The expected answer is computed, never written down per route:

- the capability a page needs is the one its view declares with
  `credex.views.capability_required` (the decorator leaves it on the URLconf's callback as
  `required_capability`); a page under /o/ without one fails;
- a POST that needs more than its page is checked inside the view; STRICTER_POST says which
  capability (constants of credex/capabilities.py), and the matrix proves the view enforces it;
- the methods a route serves are the ones its `require_http_methods` decorator lists;
- whether a role holds a capability is `credex.capabilities.ROLE_CAPABILITIES`.

Then, for the owner, admin, coordinator and auditor of org A, the owner of org B (outsider)
and an anonymous visitor:
- anonymous: a redirect to the sign-in page;
- outsider: 404 (not yours = does not exist), and org B's owner naming org A's ids under its
  own organization: 404 too;
- a role with the capability: a GET answers below 400, a POST neither 401/403/404/405 nor 5xx;
- a role without it: 403;
- a method the route does not serve: 405;
and after every refusal (and every GET that is not a page of a role allowed to read), nothing
of org A changed: a fingerprint of every tenant table's rows, org A's row and its audit head.

A POST carries the form the owner's rendered pages post to that route (fields with their
rendered values, as a browser sends them), so a refused POST is the request an allowed member
would make, not an empty body that would change nothing anyway.

One seeded organization (tests/fuzz_seed.py) serves every case: it is built once per module
in a transaction that is rolled back at the end, and each case runs in a savepoint of it.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from credex import capabilities as cap
from credex.capabilities import ROLE_CAPABILITIES
from credex.tenancy import tenant_context
from credex.urls import urlpatterns
from tests.conftest import build_tenant
from tests.fuzz_seed import no_internet, seed, tenant_models
from tests.test_fuzz_forms import forms_of

ROLES = ["owner", "admin", "coordinator", "auditor"]
ACTORS = [*ROLES, "outsider", "anonymous"]
METHODS = ["GET", "POST"]
ORG_PREFIX = "o/<slug:org_slug>/"

# --- routes outside an organization: not walked, each with why -----------------------------------
# Prefixes first (whole third-party or other-matrix areas), then single routes by name.
NOT_WALKED_PREFIXES = {
    "api/": "the API: tests/test_permission_matrix.py walks it the same way",
    "admin/": "Django admin: platform staff only (is_staff), not a member role",
    "accounts/": "allauth's sign-in, sign-up, password and MFA pages: no organization",
}
NOT_WALKED = {
    "operator_home": "exchange operator console: platform staff, not a member role "
    "(tests/test_exchange_operator.py walks it for operator, member and anonymous)",
    "operator_rates": "exchange operator console (tests/test_exchange_operator.py)",
    "operator_disputes": "exchange operator console (tests/test_exchange_operator.py)",
    "operator_application": "exchange operator console (tests/test_exchange_operator.py)",
    "operator_approve": "exchange operator console (tests/test_exchange_operator.py)",
    "operator_reject": "exchange operator console (tests/test_exchange_operator.py)",
    "operator_request_info": "exchange operator console (tests/test_exchange_operator.py)",
    "operator_suspend": "exchange operator console (tests/test_exchange_operator.py)",
    "operator_reinstate": "exchange operator console (tests/test_exchange_operator.py)",
    "operator_evidence": "exchange operator console (tests/test_exchange_operator.py)",
    "operator_standing": "exchange operator console (tests/test_exchange_operator.py)",
    "operator_volume": "exchange operator console (tests/test_exchange_operator.py)",
    "operator_ledger": "exchange operator console (tests/test_exchange_operator.py)",
    "home": "the signed-in user's organizations (or a redirect to the only one): no capability",
    "healthz": "liveness probe: no session, no organization",
    "stripe_webhook": "Stripe's webhook: the signature is the credential (test_billing_webhooks)",
    "organization_new": "any signed-in user may create an organization (test_core)",
    "cross_org_expiring": "the user's own memberships across organizations (test_dashboard)",
    "client_invoice": "an independent coordinator's invoice across her client organizations: "
    "coordinator in two or more, everyone else 403 (test_billing_coordinator)",
    "client_invoice_export": "its CSV and PDF (test_billing_coordinator)",
    "client_rates": "her rate card (POST; test_billing_coordinator)",
    "invitation_accept": "public signed link: the token is the credential (test_members)",
    "upload_link_public": "public signed link for a provider (test_documents)",
    "package_share_public": "public signed link for a payer contact (test_package_shares)",
    "package_share_download": "public signed link for a payer contact (test_package_shares)",
    "release_public": "public signed link for a clinician (test_exchange_releases)",
    "pricing": "the public pricing page: anyone may read it, GET only (test_billing_payouts)",
}

# POSTs that need more than the capability their page declares: checked inside the view.
STRICTER_POST = {
    "organization_settings": cap.CHANGE_SETTINGS,
    "exchange_listings": cap.TRADE_EXCHANGE,
    "exchange_requirements": cap.MANAGE_EXCHANGE,
    "exchange_membership": cap.MANAGE_EXCHANGE,
    "members": cap.MANAGE_MEMBERS,
    "provider_requirements": cap.CHANGE_SETTINGS,
    "provider_requirements_type": cap.CHANGE_SETTINGS,
    "provider_documents": cap.CHANGE_ROSTER,
    "imports": cap.CHANGE_ROSTER,
    "payer_detail": cap.CHANGE_ROSTER,
    "committee_review": cap.CHANGE_ROSTER,
    "payer_contacts": cap.CHANGE_ROSTER,
    "screening_provider_history": cap.CHANGE_ROSTER,
    "packets_bulk": cap.CHANGE_ROSTER,
    # POST-only routes whose decorator says VIEW_ROSTER and whose body requires CHANGE_ROSTER
    "screening_run_start": cap.CHANGE_ROSTER,
    "screening_hit_confirm": cap.CHANGE_ROSTER,
    "screening_hit_clear": cap.CHANGE_ROSTER,
    "screening_provider_sam_check": cap.CHANGE_ROSTER,
    "packet_start": cap.CHANGE_ROSTER,
    "packet_cancel": cap.CHANGE_ROSTER,
}

# Forms whose rendered values are not a valid submission (an empty invitation, a blank payer):
# the body an allowed member would send, so the refused POST is a write that would happen.
# `test_a_valid_body_writes_for_the_owner` proves each one writes.
BODIES = {
    "members": lambda ids: {"email": "matrix@example.com", "role": "coordinator"},
    "api_keys": lambda ids: {"name": "Matrix key", "role": "auditor"},
    "provider_reveal": lambda ids: {"field": "ssn", "reason": "matrix"},
    "payer_new": lambda ids: {"name": "Matrix Plan"},
    "enrollment_note": lambda ids: {"note_text": "matrix"},
    "payer_contacts": lambda ids: {
        "payer": ids["payer_id"],
        "name": "Matrix Contact",
        "email": "matrix@payer.example",
    },
    "screening_hit_clear": lambda ids: {"reason": "Different person", "evidence": "matrix"},
}

# Route parameters that are not named after a row, and parameters whose seed name differs.
PLAIN_PARAMETERS = {"fmt": "csv", "job": "no-such-job", "provider_type": "MD"}
ROUTE_PARAMETERS = {"screening_run": {"run_id": "screening_run_id"}}
NOT_AN_ID = {"org_slug", *PLAIN_PARAMETERS}

# Query strings a page needs to answer at all (without one it is a 400 for everyone).
QUERY = {"nppes_lookup": {"npi": "1234567893"}}  # a valid NPI; the registry is unreachable here

# Allowed answers that are 4xx by the seeded state, not by permission.
ALLOWED_4XX = {
    ("packets_bulk_status", "GET"): 404,  # no bulk start is running under the made-up job key
    ("exchange_release_document", "GET"): 404,  # the seeded release has no document on file
}


# --- the URLconf ---------------------------------------------------------------------------------
def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def all_routes() -> list[tuple[str, URLPattern]]:
    found = list(_walk(urlpatterns))
    assert len(found) > 100, "the URLconf walk found almost nothing"
    return found


def org_routes() -> list[tuple[str, URLPattern]]:
    return [(route, p) for route, p in all_routes() if route.startswith(ORG_PREFIX)]


def parameter_names(route: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", route) + re.findall(r"\(\?P<(\w+)>", route)


def _chain(view):
    while view is not None:
        yield view
        view = getattr(view, "__wrapped__", None)


def served_methods(pattern: URLPattern) -> list[str]:
    """The methods of the outermost require_http_methods (Django's own decorator keeps the list
    in its closure); a view without one serves every method."""
    for fn in _chain(pattern.callback):
        names = fn.__code__.co_freevars if hasattr(fn, "__code__") else ()
        if "request_method_list" in names:
            cell = fn.__closure__[names.index("request_method_list")]
            return [m for m in METHODS if m in cell.cell_contents]
    return list(METHODS)


def declared_capability(pattern: URLPattern) -> str | None:
    return getattr(pattern.callback, "required_capability", None)


def required_capability(pattern: URLPattern, method: str) -> str:
    if method == "POST" and pattern.name in STRICTER_POST:
        return STRICTER_POST[pattern.name]
    capability = declared_capability(pattern)
    assert capability, f"{pattern.name}: an organization page must use @capability_required"
    return capability


def expected(pattern: URLPattern, method: str, actor: str) -> str:
    if actor == "anonymous":
        return "login"
    if actor == "outsider":
        return "404"
    if method not in served_methods(pattern):
        return "405"
    if required_capability(pattern, method) in ROLE_CAPABILITIES[actor]:
        return "allowed"
    return "403"


CASES = [
    pytest.param(pattern, method, actor, id=f"{method} {pattern.name} as {actor}")
    for _, pattern in org_routes()
    for method in METHODS
    for actor in ACTORS
]

ID_CASES = [
    pytest.param(route, pattern, method, id=f"{method} {pattern.name}")
    for route, pattern in org_routes()
    if set(parameter_names(route)) - NOT_AN_ID
    for method in served_methods(pattern)
]


# --- the classification --------------------------------------------------------------------------
def test_every_html_route_is_walked_or_classified():
    """A new route outside /o/ fails here until someone says why the matrix does not walk it."""
    names = set()
    unclassified = []
    for route, pattern in all_routes():
        if route.startswith(ORG_PREFIX) or route.startswith(tuple(NOT_WALKED_PREFIXES)):
            continue
        names.add(pattern.name)
        if pattern.name not in NOT_WALKED:
            unclassified.append(f"{pattern.name} ({route})")
    assert unclassified == [], "walk these routes or classify them in NOT_WALKED"
    assert set(NOT_WALKED) - names == set(), "these names are not routes any more"
    org_names = {p.name for _, p in org_routes()}
    assert set(STRICTER_POST) - org_names == set(), "STRICTER_POST names a route that is gone"
    assert set(NOT_WALKED) & org_names == set(), "an organization page is walked, not skipped"


@pytest.mark.parametrize("pattern", [p for _, p in org_routes()], ids=lambda p: p.name)
def test_every_organization_page_declares_a_known_capability(pattern):
    known = set().union(*ROLE_CAPABILITIES.values())
    assert declared_capability(pattern) in known, (
        f"{pattern.name}: decorate the view with credex.views.capability_required"
    )
    if pattern.name in STRICTER_POST:
        assert "POST" in served_methods(pattern), f"{pattern.name} serves no POST"
        assert STRICTER_POST[pattern.name] in known


# --- the seeded organization ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def matrix_media(tmp_path_factory):
    return tmp_path_factory.mktemp("html-matrix-media")


@pytest.fixture(autouse=True)
def _matrix_settings(settings, matrix_media):
    settings.MEDIA_ROOT = matrix_media  # the seeded documents live here for every case
    no_internet(settings)
    settings.NPPES_MAX_RETRIES = 0  # the unreachable registry answers the lookup page at once
    settings.NPPES_BACKOFF_SECONDS = 0


def url_of(route: str, pattern: URLPattern, ids: dict, org_slug: str) -> str:
    renamed = ROUTE_PARAMETERS.get(pattern.name, {})
    kwargs = {}
    for param in parameter_names(route):
        if param == "org_slug":
            kwargs[param] = org_slug
        elif param in PLAIN_PARAMETERS:
            kwargs[param] = PLAIN_PARAMETERS[param]
        else:
            source = renamed.get(param, param)
            assert source in ids, f"{pattern.name}: tests/fuzz_seed.seed gives no {source}"
            kwargs[param] = ids[source]
    url = reverse(pattern.name, kwargs=kwargs)
    return f"{url}?{urlencode(QUERY[pattern.name])}" if pattern.name in QUERY else url


def _session(user) -> str:
    browser = Client()
    browser.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


def _harvest_forms(owner_session: str, urls: dict[str, str]) -> dict[str, list]:
    """{path: the (name, value) pairs of the first form posting there}, from every page the
    owner can GET (each GET in a rolled-back savepoint)."""
    browser = Client()
    browser.cookies[settings.SESSION_COOKIE_NAME] = owner_session
    bodies: dict[str, list] = {}
    for path in urls.values():
        with transaction.atomic():
            response = browser.get(path)
            transaction.set_rollback(True)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith(
            "text/html"
        ):
            continue
        for form in forms_of(path, response.content.decode("utf-8", "replace")):
            pairs = next(iter(form.payloads()))
            bodies.setdefault(form.action, [(n, v) for n, v, _ in pairs])
    return bodies


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, matrix_media):
    from django.test import override_settings

    # Marked like a TestCase's own block (which never commits): audit events recorded inside
    # it are sealed into the table as the code's own blocks end, so the fingerprint sees them
    # (credex/pgbackend/base.py).
    outer = transaction.atomic()
    outer._from_testcase = True
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=matrix_media), outer:
        a = build_tenant("Acme Health", "a.example")
        b = build_tenant("Bayside Clinic", "b.example", roles=())
        ids = seed(a)
        sessions = {role: _session(getattr(a, role)) for role in ROLES}
        sessions["outsider"] = _session(b.owner)
        urls = {p.name: url_of(r, p, ids, a.org.slug) for r, p in org_routes()}
        foreign = {p.name: url_of(r, p, ids, b.org.slug) for r, p in org_routes()}
        bodies = _harvest_forms(sessions["owner"], urls)
        bodies |= {urls[name]: list(build(ids).items()) for name, build in BODIES.items()}
        yield SimpleNamespace(
            a=a, b=b, ids=ids, sessions=sessions, urls=urls, foreign=foreign, bodies=bodies
        )
        transaction.set_rollback(True)


def fingerprint(org) -> dict:
    """Every row of org A's tenant tables (a digest per table), org A's row and its audit head,
    in one query."""
    parts, params = [], []
    for model in tenant_models():
        table = connection.ops.quote_name(model._meta.db_table)
        parts.append(
            f"SELECT %s, count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
            f" FROM {table} t WHERE t.organization_id = %s"
        )
        params += [model._meta.label, org.pk]
    parts.append(
        "SELECT 'organization', 1, md5(o::text) FROM credex_organization o WHERE o.id = %s"
    )
    params.append(org.pk)
    parts.append(
        "SELECT 'audit', count(*), coalesce(max(seq), 0)::text FROM audit_auditevent"
        " WHERE organization_id = %s"
    )
    params.append(org.pk)
    with tenant_context(org), connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        found = {label: (count, digest) for label, count, digest in cursor.fetchall()}
    # Events recorded but not sealed yet (a block of the code's own is still open).
    return found | {"audit pending": (len(connection.audit_pending), "")}


def _changes(before: dict, after: dict) -> dict:
    return {k: (before[k], after.get(k)) for k in before if before[k] != after.get(k)}


def request_as(client, world, actor: str, method: str, url: str, name: str, body=None):
    """GET the URL, or POST it the form the owner's pages post to route `name` in org A."""
    if actor != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[actor]
    if method == "GET":
        return client.get(url)
    body = urlencode(body if body is not None else world.bodies.get(world.urls[name], []))
    return client.post(url, body, content_type="application/x-www-form-urlencoded")


# --- the matrix ----------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("pattern,method,actor", CASES)
def test_every_html_route_answers_each_caller_as_the_capability_table_says(
    client, world, pattern, method, actor
):
    want = expected(pattern, method, actor)
    url = world.urls[pattern.name]
    checks_state = want != "allowed"  # an allowed GET may record a read; a POST may write
    before = fingerprint(world.a.org) if checks_state else None

    response = request_as(client, world, actor, method, url, pattern.name)

    status = response.status_code
    detail = (method, url, actor, status)
    if want == "login":
        assert status == 302, detail
        assert response["Location"].startswith(reverse(settings.LOGIN_URL)), detail
    elif want == "allowed":
        if (pattern.name, method) in ALLOWED_4XX:
            assert status == ALLOWED_4XX[(pattern.name, method)], detail
        elif method == "GET":
            assert status < 400, detail
        else:
            assert status < 500 and status not in (401, 403, 404, 405), detail
    else:
        assert str(status) == want, detail
    if checks_state:
        assert _changes(before, fingerprint(world.a.org)) == {}, f"state changed: {detail}"


@pytest.mark.django_db
@pytest.mark.parametrize("route,pattern,method", ID_CASES)
def test_org_b_owner_naming_org_a_ids_under_org_b_gets_404_and_changes_nothing(
    client, world, route, pattern, method
):
    """The owner holds every capability, so only the ids can refuse: not yours = not found."""
    url = world.foreign[pattern.name]
    before = fingerprint(world.a.org)
    response = request_as(client, world, "outsider", method, url, pattern.name)
    assert response.status_code == 404, (method, url, response.status_code)
    assert _changes(before, fingerprint(world.a.org)) == {}


@pytest.mark.django_db
def test_the_matrix_posts_rendered_forms(world):
    """The harvest works (a broken one would make every refused POST an empty body)."""
    posted = {name for name, url in world.urls.items() if url in world.bodies}
    assert len(posted) >= 40, sorted(posted)
    assert {"members", "organization_settings", "provider_edit"} <= posted


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(BODIES))
def test_a_valid_body_writes_for_the_owner(client, world, name):
    """The owner's POST of the body the matrix sends changes the fingerprint: the body is a real
    submission, and the fingerprint sees writes (a blind one would make every "nothing changed"
    above pass vacuously)."""
    before = fingerprint(world.a.org)
    response = request_as(client, world, "owner", "POST", world.urls[name], name)
    assert response.status_code < 400, (name, response.status_code, response.content[:300])
    changes = _changes(before, fingerprint(world.a.org))
    assert "audit" in changes, (name, changes)
