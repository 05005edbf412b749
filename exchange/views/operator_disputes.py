"""Operator console: operator_disputes (skeleton)."""

from __future__ import annotations

from django.urls import path

from exchange.views._base import operator_not_built as _not_built

urlpatterns = [
    path("disputes/", _not_built, name="operator_disputes"),
]
