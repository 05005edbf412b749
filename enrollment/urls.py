"""Payer enrollment pages (mounted under /o/<slug>/enrollments/); the routes sit beside
their views, as in the roster's view modules."""

from enrollment.views import urlpatterns

__all__ = ["urlpatterns"]
