"""Stub: the PSV queue page (filled in by the queue work)."""

from django.http import HttpResponse
from django.urls import path


def psv_queue(request, org_slug):
    return HttpResponse("PSV queue")


urlpatterns = [path("", psv_queue, name="psv_queue")]
