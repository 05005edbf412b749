"""Organization-scoped verification pages (mounted under /o/<slug>/)."""

from django.urls import include, path

urlpatterns = [
    path("verifications/", include("verifications.views.queue")),
    path("packets/", include("verifications.views.packets")),
    path("extractions/", include("verifications.views.extraction")),
    path("packages/", include("verifications.views.packages")),
]
