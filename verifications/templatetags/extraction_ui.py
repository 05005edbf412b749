"""The provider file's block of suggestions read from documents, waiting for a decision:

{% load extraction_ui %}{% provider_extractions provider %}
"""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("verifications/extraction/_provider_extractions.html", takes_context=True)
def provider_extractions(context, provider):
    """Pending suggestions (and ones to enter by hand) for this provider, with review links."""
    from credex.capabilities import CHANGE_ROSTER, has_capability
    from verifications.selectors.extraction import provider_open_suggestions

    request = context.get("request")
    org = getattr(request, "org", None) or context.get("org")
    membership = getattr(request, "membership", None)
    return {
        "org": org,
        "provider": provider,
        "suggestions": provider_open_suggestions(org=org, provider=provider),
        "can_change": bool(membership and has_capability(membership.role, CHANGE_ROSTER)),
        "request": request,
    }
