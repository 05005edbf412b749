"""Signed links for people without an account: one framework, one spec per kind of link.

A provider's upload link (roster), a payer's package share (verifications) and, next, the
exchange's clinician release e-signature are the same thing: a row of a tenant table with
`expires_at` and `revoked_at`, reached through a signed token that names the organization and
the row. The token is the only credential. An app declares a `LinkSpec` beside its services and
registers it; this module knows no app.

- token: `signing.dumps({"org": <org id>, <spec.id_key>: <row id>}, salt=spec.salt)`, the
  format both kinds of link have always used, so addresses already sent keep working;
- state: revoked, expired (the row's own lifetime, and for specs with `signature_expires` the
  signature's age too), or a spec's own reason (`refuse`), else active;
- `@signed_link_view(spec)`: opens the token, counts invalid tries per address and every
  request per link (hourly), records a refusal or the visit through the spec's callbacks,
  enters the organization's scope once (one transaction) for all of that and the view, and
  answers a refusal with the one set of pages in templates/links/refused.html (402 for a
  write while the organization is read-only for billing);
- `link_create` / `link_revoke` write the row; the app's service around them audits its own
  event types (stored data: they do not change).

The refusal statuses: 410 for a link that worked and no longer does (expired, revoked, a
spec's own reason), 429 past a limit, and `INVALID_STATUS` for a token that was never valid.

Billing read-only (credex/writes.py): a link of a read-only organization still opens and
shows its page (a read; the view is told through `OpenLink.read_only` and leaves its form
out), but a write through it (an upload, a signature: any unsafe method) answers 402 with
the one refusal page, before the view, and writes nothing. A payer's download is a GET and
keeps working. The page tells the link's holder, who is not the organization's customer, that
the organization cannot take anything through the link for now, not why.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import models
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from audit.services import Actor
from credex.errors import DomainError, InvalidInput
from credex.tenancy import tenant_context
from credex.writes import SAFE_METHODS, writes_paused

# A token that was never valid (tampered, truncated, another salt, unknown row): no such link,
# 404. (Before the framework both pages answered 400.)
INVALID_STATUS = 404
GONE_STATUS = 410
THROTTLED_STATUS = 429
READ_ONLY_STATUS = 402  # the organization is read-only for billing (credex/writes.py)

REFUSAL_TEMPLATE = "links/refused.html"
TITLES = {
    "invalid": "This link is not valid",
    "expired": "This link has expired",
    "revoked": "This link was withdrawn",
    "throttled": "Please wait",
    "read_only": "This link cannot take anything right now",
    # A service found the link gone between the open and its write (revoked meanwhile).
    "": "This link no longer works",
}
READ_ONLY_MESSAGE = (
    "{org}'s CredEx account is read-only for the moment, so nothing can be sent or signed "
    "through this link now. Nothing was sent or changed."
)
READ_ONLY_NOTICE = (
    "{org}'s CredEx account is read-only for the moment, so nothing can be sent or signed "
    "through this link now. Your link keeps working: come back in a few days, or contact {org} "
    "if it is urgent."
)
READ_ONLY_HELP = (
    "Your link keeps working: try again in a few days, or contact {org} if it is urgent. "
    "What you sent before is kept."
)
INVALID_HELP = (
    "Links are long: if you copied it by hand, copy it again from the e-mail in one piece. "
    "If it still does not work, ask the sender for a new link."
)
TOO_MANY_INVALID = "Too many attempts. Wait an hour and try again."
TOO_MANY_ON_LINK = (
    "This link has been used many times in the last hour. Wait a while and try again."
)
# Filled into the texts when the token names no organization that exists.
UNKNOWN_SENDER = "the organization that sent it"
UNKNOWN_SENDER_START = "The organization that sent the link"


# --- the spec ------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class LinkTexts:
    """What a link's refusal pages say. `{org}` is the sending organization's name;
    `{expires}` the row's expiry, in the current time zone (e.g. `{expires:%d %B %Y}`)."""

    eyebrow: str  # the small heading over every page of the link
    invalid: str  # a bad signature (tampered, truncated, another kind of token)
    unknown: str  # an authentic token naming an organization or row that does not exist
    expired: str
    revoked: str
    gone_help: str  # the paragraph under a 410's message; {org} starts the sentence
    # A spec's own refusals (see LinkSpec.refuse): reason -> (title, message).
    other: Mapping[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, eq=False)
