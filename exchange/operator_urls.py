"""The exchange operator's console under /operator/exchange/ (platform staff only)."""

from django.urls import include, path

urlpatterns = [
    path("", include("exchange.views.operator")),
    path("", include("exchange.views.operator_pricing")),
    path("", include("exchange.views.operator_disputes")),
]
