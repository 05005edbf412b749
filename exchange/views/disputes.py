"""Exchange pages: disputes (skeleton: the views replace `_not_built`)."""

from __future__ import annotations

from django.urls import path

from exchange.views._base import not_built as _not_built

urlpatterns = [
    path("disputes/", _not_built, name="exchange_disputes"),
]
