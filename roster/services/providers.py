"""Providers and their credentials: create, update, protected fields, exclusion flag."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import Actor, audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, InvalidInput
from roster import crypto
from roster.models import (
    PROVIDER_TYPES,
    Credential,
    CredentialKind,
    CredentialStatus,
    CustomProviderType,
    Provider,
    ProviderStatus,
    TaxonomyCode,
)
from roster.validation import dea_problem, npi_problem, state_problem

PROVIDER_FIELDS = {
    "npi",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "former_names",
    "provider_type",
    "primary_taxonomy",
    "taxonomy_codes",
    "practice_states",
    "dob",
    "ssn",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "hire_date",
    "status",
    "coordinator",
    "initial_credentialing_date",
    "committee_decision_date",
    "recredentialing_due_date",
    "caqh_id",
    "caqh_last_attested",
}
# Changes to these are recorded with before/after values; protected ones only as "changed".
PROTECTED = {"dob", "ssn"}


def provider_types(org) -> dict[str, str]:
    """Built-in provider types plus the organization's own."""
    types = dict(PROVIDER_TYPES)
    types.update(
        dict(CustomProviderType.objects.filter(organization=org).values_list("code", "name"))
    )
    return types


def _clean_ssn(value: str) -> str:
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    return digits


def validate_provider(org, data: dict, *, instance: Provider | None = None) -> dict:
    """Field-level checks; returns {field: sentence} (empty when valid)."""
    errors: dict[str, str] = {}
    unknown = set(data) - PROVIDER_FIELDS
    for name in unknown:
        errors[name] = "Unknown field."
    for name in ("first_name", "last_name", "provider_type"):
        if (name in data or instance is None) and not str(data.get(name, "") or "").strip():
            errors[name] = "Required."
    if data.get("npi"):
        problem = npi_problem(data["npi"])
        if problem:
            errors["npi"] = problem
    if data.get("provider_type") and data["provider_type"] not in provider_types(org):
        errors["provider_type"] = "Unknown provider type; an admin can add it in settings."
    codes = list(data.get("taxonomy_codes") or [])
    primary = data.get("primary_taxonomy")
    if primary and primary not in codes:
        codes.append(primary)
    if codes:
        known = set(TaxonomyCode.objects.filter(code__in=codes).values_list("code", flat=True))
        bad = [c for c in codes if c not in known]
        if bad:
            errors["taxonomy_codes"] = f"Not in the NUCC code set: {', '.join(bad)}."
    for st in data.get("practice_states") or []:
        if state_problem(st):
            errors["practice_states"] = f"{st!r}: " + state_problem(st)
            break
    if data.get("state") and state_problem(data["state"]):
        errors["state"] = state_problem(data["state"])
    if data.get("ssn") and len(_clean_ssn(data["ssn"])) != 9:
        errors["ssn"] = "An SSN has 9 digits."
    dob = data.get("dob")
    if dob and (not isinstance(dob, date) or dob > timezone.localdate()):
        errors["dob"] = "Enter a past date of birth."
    if data.get("status") and data["status"] not in ProviderStatus.values:
        errors["status"] = "Unknown status."
    return errors


def _apply(provider: Provider, data: dict) -> dict:
    """Set fields on the instance; return the audit diff (protected values masked)."""
    diff = {}
    for name, value in data.items():
        if name == "dob":
            new = crypto.encrypt(value.isoformat() if value else "")
            if crypto.decrypt(provider.dob_encrypted) != (value.isoformat() if value else ""):
                diff["dob"] = "changed"
                provider.dob_encrypted = new
            continue
        if name == "ssn":
            digits = _clean_ssn(value)
            if crypto.decrypt(provider.ssn_encrypted) != digits:
                diff["ssn"] = "changed"
                provider.ssn_encrypted = crypto.encrypt(digits)
                provider.ssn_last4 = digits[-4:] if digits else ""
            continue
        if name == "primary_taxonomy":
            value = value or None
            before = provider.primary_taxonomy_id
            if before != value:
                diff[name] = {"from": before, "to": value}
                provider.primary_taxonomy_id = value
            continue
        if name in ("practice_states", "state"):
            value = [v.upper() for v in value] if isinstance(value, list) else (value or "").upper()
        before = getattr(provider, name)
        if before != value:
            diff[name] = {"from": _jsonable(before), "to": _jsonable(value)}
            setattr(provider, name, value)
    return diff


def _jsonable(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "pk"):
        return str(value.pk)
    return value


def provider_create(*, org, actor, **data) -> Provider:
    """Add a provider to the roster."""
    require(actor, cap.CHANGE_ROSTER)
    errors = validate_provider(org, data)
    if errors:
        raise InvalidInput("Some fields need attention.", details=errors)
    provider = Provider(organization=org)
    with transaction.atomic():
        diff = _apply(provider, data)
        if (
            provider.primary_taxonomy_id
            and provider.primary_taxonomy_id not in provider.taxonomy_codes
        ):
            provider.taxonomy_codes = [*provider.taxonomy_codes, provider.primary_taxonomy_id]
        try:
            with transaction.atomic():
                provider.save(force_insert=True)
        except IntegrityError:
            raise Conflict(
                "A provider with this NPI is already on the roster.", details={"npi": "duplicate"}
            )
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.provider.created",
            target=provider,
            data={"name": provider.full_name, "npi": provider.npi, "fields": sorted(diff)},
        )
    return provider


