"""Billing pages: the seats (/o/<slug>/billing/seats/) — which providers the organization
pays for and why each one counts (see billing/views/__init__.py)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Min
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from billing.services.seats import seat_queryset
from credex import capabilities as cap
from credex.views import capability_required
from roster.services.providers import provider_list_record_read

PAGE_SIZE = 100


@require_GET
@capability_required(cap.VIEW_BILLING)
def billing_seats(request, org_slug):
    providers = (
        seat_queryset()
        .annotate(first_verified_at=Min("verifications__verified_at"))
        .only(
            "first_name",
            "middle_name",
            "last_name",
            "suffix",
            "legal_name",
            "dba_name",
            "npi",
            "status",
            "provider_type",
        )
        .order_by("last_name", "first_name", "pk")
    )
    page = Paginator(providers, PAGE_SIZE).get_page(request.GET.get("page"))
    provider_list_record_read(
        org=request.org, actor=request.membership, providers=page.object_list, part="seats"
    )
    return render(
        request,
        "billing/seats.html",
        {"page": page, "seats": page.paginator.count, "query": request.GET},
    )


urlpatterns = [
    path("seats/", billing_seats, name="billing_seats"),
]
