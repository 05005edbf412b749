"""Money on the exchange's pages: integer cents shown as dollars and cents."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def cents(value) -> str:
    """12345 -> "$123.45", -500 -> "-$5.00", 123456789 -> "$1,234,567.89"; blank for none."""
    if value in (None, ""):
        return ""
    try:
        amount = int(value)
    except (TypeError, ValueError):
        return ""
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 100)
    return f"{sign}${whole:,}.{part:02d}"
