"""Exchange pages: orders (skeleton: the views replace `_not_built`)."""

from __future__ import annotations

from django.urls import path

from exchange.views._base import not_built as _not_built

urlpatterns = [
    path("orders/", _not_built, name="exchange_orders"),
    path("orders/<uuid:order_id>/", _not_built, name="exchange_order"),
    path("buy/<uuid:listing_id>/", _not_built, name="exchange_buy"),
]