def provider_update(*, org, actor, provider: Provider, source: str = "", **data) -> Provider:
    """Change a provider's fields; records before/after (protected fields only as changed)."""
    require(actor, cap.CHANGE_ROSTER)
    errors = validate_provider(org, data, instance=provider)
    if errors:
        raise InvalidInput("Some fields need attention.", details=errors)
    with transaction.atomic():
        diff = _apply(provider, data)
        if not diff:
            return provider
        provider.updated_at = timezone.now()
        try:
            with transaction.atomic():
                provider.save()
        except IntegrityError:
            raise Conflict(
                "A provider with this NPI is already on the roster.", details={"npi": "duplicate"}
            )
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.provider.updated",
            target=provider,
            source=source,
            data={"changes": diff},
        )
    return provider


def provider_reveal(*, org, actor, provider: Provider, field: str, reason: str = "") -> str:
    """Decrypt a protected field for display; every reveal is audited."""
    require(actor, cap.CHANGE_ROSTER)
    if field not in PROTECTED:
        raise InvalidInput("Only date of birth and SSN are protected.")
    token = provider.dob_encrypted if field == "dob" else provider.ssn_encrypted
    value = crypto.decrypt(token)
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action="roster.provider.protected_revealed",
        target=provider,
        data={"field": field, "reason": reason[:200]},
    )
    return value


def provider_dob(provider: Provider) -> date | None:
    """Decrypted date of birth for system matching (screening); not for display."""
    raw = crypto.decrypt(provider.dob_encrypted)
    return date.fromisoformat(raw) if raw else None


def provider_set_exclusion(
    *, org, provider: Provider, excluded: bool, source: str, actor=None, detail: dict | None = None
) -> Provider:
    """Flag (or clear) a confirmed exclusion; called by screening when a hit is confirmed."""
    with transaction.atomic():
        provider.excluded = excluded
        provider.excluded_at = timezone.now() if excluded else None
        provider.updated_at = timezone.now()
        provider.save(update_fields=["excluded", "excluded_at", "updated_at"])
        audit_record(
            org=org,
            actor=audit_actor(actor) if actor else Actor.system(source),
            action="roster.provider.exclusion_flagged"
            if excluded
            else "roster.provider.exclusion_cleared",
            target=provider,
            source=source,
            data=detail or {},
        )
    return provider


# --- credentials ---------------------------------------------------------------------------
CREDENTIAL_FIELDS = {
    "kind",
    "number",
    "issuer",
    "state",
    "issue_date",
    "expiry_date",
    "start_date",
    "end_date",
    "status",
    "details",
}


def validate_credential(data: dict, *, instance: Credential | None = None) -> dict:
    errors: dict[str, str] = {}
    for name in set(data) - CREDENTIAL_FIELDS:
        errors[name] = "Unknown field."
    kind = data.get("kind", instance.kind if instance else None)
    if kind not in CredentialKind.values:
        errors["kind"] = "Choose a credential type."
    if data.get("state") and state_problem(data["state"]):
        errors["state"] = state_problem(data["state"])
    if kind == CredentialKind.DEA and data.get("number") and dea_problem(data["number"]):
        errors["number"] = dea_problem(data["number"])
    issue = data.get("issue_date", instance.issue_date if instance else None)
    expiry = data.get("expiry_date", instance.expiry_date if instance else None)
    if issue and expiry and expiry < issue:
        errors["expiry_date"] = "The expiry date is before the issue date."
    start = data.get("start_date", instance.start_date if instance else None)
    end = data.get("end_date", instance.end_date if instance else None)
    if start and end and end < start:
        errors["end_date"] = "The end date is before the start date."
    if data.get("status") and data["status"] not in CredentialStatus.values:
        errors["status"] = "Unknown status."
    return errors


def credential_create(*, org, actor, provider: Provider, **data) -> Credential:
    """Add a credential to a provider's file."""
    require(actor, cap.CHANGE_ROSTER)
    errors = validate_credential(data)
    if errors:
        raise InvalidInput("Some fields need attention.", details=errors)
    with transaction.atomic():
        credential = Credential.objects.create(
            organization=org,
            provider=provider,
            **{**data, "state": (data.get("state") or "").upper()},
        )
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.credential.created",
            target=credential,
            data={
                "provider": str(provider.pk),
                "kind": credential.kind,
                "expiry_date": _jsonable(credential.expiry_date),
            },
        )
    return credential


def credential_update(*, org, actor, credential: Credential, **data) -> Credential:
    """Change a credential (a renewal moves its expiry date; the inbox resolves on its own)."""
    require(actor, cap.CHANGE_ROSTER)
    errors = validate_credential(data, instance=credential)
    if errors:
        raise InvalidInput("Some fields need attention.", details=errors)
    diff = {}
    for name, value in data.items():
        if name == "state":
            value = (value or "").upper()
        before = getattr(credential, name)
        if before != value:
            diff[name] = {"from": _jsonable(before), "to": _jsonable(value)}
            setattr(credential, name, value)
    if not diff:
        return credential
    with transaction.atomic():
        credential.updated_at = timezone.now()
        credential.save()
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.credential.updated",
            target=credential,
            data={"provider": str(credential.provider_id), "changes": diff},
        )
    return credential
