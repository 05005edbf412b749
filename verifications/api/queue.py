"""Stub: filled in by the queue work."""

urlpatterns: list = []
