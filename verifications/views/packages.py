"""Stub: credential packages (filled in by the packages work)."""

from django.http import HttpResponse
from django.urls import path


def packages(request, org_slug):
    return HttpResponse("Packages")


urlpatterns = [path("", packages, name="packages")]
