"""Exchange pages: the requirements profile (what the organization accepts from the exchange:
verification types, maximum age of each, methods, source states, minimum seller rating).
Every role reads it; owners and admins (exchange.manage) change it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from credex import capabilities as cap
from credex import interface as ui
from credex.errors import DomainError
from credex.views import capability_required
from exchange.models import ExchangeSettings
from exchange.selectors.requirements import requirements_profile
from exchange.services.requirements import (
    ACCEPTABLE_METHODS,
    ACCEPTABLE_SOURCES,
    requirements_save,
)
from verifications.models import VerificationMethod, VerificationSource


def _rules_from_post(post) -> list[dict]:
    rules = []
    for source in ACCEPTABLE_SOURCES:
        if not post.get(f"accept_{source}"):
            continue
        states = post.get(f"states_{source}", "")[:300].replace(";", ",").replace(" ", ",")
        rules.append(
            {
                "source": source,
                "max_age_days": post.get(f"max_age_{source}", "").strip()[:6] or None,
                "methods": post.getlist(f"methods_{source}")[:20],
                "source_states": [s for s in states.split(",") if s.strip()][:60],
            }
        )
    for rule in rules:
        if rule["max_age_days"] is None:
            rule.pop("max_age_days")
    return rules


def _rows(profile, posted=None):
    default_age = ExchangeSettings.current().max_age_days
    by_source = {r.source: r for r in profile.rules.all()} if profile else {}
    rows = []
    for source in ACCEPTABLE_SOURCES:
        rule = by_source.get(source)
        if posted is not None:
            accepted = bool(posted.get(f"accept_{source}"))
            age = posted.get(f"max_age_{source}", "")
            methods = posted.getlist(f"methods_{source}")
            states = posted.get(f"states_{source}", "")
        else:
            accepted = rule is not None
            age = rule.max_age_days if rule else default_age
            methods = rule.methods if rule else []
            states = ", ".join(rule.source_states) if rule else ""
        rows.append(
            {
                "source": source,
                "label": VerificationSource(source).label,
                "accepted": accepted,
                "max_age_days": age,
                "methods": [
                    (m, VerificationMethod(m).label, m in methods) for m in ACCEPTABLE_METHODS
                ],
                "states": states,
            }
        )
    return rows


@require_http_methods(["GET", "POST"])
@capability_required(cap.VIEW_EXCHANGE)
def requirements(request, org_slug):
    org = request.org
    can_manage = ui.can_change(request, cap.MANAGE_EXCHANGE)
    profile = requirements_profile(org=org)
    error, status, posted = None, 200, None
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        try:
            requirements_save(
                org=org,
                actor=request.membership,
                rules=_rules_from_post(request.POST),
                min_seller_rating=request.POST.get("min_seller_rating", "").strip()[:10],
            )
        except DomainError as exc:
            ui.raise_http(exc)
            error, status, posted = exc, exc.status, request.POST
        else:
            messages.success(request, "Requirements saved. Search marks listings against them.")
            return redirect("exchange_requirements", org_slug=org.slug)
    context = {
        "tab": "requirements",
        "profile": profile,
        "rows": _rows(profile, posted),
        "min_seller_rating": (
            posted.get("min_seller_rating", "")
            if posted is not None
            else (profile.min_seller_rating if profile and profile.min_seller_rating else "")
        ),
        "can_manage": can_manage,
        "error": error,
        "max_age": ExchangeSettings.current().max_age_days,
    }
    return render(request, "exchange/requirements/index.html", context, status=status)


urlpatterns = [
    path("requirements/", requirements, name="exchange_requirements"),
]
