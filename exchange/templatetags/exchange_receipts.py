"""Template helpers of the receipt pages and the PDF packet."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def receipt_dollars(cents) -> str:
    """Integer cents as "$1,234.50" (receipts carry cents; this is the one display)."""
    try:
        cents = int(cents)
    except (TypeError, ValueError):
        return ""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{part:02d}"
