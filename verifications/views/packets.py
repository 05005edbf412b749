"""Stub: filled in by the packets work."""

urlpatterns: list = []
