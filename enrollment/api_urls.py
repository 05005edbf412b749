"""Enrollment API routes (flat list, appended to credex.urls.api_patterns under /api/v1/)."""

from django.urls import path

from enrollment import api as _enrollment

urlpatterns: list = [
    path("payers", _enrollment.PayerListView.as_view(), name="api_payers"),
    path("payers/<uuid:payer_id>", _enrollment.PayerDetailView.as_view(), name="api_payer"),
    path(
        "payers/<uuid:payer_id>/contracts",
        _enrollment.PayerContractListView.as_view(),
        name="api_payer_contracts",
    ),
    path(
        "payers/<uuid:payer_id>/contracts/<uuid:contract_id>",
        _enrollment.PayerContractDetailView.as_view(),
        name="api_payer_contract",
    ),
    path(
        "payers/<uuid:payer_id>/contacts",
        _enrollment.PayerContactsView.as_view(),
        name="api_payer_contacts",
    ),
    path(
        "payer-contacts/<uuid:contact_id>",
        _enrollment.PayerContactDetailView.as_view(),
        name="api_payer_contact",
    ),
    path("enrollments", _enrollment.EnrollmentListView.as_view(), name="api_enrollments"),
    path(
        "enrollments/<uuid:enrollment_id>",
        _enrollment.EnrollmentDetailView.as_view(),
        name="api_enrollment",
    ),
    path(
        "enrollments/<uuid:enrollment_id>/transition",
        _enrollment.EnrollmentTransitionView.as_view(),
        name="api_enrollment_transition",
    ),
]
