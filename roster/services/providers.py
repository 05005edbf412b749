"""Providers and their credentials: create, update, protected fields, exclusion flag.

Re-credentialing due date: when a provider has a committee decision date and no
re-credentialing due date is given (blank), the due date is the decision date plus the
organization's re-credentialing cycle (`Organization.recredentialing_cycle_months`, 36 by
default), computed on create and on update (`recredentialing_due_from`).
"""

from __future__ import annotations

import calendar
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import Actor, audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, InvalidInput
from credex.models import Membership
from roster import crypto
from roster import hooks as roster_hooks
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

# The provider's editable fields, in display order: the service accepts these, the API's
# ProviderOut lists them (dob and ssn as has_dob and ssn_last4).
PROVIDER_FIELDS = (
    "npi",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "former_names",
    "legal_name",
    "dba_name",
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
)
# Changes to these are recorded with before/after values; protected ones only as "changed".
PROTECTED = {"dob", "ssn"}
DATE_FIELDS = {
    "dob",
    "hire_date",
    "initial_credentialing_date",
    "committee_decision_date",
    "recredentialing_due_date",
    "caqh_last_attested",
}
CAQH_ATTESTATION_DAYS = 120


def add_months(day: date, months: int) -> date:
    """`day` plus whole months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def recredentialing_due_from(org, decision_date: date | None) -> date | None:
    """The next re-credentialing due date: decision date + the organization's cycle."""
    if not decision_date:
        return None
    return add_months(decision_date, org.recredentialing_cycle_months)


def clean_former_names(value) -> list[str]:
    """Former names as a list of non-empty strings (a text value: one name per line)."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.splitlines()
    return [" ".join(str(v).split()) for v in value if str(v).strip()]


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


def normalize_provider_data(data: dict) -> dict:
    """Trim text, upper-case codes and states, de-duplicate lists (before validating)."""
    out = dict(data)
    for name, value in data.items():
        if isinstance(value, str) and name not in PROTECTED:
            out[name] = value.strip()
    if isinstance(out.get("npi"), str):
        out["npi"] = out["npi"].replace(" ", "")
    for name in ("primary_taxonomy", "state"):
        if isinstance(out.get(name), str):
            out[name] = out[name].upper()
    for name in ("taxonomy_codes", "practice_states"):
        if isinstance(out.get(name), list | tuple):
            items = (str(v).strip().upper() for v in out[name])
            out[name] = list(dict.fromkeys(v for v in items if v))
    if "former_names" in out and isinstance(out["former_names"], str | list | tuple):
        out["former_names"] = clean_former_names(out["former_names"])
    return out


def validate_provider(org, data: dict, *, instance: Provider | None = None) -> dict:
    """Field-level checks; returns {field: sentence} (empty when valid)."""
    errors: dict[str, str] = {}
    unknown = set(data) - set(PROVIDER_FIELDS)
    for name in unknown:
        errors[name] = "Unknown field."
    # An organization (a legal or DBA name) needs no person's name.
    business = any(
        str(data.get(n, getattr(instance, n, "") if instance else "") or "").strip()
        for n in ("legal_name", "dba_name")
    )
    for name in ("first_name", "last_name", "provider_type"):
        if name != "provider_type" and business:
            continue
        if (name in data or instance is None) and not str(data.get(name, "") or "").strip():
            errors[name] = (
                "Required (or give a legal business name for an organization)."
                if name != "provider_type"
                else "Required."
            )
    for name in ("legal_name", "dba_name"):
        if len(str(data.get(name) or "")) > 300:
            errors[name] = "At most 300 characters."
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
        bad = [c for c in codes if c not in known and c != primary]
        if bad:
            errors["taxonomy_codes"] = f"Not in the NUCC code set: {', '.join(bad)}."
        if primary and primary not in known:
            errors["primary_taxonomy"] = (
                f"{primary} is not in the NUCC code set; search by specialty name and pick one."
            )
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
    for name in DATE_FIELDS - {"dob"}:
        if data.get(name) and not isinstance(data[name], date):
            errors[name] = "Enter a date like 2026-01-31."
    attested = data.get("caqh_last_attested")
    if isinstance(attested, date) and attested > timezone.localdate():
        errors["caqh_last_attested"] = "The last attestation cannot be in the future."
    if data.get("caqh_id") and not str(data["caqh_id"]).strip().isdigit():
        errors["caqh_id"] = "A CAQH ProView ID is digits only."
    former = data.get("former_names")
    if former and not isinstance(former, list | tuple | str):
        errors["former_names"] = "Give former names as a list of names."
    elif any(len(n) > 200 for n in clean_former_names(former)):
        errors["former_names"] = "A former name is at most 200 characters."
    coordinator = data.get("coordinator")
    if coordinator is not None and (
        not isinstance(coordinator, Membership)
        or coordinator.organization_id != org.pk
        or coordinator.role not in cap.roles_with(cap.CHANGE_ROSTER)
    ):
        errors["coordinator"] = (
            "Choose a member who works the roster (an owner, admin or coordinator)."
        )
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
            if isinstance(value, list):
                value = list(dict.fromkeys(value))  # keep order, drop repeats
        if name == "former_names":
            value = clean_former_names(value)
        if name == "taxonomy_codes":
            value = list(dict.fromkeys(c.strip().upper() for c in value or [] if c.strip()))
        before = getattr(provider, name)
        if before != value:
            diff[name] = {"from": _jsonable(before), "to": _jsonable(value)}
            setattr(provider, name, value)
    return diff


def _derived(org, provider: Provider) -> dict:
    """Values that follow from others: the primary code is among the codes; a blank
    re-credentialing due date is the committee decision date plus the org's cycle."""
    diff = {}
    primary = provider.primary_taxonomy_id
    if primary and primary not in provider.taxonomy_codes:
        provider.taxonomy_codes = [primary, *provider.taxonomy_codes]
        diff["taxonomy_codes"] = {"from": None, "to": provider.taxonomy_codes}
    if not provider.recredentialing_due_date and provider.committee_decision_date:
        due = recredentialing_due_from(org, provider.committee_decision_date)
        provider.recredentialing_due_date = due
        diff["recredentialing_due_date"] = {"from": None, "to": due.isoformat(), "computed": True}
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
    data = normalize_provider_data(data)
    errors = validate_provider(org, data)
    if errors:
        raise InvalidInput("Some fields need attention.", details=errors)
    provider = Provider(organization=org)
    with transaction.atomic():
        diff = _apply(provider, data)
        diff.update(_derived(org, provider))
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
        _screen_after_commit(org, provider, "new_hire")  # screening hook (see below)
        roster_hooks.provider_seats_changed.run(org=org)  # billing's seat count
    return provider


