"""Exchange API: requirements (under /api/v1/exchange/)."""

from __future__ import annotations

urlpatterns: list = []
