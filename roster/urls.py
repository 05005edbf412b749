"""Organization-scoped roster pages (mounted under /o/<slug>/)."""

from django.urls import include, path

urlpatterns = [
    path("providers/", include("roster.views.providers")),
    path("inbox/", include("roster.views.inbox")),
    path("documents/", include("roster.views.documents")),
    path("imports/", include("roster.views.imports")),
    path("enrollments/", include("roster.views.enrollment")),
    path("committee/", include("roster.views.committee")),
    path("caqh/", include("roster.views.caqh")),
]
