"""Stub: filled in by the extraction work."""

urlpatterns: list = []