def provider_update(*, org, actor, provider: Provider, source: str = "", **data) -> Provider:
    """Change a provider's fields; records before/after (protected fields only as changed)."""
    require(actor, cap.CHANGE_ROSTER)
    data = normalize_provider_data(data)
    errors = validate_provider(org, data, instance=provider)
    if errors:
        raise InvalidInput("Some fields need attention.", details=errors)
    with transaction.atomic():
        diff = _apply(provider, data)
        if diff:
            diff.update(_derived(org, provider))
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
        if SCREENED_FIELDS & set(diff):
            _screen_after_commit(org, provider, "rename")  # screening hook (see below)
        if "status" in diff:
            roster_hooks.provider_seats_changed.run(org=org)  # billing's seat count
    return provider


# --- exclusion screening hook (roster.hooks.provider_screening_due) ------------------------
# A new provider, or a change of name, former names, date of birth or NPI, is screened
# against the OIG LEIE and SAM lists once the transaction commits (screening's receiver
# enqueues a Celery task on commit; nothing is enqueued if the transaction rolls back).
SCREENED_FIELDS = {
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "former_names",
    "legal_name",
    "dba_name",
    "dob",
    "npi",
}


def _screen_after_commit(org, provider: Provider, trigger: str) -> None:
    roster_hooks.provider_screening_due.run(org=org, provider=provider, trigger=trigger)


def provider_reveal(*, org, actor, provider: Provider, field: str, reason: str = "") -> str:
    """Decrypt a protected field for display; every reveal is audited.

    Revealing needs roster.change, not roster.view: auditors read the roster and its audit
    trail, and their work (checking who did what) never needs a full SSN or date of birth,
    so the minimum-necessary rule keeps the plaintext from them. The masked value (last four
    of the SSN, "date of birth on file") is what every reader sees.
    """
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


def provider_record_read(*, org, actor, provider: Provider, part: str = "file", via: str = "web"):
    """Record that someone read a provider's file (every read of provider data is audited).

    The rule, for every page and endpoint: a successful response that shows one provider's
    file, or any part of it, records exactly one read (this event); a list records one
    `roster.provider.list_viewed` (provider_list_record_read). A 404 or 403 records nothing,
    so call it after the lookup and the permission check. The data names the part read and
    the channel, never a value from the file.
    """
    return audit_record(
        org=org,
        actor=audit_actor(actor),
        action="roster.provider.viewed",
        target=provider,
        data={"part": part, "via": via},
    )


# A page of providers is at most 200 (the API's max_page_size); the cap only guards a caller
# that passes a whole queryset by mistake.
LIST_READ_CAP = 200


def provider_list_record_read(*, org, actor, providers, part: str = "list", via: str = "web"):
    """Record ONE read naming the providers a list response shows (none shown: no event).

    `providers` are Provider rows or their ids (a list of enrollments passes each row's
    provider_id); a provider shown twice is named once, in the order shown.
    """
    ids = list(dict.fromkeys(str(getattr(p, "pk", p)) for p in providers if p))
    ids = ids[:LIST_READ_CAP]
    if not ids:
        return None
    return audit_record(
        org=org,
        actor=audit_actor(actor),
        action="roster.provider.list_viewed",
        target_type=Provider._meta.label_lower,
        data={"part": part, "via": via, "count": len(ids), "providers": ids},
    )


