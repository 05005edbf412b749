"""Organization-scoped screening pages (mounted under /o/<slug>/screening/)."""

from django.urls import include, path

from roster.views._placeholder import placeholder

urlpatterns = [
    path("", placeholder("Screening"), name="screening"),
    path("nppes/", include("screening.nppes.urls")),
]
