"""The provider file's "Credential packages" block:

{% load package_ui %}{% provider_packages provider %}

A build button (roster.change), the progress of a build in flight, the recent packages with
their share counts, and a link to share each ready one.
"""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string

from credex import capabilities as cap
from credex.capabilities import has_capability
from verifications.selectors.packages import package_progress, packages_for_provider

register = template.Library()


def provider_block_context(request, provider) -> dict:
    org = request.org
    recent = packages_for_provider(org=org, provider=provider)
    latest = recent[0] if recent else None
    membership = getattr(request, "membership", None)
    return {
        "request": request,
        "org": org,
        "provider": provider,
        "packages": recent,
        "latest": latest,
        "progress": package_progress(latest) if latest else None,
        "can_change": bool(membership and has_capability(membership.role, cap.CHANGE_ROSTER)),
    }


@register.simple_tag(takes_context=True)
def provider_packages(context, provider):
    request = context.get("request")
    if request is None or getattr(request, "org", None) is None:
        return ""
    membership = getattr(request, "membership", None)
    if membership is None or not has_capability(membership.role, cap.VIEW_ROSTER):
        return ""
    return render_to_string(
        "verifications/packages/_provider_block.html",
        provider_block_context(request, provider),
        request=request,
    )
