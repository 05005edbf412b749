"""Stub: filled in by the packages work."""

urlpatterns: list = []
