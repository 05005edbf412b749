"""The public pricing page (/pricing/, mounted by credex.urls through billing/public_urls.py):
the Practices plan monthly and annual, what counts as a seat, the free trial, the exchange
membership tiers and the facilitation fee. Anyone may read it, signed in or not; every amount
comes from the data (Plan, MembershipTier, the exchange's fee rule), none from the template."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from billing.selectors import pricing

# The worked example under the plans: what an organization of this many providers pays.
EXAMPLE_SEATS = 10


@require_GET
def pricing_page(request):
    facts = pricing()
    example = {}
    if facts.monthly:
        example["month"] = facts.monthly.base_cents + EXAMPLE_SEATS * facts.monthly.seat_cents
    if facts.annual:
        example["year"] = facts.annual.base_cents + EXAMPLE_SEATS * facts.annual.seat_cents
    return render(
        request,
        "billing/pricing.html",
        {
            "pricing": facts,
            "example_seats": EXAMPLE_SEATS,
            "example": example,
            "payout_minimum_cents": settings.BILLING_PAYOUT_MINIMUM_CENTS,
        },
    )


urlpatterns = [
    path("", pricing_page, name="pricing"),
]
