"""NPPES API routes (flat list, appended to credex.urls.api_patterns under /api/v1/)."""

from django.urls import path

from screening.nppes import api

urlpatterns: list = [
    path("nppes/mismatches", api.MismatchListView.as_view(), name="api_nppes_mismatches"),
    path(
        "nppes/mismatches/<uuid:mismatch_id>/accept",
        api.MismatchAcceptView.as_view(),
        name="api_nppes_mismatch_accept",
    ),
    path(
        "nppes/mismatches/<uuid:mismatch_id>/dismiss",
        api.MismatchDismissView.as_view(),
        name="api_nppes_mismatch_dismiss",
    ),
    path("nppes/checks", api.CheckListView.as_view(), name="api_nppes_checks"),
    path("nppes/refresh", api.RefreshView.as_view(), name="api_nppes_refresh"),
    path("nppes/runs/<uuid:run_id>", api.RunDetailView.as_view(), name="api_nppes_run"),
    path("nppes/lookup", api.LookupView.as_view(), name="api_nppes_lookup"),
]
