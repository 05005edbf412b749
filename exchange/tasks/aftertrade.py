"""Exchange background work: aftertrade."""

from __future__ import annotations
