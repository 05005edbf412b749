"""NPPES mismatch pages (mounted under /o/<slug>/screening/nppes/)."""

urlpatterns: list = []
