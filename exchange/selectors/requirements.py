"""The buyer's requirements profile against a listing: which rules a listing fails, in words."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from exchange.models import RequirementsProfile
from verifications.models import VerificationMethod, VerificationSource


@dataclass(frozen=True)
class Unmet:
    rule: str  # "type", "max_age", "method", "source_state", "seller_rating"
    message: str  # "older than your 90-day maximum"

    def as_dict(self) -> dict:
        return {"rule": self.rule, "message": self.message}


def requirements_profile(*, org) -> RequirementsProfile | None:
    return RequirementsProfile.objects.filter(organization=org).prefetch_related("rules").first()


def requirements_unmet(*, profile, listing, seller_rating=None, now=None) -> list[Unmet]:
    """The rules of `profile` that `listing` fails ([] when it fulfils them all). A member
    without a profile accepts every type at the platform's maximum age."""
    if profile is None:
        return []
    now = now or timezone.now()
    rules = {rule.source: rule for rule in profile.rules.all()}
    rule = rules.get(listing.source)
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
