"""The one formatting of money: integer cents shown as dollars and cents.

Every page, PDF, e-mail and CSV that shows an amount calls `format_cents` (templates through
the `cents` filter of credex_ui and the exchange's filters, which delegate here).
"""

from __future__ import annotations


def format_cents(value, *, blank: str = "") -> str:
    """12345 -> "$123.45", -500 -> "-$5.00", 123456789 -> "$1,234,567.89"; `blank` for none."""
    if value in (None, ""):
        return blank
    try:
        amount = int(value)
    except (TypeError, ValueError):
        return blank
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 100)
    return f"{sign}${whole:,}.{part:02d}"
