"""Exchange receivers of the hook points below it: releases."""

from __future__ import annotations


def register() -> None:
    """Called from ExchangeConfig.ready()."""
