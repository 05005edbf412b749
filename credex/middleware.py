"""Enters the tenant scope for each request and renders the response inside it.

- `/o/<slug>/...`: the signed-in user's membership in that organization; none -> 404.
- `/api/...`: an `Api-Key` header names the organization; a browser session picks it from
  the `X-CredEx-Organization` header (slug) or the user's only membership.
- anything else: a transaction in which the user may read their own memberships.
- `/healthz`: no transaction and no session, so it can say the database is down.

When the database is unavailable, the request answers 503 (credex/unavailable.py), whether
the failure is this middleware's own query or the view's.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from audit.context import meta_from_request, request_meta
from credex.models import ApiKey, Membership, Organization
from credex.tenancy import set_db_context, tenant_context, unscoped, user_context
from credex.unavailable import database_unavailable, unavailable_response
from credex.writes import blocks, paused_response

HEALTHZ_PATH = "/healthz"
ORG_PATH = re.compile(r"^/o/(?P<slug>[-a-zA-Z0-9_]+)/")
API_KEY_HEADER = re.compile(r"^Api-Key\s+(?P<key>\S+)$", re.IGNORECASE)


def _render(response):
    if hasattr(response, "render") and callable(response.render) and not response.is_rendered:
        response.render()
    return response


def _mfa_missing(user) -> bool:
    from allauth.mfa.models import Authenticator

    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTHZ_PATH:
            return self.get_response(request)
        token = request_meta.set(meta_from_request(request))
        try:
            request.org = None
            request.membership = None
            request.api_key = None
            match = ORG_PATH.match(request.path_info)
            if match:
                return self._org_request(request, match["slug"])
            if request.path_info.startswith("/api/"):
                return self._api_request(request)
            user_id = request.user.pk if request.user.is_authenticated else None
            with user_context(user_id):
                return _render(self.get_response(request))
        except Exception as exc:
            # The session lookup behind request.user, the membership, the RLS settings and
            # the commit of the request's transaction all query before or after the view.
            if database_unavailable(exc):
                return unavailable_response(request, exc)
            raise
        finally:
            request_meta.reset(token)

    def process_exception(self, request, exception):
        """A view's query failed because the database is unavailable: 503, also with DEBUG."""
        if database_unavailable(exception):
            return unavailable_response(request, exception)
        return None

    def _org_request(self, request, slug):
        if not request.user.is_authenticated:
            return redirect(f"{reverse(settings.LOGIN_URL)}?next={request.get_full_path()}")
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            raise Http404("No such organization.")
        with user_context(request.user.pk):
            membership = Membership.objects.for_user(request.user).filter(organization=org).first()
            if membership is None:
                raise Http404("No such organization.")  # not yours answers like does not exist
            if org.require_mfa and _mfa_missing(request.user):
                messages.warning(
                    request,
                    f"{org.name} requires two-factor authentication. Set it up to continue.",
                )
                return redirect("mfa_activate_totp")
        with tenant_context(org, user_id=request.user.pk):
            request.org = org
            request.membership = membership
            membership.organization = org
            if blocks(request, org):
                return _render(paused_response(request, org))
            return _render(self.get_response(request))

    def _api_request(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        key_match = API_KEY_HEADER.match(header)
        if key_match:
            return self._api_key_request(request, key_match["key"])
        if request.user.is_authenticated:
            with user_context(request.user.pk):
                memberships = Membership.objects.for_user(request.user).select_related(
                    "organization"
                )
                wanted = request.META.get("HTTP_X_CREDEX_ORGANIZATION")
                if wanted:
                    memberships = memberships.filter(organization__slug=wanted)
                found = list(memberships[:2])
                mfa_blocked = (
                    len(found) == 1
                    and found[0].organization.require_mfa
                    and _mfa_missing(request.user)
                )
            if mfa_blocked:
                return JsonResponse(
                    {
                        "code": "mfa_required",
                        "message": "This organization requires two-factor "
                        "authentication. Set it up to continue.",
                        "details": {},
                    },
                    status=403,
                )
            if len(found) == 1:
                membership = found[0]
                with tenant_context(membership.organization, user_id=request.user.pk):
                    request.org = membership.organization
                    request.membership = membership
                    if blocks(request, membership.organization):
                        return _render(paused_response(request, membership.organization))
                    return _render(self.get_response(request))
            if wanted:
                return JsonResponse(
                    {"code": "not_found", "message": "No such organization.", "details": {}},
                    status=404,
                )
        with user_context(request.user.pk if request.user.is_authenticated else None):
            return _render(self.get_response(request))

    def _api_key_request(self, request, raw: str):
        # Key format: cx_<prefix>_<secret>. RLS lets this transaction read only the row whose
        # prefix was presented (app.api_key_prefix), before any organization is known.
        parts = raw.split("_")
        key = None
        if len(parts) == 3 and parts[0] == "cx":
            prefix, secret = parts[1], parts[2]
            from django.db import connection, transaction

            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('app.api_key_prefix', %s, true)", [prefix])
                with unscoped():
                    candidate = ApiKey.objects.filter(
                        prefix=prefix, revoked_at__isnull=True
                    ).first()
                set_db_context()
            if candidate and hmac.compare_digest(candidate.key_hash, hash_key(secret)):
                key = candidate
        if key is None:
            request.api_key_error = "Invalid or revoked API key."
            with user_context(None):
                return _render(self.get_response(request))
        org = Organization.objects.get(pk=key.organization_id)
        with tenant_context(org):
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
            request.org = org
            request.api_key = key
            key.organization = org
            if blocks(request, org):
                return _render(paused_response(request, org))
            return _render(self.get_response(request))
