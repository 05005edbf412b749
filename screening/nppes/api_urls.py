"""NPPES API routes (flat list, appended to credex.urls.api_patterns)."""

urlpatterns: list = []
