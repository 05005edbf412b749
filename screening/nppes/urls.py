"""NPPES pages (mounted under /o/<slug>/screening/nppes/)."""

from django.urls import path

from screening.nppes import views

urlpatterns = [
    path("", views.nppes_home, name="nppes"),
    path("lookup", views.lookup, name="nppes_lookup"),
    path("refresh/", views.refresh, name="nppes_refresh"),
    path("runs/<uuid:run_id>/", views.run_progress, name="nppes_run"),
    path("dismiss/", views.mismatch_bulk_dismiss, name="nppes_bulk_dismiss"),
    path(
        "mismatches/<uuid:mismatch_id>/accept/",
        views.mismatch_decide,
        {"action": "accept"},
        name="nppes_accept",
    ),
    path(
        "mismatches/<uuid:mismatch_id>/dismiss/",
        views.mismatch_decide,
        {"action": "dismiss"},
        name="nppes_dismiss",
    ),
    path("provider/<uuid:provider_id>/", views.provider_panel, name="nppes_provider"),
    path("provider/<uuid:provider_id>/refresh/", views.refresh, name="nppes_provider_refresh"),
]
