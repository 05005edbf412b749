"""Temporary pages for roster areas still being built (replaced area by area)."""

from django.shortcuts import render

from credex import capabilities as cap
from credex.views import capability_required


def placeholder(title: str):
    @capability_required(cap.VIEW_ROSTER)
    def view(request, org_slug, **kwargs):
        return render(request, "roster/placeholder.html", {"title": title})

    return view
