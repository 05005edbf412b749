"""Organization-scoped screening pages (mounted under /o/<slug>/screening/)."""

from django.urls import include, path

from screening import views

urlpatterns = [
    path("", views.screening_home, name="screening"),
    path("runs/", views.run_start, name="screening_run_start"),
    path("runs/<uuid:run_id>/", views.run_detail, name="screening_run"),
    path("hits/<uuid:hit_id>/", views.hit_detail, name="screening_hit"),
    path("hits/<uuid:hit_id>/confirm/", views.hit_confirm, name="screening_hit_confirm"),
    path("hits/<uuid:hit_id>/clear/", views.hit_clear, name="screening_hit_clear"),
    path("datasets/", views.datasets, name="screening_datasets"),
    path(
        "provider/<uuid:provider_id>/",
        views.provider_history,
        name="screening_provider_history",
    ),
    path(
        "provider/<uuid:provider_id>/sam-check/",
        views.provider_sam_check,
        name="screening_provider_sam_check",
    ),
    path("nppes/", include("screening.nppes.urls")),
]
