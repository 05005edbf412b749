"""Template helpers of the operator console: money from integer cents."""

from __future__ import annotations

from django import template

from credex.money import format_cents

register = template.Library()


@register.filter
def dollars(cents) -> str:
    """Integer cents as "$1,234.50" (credex.money.format_cents, the one formatting)."""
    return format_cents(cents)
