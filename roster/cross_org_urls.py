"""The independent coordinator's cross-organization view (mounted at /expiring/)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from roster.selectors.dashboard import CROSS_ORG_ROWS, cross_org_expiring


@require_GET
@login_required
def cross_org_expiring_view(request):
    groups = cross_org_expiring(user=request.user)
    totals = {
        "orgs": len(groups),
        "expired": sum(g.get("expired", 0) for g in groups),
        "upcoming": sum(g.get("upcoming", 0) for g in groups),
    }
    return render(
        request,
        "roster/inbox/cross_org.html",
        {"groups": groups, "totals": totals, "row_limit": CROSS_ORG_ROWS},
    )


urlpatterns = [path("", cross_org_expiring_view, name="cross_org_expiring")]
