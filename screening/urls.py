"""Organization-scoped screening pages (mounted under /o/<slug>/screening/)."""

from django.urls import path

from roster.views._placeholder import placeholder

urlpatterns = [
    path("", placeholder("Screening"), name="screening"),
]