def provider_bulk_assign_coordinator(
    *, org, actor, providers, coordinator: Membership | None
) -> list[Provider]:
    """Give many providers the same coordinator (or none); one audit event per provider."""
    require(actor, cap.CHANGE_ROSTER)
    problems = validate_provider(org, {"coordinator": coordinator}, instance=Provider())
    if problems:
        raise InvalidInput(problems["coordinator"], details=problems)
    providers = list(providers)
    if any(p.organization_id != org.pk for p in providers):
        raise InvalidInput("A provider is not on this roster.")
    new_id = coordinator.pk if coordinator else None
    changed = [p for p in providers if p.coordinator_id != new_id]
    now = timezone.now()
    with transaction.atomic():
        for provider in changed:
            before = provider.coordinator_id
            provider.coordinator = coordinator
            provider.updated_at = now
            provider.save(update_fields=["coordinator", "updated_at"])
            audit_record(
                org=org,
                actor=audit_actor(actor),
                action="roster.provider.updated",
                target=provider,
                data={
                    "changes": {
                        "coordinator": {
                            "from": str(before) if before else None,
                            "to": str(new_id) if new_id else None,
                        }
                    },
                    "bulk": True,
                },
            )
    return changed


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


# Kind-specific details (Credential.details): key -> type. Money is integer cents.
DETAIL_FIELDS: dict[str, dict[str, type]] = {
    CredentialKind.MALPRACTICE: {
        "carrier": str,
        "policy_number": str,
        "per_claim_cents": int,
        "aggregate_cents": int,
    },
    CredentialKind.BOARD_CERT: {"board": str, "specialty": str},
    CredentialKind.EDUCATION: {"institution": str, "degree": str},
    CredentialKind.TRAINING: {"institution": str, "program": str},
    CredentialKind.WORK_HISTORY: {"employer": str, "position": str},
    CredentialKind.PRIVILEGES: {"facility": str},
    CredentialKind.LIFE_SUPPORT: {"certification": str},
}
# Kinds described by a period (start/end) rather than issue/expiry dates.
PERIOD_KINDS = (CredentialKind.EDUCATION, CredentialKind.TRAINING, CredentialKind.WORK_HISTORY)


def _details_problem(kind: str, details) -> str | None:
    if not isinstance(details, dict):
        return "Details must be an object."
    for key, kind_type in DETAIL_FIELDS.get(kind, {}).items():
        value = details.get(key)
        if value in (None, ""):
            continue
        if kind_type is int and (isinstance(value, bool) or not isinstance(value, int)):
            return f"{key}: whole cents as an integer (e.g. 100000000 for $1,000,000)."
        if kind_type is int and value < 0:
            return f"{key}: cannot be negative."
        if kind_type is str and not isinstance(value, str):
            return f"{key}: text."
    per_claim, aggregate = details.get("per_claim_cents"), details.get("aggregate_cents")
    if (
        isinstance(per_claim, int)
        and isinstance(aggregate, int)
        and per_claim > aggregate
        and kind == CredentialKind.MALPRACTICE
    ):
        return "The per-claim limit is larger than the aggregate limit."
    return None


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
    if kind == CredentialKind.WORK_HISTORY and not start:
        errors["start_date"] = "Enter when this position started (needed to find gaps)."
    if "details" in data:
        problem = _details_problem(kind, data["details"])
        if problem:
            errors["details"] = problem
    return errors


def credential_create(*, org, actor, provider: Provider, source: str = "", **data) -> Credential:
    """Add a credential to a provider's file (source: where the values came from, e.g. NPPES)."""
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
            source=source,
            data={
                "provider": str(provider.pk),
                "kind": credential.kind,
                "expiry_date": _jsonable(credential.expiry_date),
            },
        )
    return credential


def credential_update(
    *, org, actor, credential: Credential, source: str = "", **data
) -> Credential:
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
            source=source,
            data={"provider": str(credential.provider_id), "changes": diff},
        )
    return credential


def providers_reassign_from_member(
    *, org, actor, removed: Membership, to: Membership | None, reason: str
) -> list[str]:
    """Every provider whose coordinator is `removed` gets `to` (or none); one audit event per
    provider, in the caller's transaction. Returns the provider ids."""
    require(actor, cap.CHANGE_ROSTER)
    problems = validate_provider(org, {"coordinator": to}, instance=Provider())
    if problems:
        raise InvalidInput(problems["coordinator"], details=problems)
    new_id = str(to.pk) if to else None
    now = timezone.now()
    ids = []
    with transaction.atomic():
        for provider in Provider.objects.select_for_update().filter(
            organization=org, coordinator=removed
        ):
            provider.coordinator = to
            provider.updated_at = now
            provider.save(update_fields=["coordinator", "updated_at"])
            audit_record(
                org=org,
                actor=audit_actor(actor),
                action="roster.provider.updated",
                target=provider,
                data={
                    "changes": {"coordinator": {"from": str(removed.pk), "to": new_id}},
                    "reason": reason,
                },
            )
            ids.append(str(provider.pk))
    return ids
