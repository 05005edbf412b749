"""Template helpers for the screening pages, and the provider file's screening block:

{% load screening_ui %}{% screening_history provider %}
"""

from __future__ import annotations

from django import template

register = template.Library()

FIELD_LABELS = {
    "npi": "NPI",
    "first_name": "First name",
    "last_name": "Last name",
    "dob": "Date of birth",
    "state": "State",
    "business_name": "Business name",
    "name_similar": "Similar name",
    "record_ended": "Exclusion ended",
}


@register.filter
def field_label(value: str) -> str:
    return FIELD_LABELS.get(value, str(value).replace("_", " ").capitalize())


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)


@register.inclusion_tag("screening/_stale_list.html")
def stale_list(version=None, name="", as_of=None, on=None):
    """A red line when an exclusion list is older than STALE_LIST_DAYS (today, or on `on`):
    {% stale_list version %} for a list in use, {% stale_list name="OIG" as_of=d on=when %}
    for a check made against a list of date d."""
    from screening.models import STALE_LIST_DAYS, list_is_stale

    if version is not None:
        name, as_of = version.list_name, version.as_of
    return {
        "stale": list_is_stale(as_of, on),
        "name": name,
        "as_of": as_of,
        "days": STALE_LIST_DAYS,
    }


@register.filter
def source_label(value: str) -> str:
    return {"leie": "OIG LEIE", "sam": "SAM.gov"}.get(value, value)


@register.inclusion_tag("screening/_provider_history.html", takes_context=True)
def screening_history(context, provider):
    """The provider's screening status per list, open matches and recent checks."""
    from django.conf import settings

    from credex.capabilities import has_capability
    from screening.selectors import last_sam_api_check, provider_screening_history

    request = context.get("request")
    org = getattr(request, "org", None) or context.get("org")
    membership = getattr(request, "membership", None)
    return {
        "org": org,
        "provider": provider,
        "history": provider_screening_history(org, provider),
        "sam_api": {
            "configured": bool(settings.SAM_API_KEY),
            "last": last_sam_api_check(org, provider),
        },
        "can_change": bool(membership and has_capability(membership.role, "roster.change")),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }


@register.filter
def kind_label(value: str) -> str:
    from screening.models import HitKind

    try:
        return HitKind(value).label
    except ValueError:
        return value


@register.filter
def new_counts_text(new: dict) -> str:
    """{"npi": 1, "possible": 2, ...} -> "1 exact NPI · 2 possible" (kinds with none left out)."""
    words = {
        "npi": "exact NPI",
        "name_dob": "name + date of birth",
        "name_state": "name + state",
        "business": "business name",
        "possible": "possible",
        "reinstatement": "reinstated or no longer listed",
    }
    return " · ".join(
        f"{(new or {}).get(k, 0)} {w}" for k, w in words.items() if (new or {}).get(k)
    )
