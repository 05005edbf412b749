"""Roster API routes (flat list, appended to credex.urls.api_patterns under /api/v1/)."""

urlpatterns: list = []
