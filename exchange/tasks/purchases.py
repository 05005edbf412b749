"""Exchange background work: purchases."""

from __future__ import annotations