class LinkSpec:
    """One kind of signed link. The model is a TenantModel with `expires_at`, `revoked_at` and
    `created_by` (optionally `revoked_by`); the token names the organization, whose scope is
    the only one the link ever enters.

    Rate limits per hour are overridable in settings, by name: `<NAME>_REQUESTS_PER_HOUR` (per
    link) and `INVALID_<NAME>_REQUESTS_PER_HOUR` (per address, tokens that are not valid).
    """

    name: str  # "upload_link": error codes, throttle keys, setting names
    salt: str
    model: type[models.Model]
    id_key: str  # the token's key for the row id ("link", "share")
    url_name: str  # the public page; reverse(url_name, args=[token])
    lifetime_setting: str  # settings name: default and longest lifetime in days
    actor_kind: str  # audit.models.ActorKind value for events the link's holder causes
    actor_label: Callable[[Any], str]  # row -> the label in audit events
    # Called inside the link's scope: (org, row) when an active link's page is opened (GET),
    # (org, row, reason) when a link that is gone is opened. Each audits the app's own event.
    record_visit: Callable[[Any, Any], None]
    record_refusal: Callable[[Any, Any, str], None]
    texts: LinkTexts
    select_related: tuple[str, ...] = ()
    # Also refuse a token whose signature is older than the lifetime setting (upload links:
    # a row's lifetime never exceeds it, so an old signature is expired even if the row moved).
    signature_expires: bool = False
    # A spec's own reason to refuse an otherwise active row (e.g. the package is gone).
    refuse: Callable[[Any], str | None] | None = None
    requests_per_hour: int = 120
    invalid_requests_per_hour: int = 60

    def max_days(self) -> int:
        return getattr(settings, self.lifetime_setting)

    def actor(self, row) -> Actor:
        """The audit actor for something the link's holder did."""
        return Actor(kind=self.actor_kind, id=str(row.pk), label=self.actor_label(row))

    def limit(self, invalid: bool = False) -> int:
        if invalid:
            return getattr(
                settings,
                f"INVALID_{self.name.upper()}_REQUESTS_PER_HOUR",
                self.invalid_requests_per_hour,
            )
        return getattr(settings, f"{self.name.upper()}_REQUESTS_PER_HOUR", self.requests_per_hour)


_REGISTRY: dict[str, LinkSpec] = {}


def register(spec: LinkSpec) -> LinkSpec:
    """Declare a spec once (at import of the app's module); a second spec with the same name
    or salt is refused, because a shared salt would let one kind of token open another."""
    for other in _REGISTRY.values():
        if other is not spec and (other.name == spec.name or other.salt == spec.salt):
            raise ValueError(f"Link spec {spec.name!r} clashes with {other.name!r}.")
    _REGISTRY[spec.name] = spec
    return spec


def registered() -> dict[str, LinkSpec]:
    """The declared specs by name."""
    return dict(_REGISTRY)


# --- errors --------------------------------------------------------------------------------
class LinkInvalid(InvalidInput):
    """A token that was never valid (tampered, truncated, another salt, unknown row)."""

    def __init__(self, spec: LinkSpec, message: str):
        super().__init__(message, code=f"{spec.name}_invalid")


class LinkGone(DomainError):
    """A link that was valid and is no more (expired, revoked, a spec's reason): 410."""

    status = GONE_STATUS

    def __init__(self, spec: LinkSpec, message: str, *, org=None, row=None, reason: str = ""):
        super().__init__(message, code=f"{spec.name}_{reason or 'gone'}")
        self.spec = spec
        self.org = org
        self.row = row
        self.reason = reason


class LinkRateLimited(DomainError):
    code = "throttled"
    status = THROTTLED_STATUS


# --- tokens, state, rows -------------------------------------------------------------------
def link_token(spec: LinkSpec, row) -> str:
    """A fresh signature for the row (any number may exist; the row says whether it works)."""
    payload = {"org": str(row.organization_id), spec.id_key: str(row.pk)}
    return signing.dumps(payload, salt=spec.salt)


def link_url(spec: LinkSpec, row) -> str:
    """The absolute public address of the row's link."""
    return settings.SITE_URL.rstrip("/") + reverse(spec.url_name, args=[link_token(spec, row)])


def link_state(row) -> str:
    """active, expired or revoked (the row's own dates; a spec's `refuse` is not asked)."""
    if row.revoked_at:
        return "revoked"
    if row.expires_at <= timezone.now():
        return "expired"
    return "active"


def link_days(spec: LinkSpec, days) -> tuple[int | None, str]:
    """(days, "") for a lifetime the spec allows (None: the longest), or (None, the error)."""
    max_days = spec.max_days()
    days = max_days if days in (None, "") else days
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= max_days:
        return None, f"Choose from 1 to {max_days} days."
    return days, ""


