"""CSV export safety: neutralize cells a spreadsheet would run as a formula."""

from __future__ import annotations

from collections.abc import Iterable

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """Prefix a quote to text starting with =, +, -, @ (or tab/CR) so it stays text."""
    text = "" if value is None else str(value)
    if text and text.startswith(_TRIGGERS):
        return "'" + text
    return text


def safe_row(values: Iterable) -> list[str]:
    return [safe_cell(v) for v in values]
