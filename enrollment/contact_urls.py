"""Payer contacts pages (mounted under /o/<slug>/packages/contacts/, where they were before the
move from verifications); the routes sit beside their views."""

from enrollment.views import contact_urlpatterns as urlpatterns

__all__ = ["urlpatterns"]
