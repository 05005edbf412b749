"""DRF authentication: API keys (resolved by TenantMiddleware) and browser sessions."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions


class ApiKeyPrincipal:
    """Stands in for request.user when an API key authenticates."""

    is_authenticated = True
    is_anonymous = False
    is_active = True

    def __init__(self, key):
        self.key = key
        self.pk = key.pk
        self.email = ""

    def __str__(self) -> str:
        return f"API key {self.key.name}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        django_request = request._request
        error = getattr(django_request, "api_key_error", None)
        if error:
            raise exceptions.AuthenticationFailed(error)
        key = getattr(django_request, "api_key", None)
        if key is None:
            return None
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents `Authorization: Api-Key cx_<prefix>_<secret>` in the OpenAPI schema."""

    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key cx_<prefix>_<secret>`: a per-organization key. "
            "It acts in its own organization with its own role.",
        }
