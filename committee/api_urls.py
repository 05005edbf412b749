"""Committee API routes (flat list, appended to credex.urls.api_patterns under /api/v1/)."""

from django.urls import path

from committee import api as _committee

urlpatterns: list = [
    path(
        "committee/reviews",
        _committee.CommitteeReviewListView.as_view(),
        name="api_committee_reviews",
    ),
    path(
        "providers/<uuid:provider_id>/committee/ready",
        _committee.ProviderCommitteeReadyView.as_view(),
        name="api_provider_committee_ready",
    ),
    path(
        "committee/reviews/<uuid:review_id>/decision",
        _committee.CommitteeDecisionView.as_view(),
        name="api_committee_decision",
    ),
    path(
        "committee/reviews/<uuid:review_id>/notified",
        _committee.CommitteeNotifiedView.as_view(),
        name="api_committee_notified",
    ),
]