def link_create(spec: LinkSpec, *, org, actor, days: int, **fields):
    """Write a new link row expiring in `days`; the caller's service owns the transaction
    and audits its own event."""
    from credex.models import Membership

    return spec.model.objects.create(
        organization=org,
        created_by=actor if isinstance(actor, Membership) else None,
        expires_at=timezone.now() + timedelta(days=days),
        **fields,
    )


def link_revoke(spec: LinkSpec, *, row, actor) -> bool:
    """Stop the link at once; False when it already was (the caller then audits nothing)."""
    from credex.models import Membership

    if row.revoked_at:
        return False
    row.revoked_at = timezone.now()
    update = ["revoked_at"]
    if any(f.name == "revoked_by" for f in spec.model._meta.fields):
        row.revoked_by = actor if isinstance(actor, Membership) else None
        update.append("revoked_by")
    row.save(update_fields=update)
    return True


def _fill(text: str, *, org=None, row=None) -> str:
    """A spec's text with {org} and {expires} filled in."""
    expires = timezone.localtime(row.expires_at) if row is not None else None
    return text.format(org=org.name if org else UNKNOWN_SENDER, expires=expires)


@dataclass(frozen=True)
class _Signed:
    org_id: str | None
    row_id: str | None
    expired: bool  # the signature is older than the spec allows


def _verify(spec: LinkSpec, token: str) -> _Signed:
    """Check the signature (and its age for specs with signature_expires); LinkInvalid."""
    max_age = timedelta(days=spec.max_days()) if spec.signature_expires else None
    expired = False
    try:
        payload = signing.loads(token, salt=spec.salt, max_age=max_age)
    except signing.SignatureExpired:
        # Authentic, only too old: read it without the age check, to say who to ask.
        payload, expired = signing.loads(token, salt=spec.salt), True
    except signing.BadSignature:
        raise LinkInvalid(spec, spec.texts.invalid)
    payload = payload if isinstance(payload, dict) else {}
    return _Signed(_as_uuid(payload.get("org")), _as_uuid(payload.get(spec.id_key)), expired)


def _as_uuid(value) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def _organization(signed: _Signed):
    from credex.models import Organization

    return Organization.objects.filter(pk=signed.org_id).first() if signed.org_id else None


def _row(spec: LinkSpec, org, signed: _Signed):
    """The row the token names, in the organization's scope (the caller entered it)."""
    if signed.row_id is None:
        return None
    return (
        spec.model.objects.select_related(*spec.select_related)
        .filter(pk=signed.row_id, organization=org)
        .first()
    )


def _refusal(spec: LinkSpec, row, signed: _Signed) -> str | None:
    """Why a found row does not open, or None."""
    if signed.expired:
        return "expired"
    state = link_state(row)
    if state != "active":
        return state
    return spec.refuse(row) if spec.refuse else None


def _gone(spec: LinkSpec, reason: str, *, org, row) -> LinkGone:
    if reason in ("expired", "revoked"):
        text = getattr(spec.texts, reason)
    else:
        text = spec.texts.other[reason][1]
    return LinkGone(spec, _fill(text, org=org, row=row), org=org, row=row, reason=reason)


def link_throttle(spec: LinkSpec, row) -> None:
    """Count one request on this link; LinkRateLimited past the spec's hourly limit."""
    if hourly_limit_exceeded(f"{spec.name}:{row.pk}", spec.limit()):
        raise LinkRateLimited(TOO_MANY_ON_LINK)


def link_throttle_invalid(spec: LinkSpec, ip: str | None) -> None:
    """Count a request with a token that is not valid from this address; refuse past the limit."""
    if hourly_limit_exceeded(f"{spec.name}_invalid:{ip or 'unknown'}", spec.limit(invalid=True)):
        raise LinkRateLimited(TOO_MANY_INVALID)


# --- the view ------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpenLink:
    """A link that opened: what a `signed_link_view` receives."""

    spec: LinkSpec
    token: str
    org: Any
    row: Any

    @property
    def actor(self) -> Actor:
        return self.spec.actor(self.row)

    @property
    def read_only(self) -> bool:
        """The organization is read-only for billing: the page shows, its form does not."""
        return writes_paused(self.org)

    @property
    def read_only_notice(self) -> str:
        """What the page says instead of its form while `read_only`."""
        return READ_ONLY_NOTICE.format(org=self.org.name) if self.read_only else ""


