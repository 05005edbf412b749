"""Exchange background work: membership."""

from __future__ import annotations
