"""The independent coordinator's cross-organization view (mounted at /expiring/)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path


@login_required
def cross_org_expiring(request):
    return render(request, "roster/placeholder.html", {"title": "Expiring across organizations"})


urlpatterns = [path("", cross_org_expiring, name="cross_org_expiring")]
