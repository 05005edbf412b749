"""Every HTML route that accepts a POST gets NUL bytes and 100 KB values in its form fields.

The URLconf is walked (everything but /api/, covered by test_fuzz_api.py, and the Django
admin); each route's parameters name real rows of org A, and the owner is logged in. Every
page that answers a GET is rendered, which must never be a 5xx either, and its <form>s (and
htmx hx-post buttons) are read, so each POST route gets the payload of the form that posts to
it: its fields with their rendered values. A route that answers a POST with 405 takes none; a
POST route no rendered form posts to gets an empty form and a single made-up field.

Then, for each form:
- "\\x00" in every field: a 400 (the central refusal, credex/hostile.py);
- 100 KB in every text field (text, email, search, url, tel, password, textarea): a 4xx, a
  re-rendered page or a redirect, never a 5xx;
and after either, no row of any tenant table of org A, no audit event, no organization and
no user was added or removed (audit events of reads and failed sign-ins aside). Year 1 in
every date field and a 30-digit number in every number field must not be a 5xx either. Each
request runs in a savepoint that is rolled back, so every route sees the same seeded
organization. Routes whose form only some state renders are listed in NO_RENDERED_FORM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.fuzz_seed import capture_exceptions, changed, last_line, no_internet, row_counts, seed

pytestmark = pytest.mark.django_db

BIG = "x" * 100_000
EXTREMES = {"date": "0001-01-01", "number": "9" * 30, "datetime-local": "0001-01-01T00:00"}
TEXT_TYPES = {"text", "email", "search", "url", "tel", "password", ""}
# The exchange operator's console answers 404 to members (this test signs in as one); its
# forms get the same hostile values in tests/test_exchange_operator.py.
SKIPPED_PREFIXES = ("api/", "admin/", "operator/")
# Route parameters that are not named after a row (allauth's keys, an export format).
PLAIN_PARAMETERS = {"fmt": "csv", "key": "x", "uidb36": "x", "job": "no-such-job"}
# Same parameter name, different row, by route.
ROUTE_PARAMETERS = {
    "screening_run": {"run_id": "screening_run_id"},
    "upload_link_public": {"token": "upload_token"},
    "package_share_public": {"token": "share_token"},
    "package_share_download": {"token": "share_token"},
    "invitation_accept": {"token": "invite_token"},
    "release_public": {"token": "release_token"},
}


# POST routes whose form the seeded organization does not render (the state that shows it is
# not there: a PSV element never requested, a package built, a review waiting for its notice)
# or that are a bare button. They get the empty POST and the NUL payload with a made-up field;
# a route missing here, or listed but now rendered, fails the test, so someone looks.
NO_RENDERED_FORM = {
    "committee_notified",
    "home",
    "inbox_undo",  # the Undo button is rendered only in the notice right after a resolve
    "package_share",
    "package_share_revoke",
    "packet_start",
    "provider_reveal",
    "psv_request_send",
    "screening_provider_sam_check",  # the button shows only with SAM_API_KEY configured
    # The exchange's forms that render only between two approved members: the seed's
    # organization is no approved member and its one order is a self-trade. Their hostile
    # bodies are posted in tests/test_exchange_purchases.py, test_exchange_aftertrade.py and
    # test_exchange_pricing.py.
    "exchange_buy",
    "exchange_order_dispute",
    "exchange_order_rate",
    "exchange_price_vote",
    # Stripe posts here, never a page; its hostile bodies (bad signatures, NUL bytes, 1 MB)
    # are in tests/test_billing_webhooks.py.
    "stripe_webhook",
    # The independent coordinator's rate card: the fuzzing owner is no independent coordinator
    # (403, no form rendered); its NUL, negative and huge rates: tests/test_billing_coordinator.py.
    "client_rates",
}


def third_party(name: str) -> bool:
    # allauth's pages: a signed-in owner is sent away from login and signup, and its key and
    # code confirmations need a flow in progress.
    return name.startswith(("account_", "mfa_"))


@pytest.fixture(autouse=True)
def _no_internet(settings):
    no_internet(settings)


# --- the URLconf --------------------------------------------------------------------------------
def walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and p.name:
            yield prefix + str(p.pattern), p.name


def parameter_names(route: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", route) + re.findall(r"\(\?P<(\w+)>", route)


def routes(ids: dict[str, str]) -> dict[str, str]:
    """{route name: a URL of it with real parameters}, every HTML route."""
    urls = {}
    for route, name in walk(get_resolver().url_patterns):
        if route.startswith(SKIPPED_PREFIXES) or name in urls:
            continue
        renamed = ROUTE_PARAMETERS.get(name, {})
        kwargs = {}
        for param in parameter_names(route):
            source = renamed.get(param, param)
            kwargs[param] = ids.get(source) or PLAIN_PARAMETERS.get(param, "x")
        urls[name] = reverse(name, kwargs=kwargs)
    return urls


# --- the forms a page renders ---------------------------------------------------------------------
@dataclass
class Form:
    action: str
    htmx: bool = False
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, kind)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def payloads(self):
        """The fields with each named submit button (or none), as a browser sends them."""
        base = [(n, v, k) for n, v, k in self.fields]
        for button in self.buttons or [None]:
            yield base + ([(button[0], button[1], "button")] if button else [])


class FormParser(HTMLParser):
    def __init__(self, page_path: str):
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: list | None = None
        self._select: list | None = None

    def _target(self, attrs, default=None):
        url = attrs.get("hx-post") or attrs.get("action") or default
        if url is None:
            return None
        url = urlsplit(url).path or self.page_path
        return url

    def handle_starttag(self, tag, attr_list):
        attrs = {k: (v or "") for k, v in attr_list}
        if tag == "form":
            if (attrs.get("method") or "get").lower() == "post" or "hx-post" in attrs:
                target = self._target(attrs, default=self.page_path)
                self._form = Form(action=target, htmx="hx-post" in attrs)
                self.forms.append(self._form)
            return
        if "hx-post" in attrs and self._form is None:
            # A button or link that posts by itself (htmx), outside any form.
            self.forms.append(Form(action=self._target(attrs), htmx=True))
            return
        form = self._form
        if form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "").lower()
            if kind in ("submit", "image", "button"):
                form.buttons.append((name, attrs.get("value", "")))
            elif kind == "file":
                pass
            elif kind in ("checkbox", "radio"):
                form.fields.append((name, attrs.get("value", "on"), kind))
            else:
                form.fields.append((name, attrs.get("value", ""), kind))
        elif tag == "button" and name:
            form.buttons.append((name, attrs.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = [name, []]
        elif tag == "select" and name:
            self._select = [name, None, None]  # name, first option, selected option
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            if self._select[1] is None:
                self._select[1] = value
            if "selected" in attrs:
                self._select[2] = value

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea[0], "".join(self._textarea[1]), "textarea"))
            self._textarea = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, first, selected = self._select
            self._form.fields.append(
                (name, selected if selected is not None else first or "", "select")
            )
            self._select = None


def forms_of(path: str, html: str) -> list[Form]:
    parser = FormParser(path)
    parser.feed(html)
    return parser.forms


# --- the walk ---------------------------------------------------------------------------------
@dataclass
class Finding:
    route: str
    what: str
    status: int
    detail: str = ""

    def __str__(self):
        return f"{self.route} [{self.what}] -> {self.status} {self.detail}".rstrip()


class Walker:
    def __init__(self, client, login, tenant):
        self.client, self.login, self.tenant = client, login, tenant
        # A 500 is a finding to report with the others, not an exception that stops the walk.
        client.raise_request_exception = False
        self.findings: list[Finding] = []
        self.errors: list[str] = []

    def _cause(self) -> str:
        return last_line(self.errors[-1]) if self.errors else ""

    def send(self, method: str, path: str, pairs=None, *, htmx=False, name="", what=""):
        """One request in a rolled-back savepoint; returns (status, body, what it changed)."""
        self.errors.clear()
        extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        with transaction.atomic():
            self.login(self.tenant.owner)
            before = row_counts(self.tenant.org)
            if method == "GET":
                response = self.client.get(path, **extra)
            else:
                body = urlencode([(n, v) for n, v, _ in pairs or []])
                response = self.client.post(
                    path, body, content_type="application/x-www-form-urlencoded", **extra
                )
            diff = changed(self.tenant.org, before, row_counts(self.tenant.org))
            transaction.set_rollback(True)
        if response.status_code >= 500:
            self.findings.append(Finding(name, what, response.status_code, self._cause()))
        return response, diff

    def page(self, name: str, path: str):
        response, _ = self.send("GET", path, name=name, what="GET")
        ctype = response.get("Content-Type", "")
        if response.status_code == 200 and ctype.startswith("text/html"):
            return forms_of(path, response.content.decode("utf-8", "replace"))
        return []

    def hostile(self, name: str, path: str, form: Form):
        for pairs in form.payloads():
            nul = [(n, f"{v}\x00", k) for n, v, k in pairs] or [("note", "\x00", "text")]
            response, diff = self.send("POST", path, nul, htmx=form.htmx, name=name, what="NUL")
            if response.status_code != 400 or diff:
                self.findings.append(
                    Finding(name, "NUL", response.status_code, f"wrote {diff}" if diff else "")
                )
            extreme = [(n, EXTREMES.get(k, v), k) for n, v, k in pairs]
            if extreme != pairs:
                # Year 1 and 30-digit numbers: never a 5xx (a write may be fine: 0001 is a date).
                self.send("POST", path, extreme, htmx=form.htmx, name=name, what="extremes")
            if not any(k in TEXT_TYPES or k == "textarea" for _, _, k in pairs):
                continue
            big = [(n, BIG if k in TEXT_TYPES or k == "textarea" else v, k) for n, v, k in pairs]
            response, diff = self.send("POST", path, big, htmx=form.htmx, name=name, what="100 KB")
            if diff and response.status_code < 500:
                self.findings.append(Finding(name, "100 KB", response.status_code, f"wrote {diff}"))


def test_every_html_form_refuses_nul_bytes_and_100_kb_values_without_a_5xx_or_a_write(
    tenant_a, tenant_b, client, login
):
    ids = seed(tenant_a)
    urls = routes(ids)
    walker = Walker(client, login, tenant_a)
    with capture_exceptions(walker.errors):
        forms: dict[str, list[Form]] = {}
        for name, path in urls.items():
            for form in walker.page(name, path):
                forms.setdefault(form.action, []).append(form)
        post_routes = {}
        for name, path in urls.items():
            response, _ = walker.send("POST", path, [], name=name, what="empty POST")
            if response.status_code != 405:
                post_routes[name] = path
                if path not in forms:
                    # A dialog or fragment the page loads with htmx.
                    for form in walker.page(name, path):
                        forms.setdefault(form.action, []).append(form)
        without_form = []
        for name, path in post_routes.items():
            found = forms.get(path) or []
            if not found:
                without_form.append(name)
                found = [Form(action=path)]
            # The same form rendered on several pages is fuzzed once.
            unique = {repr(f.fields) + repr(f.buttons) + str(f.htmx): f for f in found}
            for form in unique.values():
                walker.hostile(name, path, form)
    report = sorted({str(f) for f in walker.findings})
    assert not report, f"{len(report)} bad answers:\n" + "\n".join(report)
    assert len(post_routes) >= 60, sorted(post_routes)
    unexpected = {
        name for name in without_form if name not in NO_RENDERED_FORM and not third_party(name)
    }
    assert not unexpected, f"POST routes no rendered page posts to: {sorted(unexpected)}"
    stale = NO_RENDERED_FORM - set(without_form)
    assert not stale, f"These now render a form: take them out of NO_RENDERED_FORM: {stale}"
