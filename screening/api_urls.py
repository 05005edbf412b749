"""Screening API routes (flat list, appended to credex.urls.api_patterns)."""

from django.urls import path

from screening import api

urlpatterns: list = [
    path("screening/runs", api.RunListView.as_view(), name="api_screening_runs"),
    path(
        "screening/runs/<uuid:screening_run_id>",
        api.RunDetailView.as_view(),
        name="api_screening_run",
    ),
    path("screening/hits", api.HitListView.as_view(), name="api_screening_hits"),
    path(
        "screening/hits/<uuid:hit_id>/confirm",
        api.HitConfirmView.as_view(),
        name="api_screening_hit_confirm",
    ),
    path(
        "screening/hits/<uuid:hit_id>/clear",
        api.HitClearView.as_view(),
        name="api_screening_hit_clear",
    ),
    path("screening/datasets", api.DatasetListView.as_view(), name="api_screening_datasets"),
    path(
        "screening/providers/<uuid:provider_id>/sam-check",
        api.ProviderSamCheckView.as_view(),
        name="api_screening_provider_sam_check",
    ),
]
