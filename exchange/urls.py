"""Exchange pages under /o/<slug>/exchange/ (each area's module owns its paths)."""

from django.urls import include, path

urlpatterns = [
    path("", include("exchange.views.home")),
    path("", include("exchange.views.membership")),
    path("", include("exchange.views.releases")),
    path("", include("exchange.views.search")),
    path("", include("exchange.views.listings")),
    path("", include("exchange.views.requirements")),
    path("", include("exchange.views.pricing")),
    path("", include("exchange.views.orders")),
    path("", include("exchange.views.receipts")),
    path("", include("exchange.views.statement")),
    path("", include("exchange.views.disputes")),
]
