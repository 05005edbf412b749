"""Exchange receivers of the hook points below it: membership."""

from __future__ import annotations


def register() -> None:
    """Called from ExchangeConfig.ready()."""
