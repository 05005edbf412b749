"""Exchange background work: listings."""

from __future__ import annotations
