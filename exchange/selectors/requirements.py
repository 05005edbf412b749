"""The buyer's requirements profile against a listing: which rules a listing fails, in words."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef
from django.db.models.functions import JSONObject
from django.utils import timezone

from exchange.models import RequirementRule, RequirementsProfile
from verifications.models import VerificationMethod, VerificationSource


@dataclass(frozen=True)
class Unmet:
    rule: str  # "type", "max_age", "method", "source_state", "seller_rating"
    message: str  # "older than your 90-day maximum"

    def as_dict(self) -> dict:
        return {"rule": self.rule, "message": self.message}


def requirements_profile(*, org) -> RequirementsProfile | None:
    """The organization's profile with its rules, in one query (`rule_rows`: the rules as
    dicts, read by requirements_unmet; `profile.rules` still works for anyone else)."""
    rules = RequirementRule.objects.filter(organization=org, profile=OuterRef("pk")).values(
        row=JSONObject(
            source="source",
            max_age_days="max_age_days",
            methods="methods",
            source_states="source_states",
        )
    )
    return (
        RequirementsProfile.objects.filter(organization=org)
        .annotate(rule_rows=ArraySubquery(rules))
        .first()
    )


def _rules_by_source(profile) -> dict:
    rows = getattr(profile, "rule_rows", None)
    if rows is None:
        return {rule.source: rule for rule in profile.rules.all()}
    cached = getattr(profile, "_rules_by_source", None)
    if cached is None:
        cached = {
            row["source"]: SimpleNamespace(
                source=row["source"],
                max_age_days=row["max_age_days"],
                methods=row["methods"] or [],
                source_states=row["source_states"] or [],
            )
            for row in rows
        }
        profile._rules_by_source = cached
    return cached


def requirements_unmet(*, profile, listing, seller_rating=None, now=None) -> list[Unmet]:
    """The rules of `profile` that `listing` fails ([] when it fulfils them all). A member
    without a profile accepts every type at the platform's maximum age."""
    if profile is None:
        return []
    now = now or timezone.now()
    rule = _rules_by_source(profile).get(listing.source)
    source_label = VerificationSource(listing.source).label
    if rule is None:
        return [Unmet("type", f"{source_label} is not a type you accept from the exchange")]
    unmet = []
    age_days = (now - listing.verified_at).days
    if age_days > rule.max_age_days:
        unmet.append(Unmet("max_age", f"older than your {rule.max_age_days}-day maximum"))
    if rule.methods and listing.method not in rule.methods:
        method = VerificationMethod(listing.method).label.lower()
        unmet.append(Unmet("method", f"method {method} not accepted"))
    if (
        rule.source_states
        and listing.source_state
        and listing.source_state not in rule.source_states
    ):
        unmet.append(Unmet("source_state", f"source state {listing.source_state} not accepted"))
    minimum = profile.min_seller_rating
    if minimum is not None and (seller_rating is None or seller_rating < float(minimum)):
        shown = "no rating yet" if seller_rating is None else f"rated {seller_rating}"
        unmet.append(Unmet("seller_rating", f"seller {shown}, below your minimum {minimum}"))
    return unmet
