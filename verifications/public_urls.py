"""Stub: payer share pages (filled in by the packages work)."""

urlpatterns: list = []
