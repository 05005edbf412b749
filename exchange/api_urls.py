"""Exchange API routes, mounted by credex.urls under /api/v1/exchange/."""

from exchange.api import (
    aftertrade,
    listings,
    membership,
    pricing,
    purchases,
    receipts,
    releases,
    requirements,
    search,
)

urlpatterns: list = [
    *membership.urlpatterns,
    *releases.urlpatterns,
    *listings.urlpatterns,
    *search.urlpatterns,
    *requirements.urlpatterns,
    *pricing.urlpatterns,
    *purchases.urlpatterns,
    *receipts.urlpatterns,
    *aftertrade.urlpatterns,
]
