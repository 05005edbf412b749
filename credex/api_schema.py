"""How the OpenAPI schema groups the API: every operation is tagged by area, from its URL.

The areas (and their one-line descriptions, shown by Redoc as the side menu's groups) are
declared in settings, SPECTACULAR_SETTINGS["TAGS"]. A view can still
choose its own with `extend_schema(tags=[...])`. An operation under a prefix not listed here
keeps drf-spectacular's default tag, and tests/test_api_docs.py then asks for it to be declared.
"""

from __future__ import annotations

import re

from drf_spectacular.openapi import AutoSchema

# First path segment after /api/v1/ -> area.
_BY_PREFIX = {
    "me": "organization",
    "organization": "organization",
    "members": "members",
    "invitations": "members",
    "api-keys": "API keys",
    "providers": "providers",
    "credentials": "credentials",
    "documents": "documents",
    "extractions": "extractions",
    "imports": "imports",
    "inbox": "inbox",
    "verifications": "verifications",
    "verification-requests": "verifications",
    "verification-evidence": "verifications",
    "packets": "packets",
    "screening": "screening",
    "nppes": "NPPES",
    "committee": "committee",
    "payers": "payers",
    "payer-contacts": "payers",
    "enrollments": "enrollments",
    "packages": "packages",
    "shares": "packages",
    "audit": "audit",
    "exchange": "exchange",
    "billing": "billing",
}

# A provider's sub-resources belong to their own area (/providers/{id}/credentials ...).
_PROVIDER_PARTS = {
    "credentials": "credentials",
    "documents": "documents",
    "verifications": "verifications",
    "packets": "packets",
    "packages": "packages",
    "committee": "committee",
}

_PREFIX = re.compile(r"^/api/v\d+/")


def tag_for_path(path: str) -> str | None:
    """The area of an API path, or None when its prefix is not one of ours."""
    parts = [p for p in _PREFIX.sub("", path).split("/") if p and not p.startswith("{")]
    if not parts:
        return None
    if parts[0] == "providers" and len(parts) > 1 and parts[1] in _PROVIDER_PARTS:
        return _PROVIDER_PARTS[parts[1]]
    return _BY_PREFIX.get(parts[0])


class CredexAutoSchema(AutoSchema):
    def get_tags(self) -> list[str]:
        tag = tag_for_path(self.path)
        return [tag] if tag else super().get_tags()
