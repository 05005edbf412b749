"""Exchange background work: pricing."""

from __future__ import annotations