def refusal_page(request, spec: LinkSpec, *, reason: str, message: str, status: int, org=None):
    """The one refusal page of every link (templates/links/refused.html)."""
    title = TITLES.get(reason) or spec.texts.other.get(reason, (TITLES[""], ""))[0]
    help_text = ""
    if status == GONE_STATUS:
        help_text = spec.texts.gone_help.format(org=org.name if org else UNKNOWN_SENDER_START)
    elif status == INVALID_STATUS:
        help_text = INVALID_HELP
    elif status == READ_ONLY_STATUS:
        help_text = READ_ONLY_HELP.format(org=org.name if org else UNKNOWN_SENDER)
    context = {
        "title": title,
        "eyebrow": spec.texts.eyebrow,
        "message": message,
        "help": help_text,
        "status": status,
        "link_org": org,
    }
    return private_link_response(render(request, REFUSAL_TEMPLATE, context, status=status))


def signed_link_view(spec: LinkSpec, *, visit: bool = True):
    """Decorate `view(request, link: OpenLink, ...)` mounted at a URL with a `token` argument.

    Opens the token; refuses a token that is not valid (counted per address: 429 past the
    limit, else INVALID_STATUS), counts the request on the link (429 past the limit), records
    and refuses a link that is gone (410), records the visit on GET when `visit` is set, and
    runs the view inside the organization's scope, entered once: one transaction for the
    visit and the view's writes. A LinkGone the view raises (the link went between the open
    and a write) rolls that transaction back and answers 410. Every answer carries the
    private-link headers.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, token, *args, **kwargs):
            ip = request.META.get("REMOTE_ADDR")
            try:
                return private_link_response(
                    _open_and_run(request, spec, token, view, visit, args, kwargs)
                )
            except LinkInvalid as exc:
                try:
                    link_throttle_invalid(spec, ip)
                except LinkRateLimited as limited:
                    return _limited_page(request, spec, limited)
                return refusal_page(
                    request, spec, reason="invalid", message=exc.message, status=INVALID_STATUS
                )
            except LinkRateLimited as limited:
                return _limited_page(request, spec, limited)
            except LinkGone as exc:
                return refusal_page(
                    request,
                    spec,
                    reason=exc.reason,
                    message=exc.message,
                    status=GONE_STATUS,
                    org=exc.org,
                )

        return wrapper

    return decorator


def _limited_page(request, spec, limited: LinkRateLimited):
    return refusal_page(
        request, spec, reason="throttled", message=limited.message, status=THROTTLED_STATUS
    )


def _open_and_run(request, spec: LinkSpec, token: str, view, visit: bool, args, kwargs):
    signed = _verify(spec, token)
    org = _organization(signed)
    if org is None:
        if signed.expired:
            raise _gone(spec, "expired", org=None, row=None)
        raise LinkInvalid(spec, spec.texts.unknown)
    with tenant_context(org):
        row = _row(spec, org, signed)
        if row is None:
            if signed.expired:
                raise _gone(spec, "expired", org=org, row=None)
            raise LinkInvalid(spec, spec.texts.unknown)
        link_throttle(spec, row)
        reason = _refusal(spec, row, signed)
        if reason:
            spec.record_refusal(org, row, reason)
            gone = _gone(spec, reason, org=org, row=row)
            # Answered here, not raised: the refusal's audit event commits with the scope.
            return refusal_page(
                request, spec, reason=reason, message=gone.message, status=GONE_STATUS, org=org
            )
        if request.method not in SAFE_METHODS and writes_paused(org):
            return refusal_page(
                request,
                spec,
                reason="read_only",
                message=READ_ONLY_MESSAGE.format(org=org.name),
                status=READ_ONLY_STATUS,
                org=org,
            )
        if visit and request.method == "GET":
            spec.record_visit(org, row)
        return view(request, OpenLink(spec, token, org, row), *args, **kwargs)


# --- shared by every link ------------------------------------------------------------------
def hourly_limit_exceeded(key: str, limit: int) -> bool:
    """Count one request under `key` in the current hour; True once past `limit`."""
    key = f"credex:{key}:{int(timezone.now().timestamp() // 3600)}"
    cache.add(key, 0, timeout=3700)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3700)
        count = 1
    return count > limit


def private_link_response(response):
    """Headers for a page whose address carries the token: not cached, not indexed, and the
    token never leaves this site in a Referer header. (Not "no-referrer": browsers then send
    "Origin: null" on the form posts and CSRF fails.)"""
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    return response
