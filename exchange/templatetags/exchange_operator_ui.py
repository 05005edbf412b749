"""Template helpers of the operator console: money from integer cents."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def dollars(cents) -> str:
    """{{ 123456|dollars }} -> '$1,234.56'; negative amounts as '-$12.00'."""
    if cents in (None, ""):
        return ""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{rest:02d}"
