"""The member's requirements profile: which verification types it accepts from the exchange,
the maximum age of each, the methods and source states it accepts, the minimum seller rating.

Search marks every listing against it (exchange.selectors.requirements.requirements_unmet);
a purchase refuses an unmet rule unless the buyer overrides it with a reason.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import InvalidInput
from credex.models import Membership
from exchange.models import ExchangeSettings, RequirementRule, RequirementsProfile
from verifications.models import VerificationMethod, VerificationSource

US_STATES = {
    *"AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV "
    "NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP".split()
}
# NPDB results are never listed, and a purchased record is never resold.
ACCEPTABLE_SOURCES = [s for s in VerificationSource.values if s != VerificationSource.NPDB]
ACCEPTABLE_METHODS = [m for m in VerificationMethod.values if m != VerificationMethod.EXCHANGE]


def _as_list(value, name: str) -> list:
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple):
        raise InvalidInput(f"Give {name} as a list.", details={name: "a list"})
    return list(value)


def clean_rules(rules) -> list[dict]:
    """[{source, max_age_days, methods, source_states}] validated and normalized."""
    max_age = ExchangeSettings.current().max_age_days
    rules = _as_list(rules, "rules")
    if len(rules) > len(ACCEPTABLE_SOURCES):
        raise InvalidInput("Too many rules.", details={"rules": "too many"})
    cleaned, seen = [], set()
    for index, rule in enumerate(rules):
        where = f"rules[{index}]"
        if not isinstance(rule, dict):
            raise InvalidInput("Each rule is an object.", details={where: "an object"})
        source = rule.get("source")
        if source not in ACCEPTABLE_SOURCES:
            raise InvalidInput(
                "Choose a verification type the exchange trades.",
                details={f"{where}.source": "unknown or not traded"},
            )
        if source in seen:
            raise InvalidInput(
                "Each verification type appears once.", details={f"{where}.source": "repeated"}
            )
        seen.add(source)
        age = rule.get("max_age_days", max_age)
        if isinstance(age, bool) or not isinstance(age, int | str):
            raise InvalidInput("Give the maximum age in days.", details={f"{where}": "age"})
        try:
            age = int(age)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                "Give the maximum age in days.", details={f"{where}.max_age_days": "a number"}
            ) from exc
        if not 1 <= age <= max_age:
            raise InvalidInput(
                f"The maximum age is between 1 and {max_age} days (the exchange's own limit).",
                details={f"{where}.max_age_days": f"1 to {max_age}"},
            )
        methods = _as_list(rule.get("methods"), f"{where}.methods")
        if any(m not in ACCEPTABLE_METHODS for m in methods):
            raise InvalidInput(
                "Choose methods from the list.", details={f"{where}.methods": "unknown method"}
            )
        states = [
            str(s).strip().upper()
            for s in _as_list(rule.get("source_states"), f"{where}.source_states")
        ]
        if any(s not in US_STATES for s in states):
            raise InvalidInput(
                "Give states as two-letter codes.",
                details={f"{where}.source_states": "unknown state"},
            )
        cleaned.append(
            {
                "source": source,
                "max_age_days": age,
                "methods": sorted(set(methods)),
                "source_states": sorted(set(states)),
            }
        )
    return cleaned


def clean_rating(value) -> Decimal | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise InvalidInput("Give a rating from 1 to 5.", details={"min_seller_rating": "1-5"})
    try:
        rating = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(
            "Give a rating from 1 to 5.", details={"min_seller_rating": "1-5"}
        ) from exc
    if not Decimal("1") <= rating <= Decimal("5"):
        raise InvalidInput("Give a rating from 1 to 5.", details={"min_seller_rating": "1-5"})
    return rating


def requirements_save(*, org, actor, rules, min_seller_rating=None) -> RequirementsProfile:
    """Replace the organization's requirements profile (rules and minimum seller rating)."""
    require(actor, cap.MANAGE_EXCHANGE)
    cleaned = clean_rules(rules)
    rating = clean_rating(min_seller_rating)
    with transaction.atomic():
        profile, _ = RequirementsProfile.objects.select_for_update().get_or_create(organization=org)
        profile.min_seller_rating = rating
        profile.updated_by = actor if isinstance(actor, Membership) else None
        profile.updated_at = timezone.now()
        profile.save()
        RequirementRule.objects.filter(organization=org, profile=profile).delete()
        RequirementRule.objects.bulk_create(
            [RequirementRule(organization_id=org.pk, profile=profile, **rule) for rule in cleaned]
        )
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="exchange.requirements.updated",
            target=profile,
            source="exchange",
            data={
                "rules": cleaned,
                "min_seller_rating": str(rating) if rating is not None else None,
            },
        )
    return profile
