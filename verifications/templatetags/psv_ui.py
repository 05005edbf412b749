"""The provider file's "Primary-source verification" block:

{% load psv_ui %}{% provider_psv provider %}

The PSV log (current and superseded records, evidence, corrections) and what is still
outstanding for the provider (the queue's rows for this provider, with a Verify link each).
"""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils import timezone

register = template.Library()


@register.inclusion_tag("verifications/_provider_psv.html", takes_context=True)
def provider_psv(context, provider):
    """The provider's PSV log and outstanding elements."""
    from credex.capabilities import has_capability
    from verifications.models import VerificationResult
    from verifications.selectors.queue import queue_items, queue_rows
    from verifications.selectors.records import provider_verifications

    request = context.get("request")
    org = getattr(request, "org", None) or context.get("org")
    membership = getattr(request, "membership", None)
    today = timezone.localdate()
    log = provider_verifications(org=org, provider=provider)
    by_superseded = {v.supersedes_id: v for v in log if v.supersedes_id}
    for v in log:
        v.corrected_by = by_superseded.get(v.pk)
        day = timezone.localtime(v.verified_at).date()
        v.counts_until = (
            day + timedelta(days=org.psv_validity_days)
            if not v.is_superseded and v.result == VerificationResult.VERIFIED
            else None
        )
    outstanding = queue_items(org=org, rows=queue_rows(org=org, provider=provider, today=today))
    return {
        "org": org,
        "provider": provider,
        "log": log,
        "outstanding": outstanding,
        "today": today,
        "can_change": bool(membership and has_capability(membership.role, "roster.change")),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
