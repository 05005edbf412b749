"""The coordinator's dashboard: a registry of blocks that the apps fill.

Each app registers its blocks in its `AppConfig.ready()`:

    from credex import dashboard
    dashboard.block_register("psv", order=50, build=_psv_block)

`dashboard_summary` builds every registered block in a fixed order (ascending `order`, then
name): a builder is called as `build(org=, membership=, today=, dash=)` and its answer is set
on the `Dashboard` under the block's name, where later builders (the "start here" list, the
flags of every provider named) and the template (`dash.<name>`) read it. A builder reads, in
a fixed number of queries whatever the roster's size (pinned in tests/test_dashboard.py); it
never writes. Credex imports none of the apps: it knows the blocks only by what registered.

Orders in use: roster 10-40 and 60-80 (counts, providers, expiring, re-credentialing, CAQH,
enrollments, documents, chart, mine), verifications 50 (psv), screening 65 (screening),
roster 900-910 (start here, flags). A missing block (its app not installed) is None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone


@dataclass(frozen=True)
class DashboardBlock:
    name: str
    order: int
    build: Callable[..., Any]


_blocks: dict[str, DashboardBlock] = {}


def block_register(name: str, *, order: int, build: Callable[..., Any]) -> DashboardBlock:
    """Add (or replace: a reloaded ready()) the block `name`, built at position `order`."""
    block = DashboardBlock(name=name, order=order, build=build)
    _blocks[name] = block
    return block


def blocks() -> list[DashboardBlock]:
    """The registered blocks in the order they are built."""
    return sorted(_blocks.values(), key=lambda b: (b.order, b.name))


class Dashboard:
    """What the template reads as `dash`: `today` and one attribute per block."""

    def __init__(self, today: date) -> None:
        self.today = today

    def __getattr__(self, name: str) -> Any:
        # A block whose app is absent reads as None (never an AttributeError in a template).
        if name.startswith("__"):
            raise AttributeError(name)
        return None


def dashboard_summary(*, org, membership=None, today: date | None = None) -> Dashboard:
    """Every registered block for the organization, built in the registry's order."""
    dash = Dashboard(today=today or timezone.localdate())
    for block in blocks():
        value = block.build(org=org, membership=membership, today=dash.today, dash=dash)
        setattr(dash, block.name, value)
    return dash
