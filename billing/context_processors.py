"""The billing banner on every organization page (templates/billing/_banner.html)."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from credex.capabilities import ROLE_CAPABILITIES, VIEW_BILLING


def billing_banner(request):
    org = getattr(request, "org", None)
    membership = getattr(request, "membership", None)
    if org is None or membership is None:
        return {}

    def _banner():
        from billing.selectors import banner_for

        caps = ROLE_CAPABILITIES.get(membership.role, frozenset())
        return banner_for(org, sees_billing=VIEW_BILLING in caps)

    # Read only when the page renders the banner (one query).
    return {"billing_banner": SimpleLazyObject(_banner)}
