"""Template helpers for roster pages: money in cents, masked protected fields, credential
details in a line."""

from __future__ import annotations

from django import template

from roster.models import CredentialKind

register = template.Library()

MASKED_SSN_PREFIX = "•••-••-"


@register.filter
def dollars(cents) -> str:
    """100000000 -> '$1,000,000' (amounts are integer cents everywhere)."""
    if cents in (None, ""):
        return ""
    whole, part = divmod(int(cents), 100)
    return f"${whole:,}" if not part else f"${whole:,}.{part:02d}"


@register.filter
def masked_ssn(provider) -> str:
    """'•••-••-1234', or '' when no SSN is on file."""
    return f"{MASKED_SSN_PREFIX}{provider.ssn_last4}" if provider.ssn_last4 else ""


@register.filter
def details_line(credential) -> str:
    """The kind-specific details as one readable line."""
    d = credential.details or {}
    kind = credential.kind
    parts: list[str] = []
    if kind == CredentialKind.MALPRACTICE:
        policy = d.get("policy_number", "")
        carrier = d.get("carrier", "")
        if carrier == credential.issuer:
            carrier = ""  # already in the issuer column
        parts = [carrier, f"policy {policy}" if policy else ""]
        if d.get("per_claim_cents") is not None or d.get("aggregate_cents") is not None:
            parts.append(
                f"{dollars(d.get('per_claim_cents')) or '?'} per claim / "
                f"{dollars(d.get('aggregate_cents')) or '?'} aggregate"
            )
    elif kind == CredentialKind.BOARD_CERT:
        parts = [d.get("board", ""), d.get("specialty", "")]
    elif kind == CredentialKind.EDUCATION:
        parts = [d.get("degree", ""), d.get("institution", "")]
    elif kind == CredentialKind.TRAINING:
        parts = [d.get("program", ""), d.get("institution", "")]
    elif kind == CredentialKind.WORK_HISTORY:
        parts = [d.get("position", ""), d.get("employer", "")]
    elif kind == CredentialKind.PRIVILEGES:
        parts = [d.get("facility", "")]
    elif kind == CredentialKind.LIFE_SUPPORT:
        parts = [d.get("certification", "")]
    return " · ".join(p for p in parts if p)


@register.filter
def get_item(mapping, key):
    """{{ names|get_item:code }}: a dict lookup by a variable key."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""
