"""Organization-scoped roster pages (mounted under /o/<slug>/)."""

from django.urls import include, path

urlpatterns = [
    path("providers/", include("roster.views.providers")),
    path("inbox/", include("roster.views.inbox")),
    path("documents/", include("roster.views.documents")),
    path("imports/", include("roster.views.imports")),
    path("caqh/", include("roster.views.caqh")),
]
