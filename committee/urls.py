"""Committee pages (mounted under /o/<slug>/committee/); the routes sit beside
their views, as in the roster's view modules."""

from committee.views import urlpatterns

__all__ = ["urlpatterns"]
