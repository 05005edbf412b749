"""Payer enrollment and contracting: payers, contracts, enrollment applications and their
state machine.

The seed process: select payers, submit the application, follow up, resubmit once if the payer
asks, then the payer approves or denies. The machine:

    requested -> in_preparation -> submitted -> in_follow_up -> resubmitted -> in_follow_up ...
    submitted / in_follow_up / resubmitted -> approved | denied   (the payer decides)
    any open state -> withdrawn

Decisions where the issue was silent:
- One resubmission per application (MAX_RESUBMISSIONS). A payer that wants a second one is
  a new application: withdraw this one and request again, so the history stays readable.
- A resubmission keeps the first `submitted_on` (payers count processing time from the first
  filing); the resubmission date is in the notes log and the audit trail.
- Every step may carry the date it happened (`on`, default today, never in the future), so a
  coordinator can record yesterday's phone call today.
- Only one open application per provider and payer; a closed one (approved, denied,
  withdrawn) does not block a new request.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, InvalidInput
from enrollment.models import Enrollment, EnrollmentStatus, Payer, PayerContact, PayerContract
from roster.models import Provider
from roster.selectors.providers import provider_exclusion_block

S = EnrollmentStatus
OPEN_STATUSES = (S.REQUESTED, S.IN_PREPARATION, S.SUBMITTED, S.IN_FOLLOW_UP, S.RESUBMITTED)
CLOSED_STATUSES = (S.APPROVED, S.DENIED, S.WITHDRAWN)
# Statuses after filing: the payer has the application, so a follow-up date applies.
FILED_STATUSES = (S.SUBMITTED, S.IN_FOLLOW_UP, S.RESUBMITTED)

TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.REQUESTED: (S.IN_PREPARATION, S.WITHDRAWN),
    S.IN_PREPARATION: (S.SUBMITTED, S.WITHDRAWN),
    S.SUBMITTED: (S.IN_FOLLOW_UP, S.APPROVED, S.DENIED, S.WITHDRAWN),
    S.IN_FOLLOW_UP: (S.RESUBMITTED, S.APPROVED, S.DENIED, S.WITHDRAWN),
    S.RESUBMITTED: (S.IN_FOLLOW_UP, S.APPROVED, S.DENIED, S.WITHDRAWN),
    S.APPROVED: (),
    S.DENIED: (),
    S.WITHDRAWN: (),
}
MAX_RESUBMISSIONS = 1
# A provider with a confirmed exclusion cannot be enrolled: no new request, and an open
# application may only be followed up, denied or withdrawn (every step towards enrollment
# -- preparing, filing, resubmitting, recording an approval -- is refused with a 409).
EXCLUDED_ALLOWED_STEPS = (S.IN_FOLLOW_UP, S.DENIED, S.WITHDRAWN)
EXCLUDED_CODE = "provider_excluded"
FOLLOW_UP_DAYS = 30

# What the button says for each target status (the UI and error messages use it).
STEP_LABELS = {
    S.IN_PREPARATION: "Start preparing",
    S.SUBMITTED: "Mark submitted",
    S.IN_FOLLOW_UP: "Log follow-up",
    S.RESUBMITTED: "Mark resubmitted",
    S.APPROVED: "Record approval",
    S.DENIED: "Record denial",
    S.WITHDRAWN: "Withdraw",
}


def allowed_transitions(enrollment: Enrollment, *, excluded: bool | None = None) -> list[str]:
    """The statuses this application may move to next (resubmission only while allowed;
    for a provider with a confirmed exclusion only follow-up, denial and withdrawal)."""
    steps = list(TRANSITIONS.get(enrollment.status, ()))
    if S.RESUBMITTED in steps and enrollment.resubmissions >= MAX_RESUBMISSIONS:
        steps.remove(S.RESUBMITTED)
    if enrollment.provider.excluded if excluded is None else excluded:
        steps = [s for s in steps if s in EXCLUDED_ALLOWED_STEPS]
    return steps


def _refuse_if_excluded(provider: Provider, what: str) -> None:
    reason = provider_exclusion_block(provider, what=what)
    if reason:
        raise Conflict(
            reason,
            details={"provider": reason},
            code=EXCLUDED_CODE,
        )


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _label(status: str) -> str:
    return S(status).label if status in S.values else status


# --- payers ---------------------------------------------------------------------------------
PAYER_FIELDS = ("name", "payer_id", "contact_name", "contact_email", "contact_phone", "portal_url")
_MAX_LENGTHS = {"name": 200, "payer_id": 40, "contact_name": 200, "contact_phone": 30}


def validate_payer(data: dict, *, creating: bool) -> dict[str, str]:
    """Field-level checks for a payer; {field: sentence}."""
    errors: dict[str, str] = {}
    for name in set(data) - set(PAYER_FIELDS):
        errors[name] = "Unknown field."
    if (creating or "name" in data) and not str(data.get("name") or "").strip():
        errors["name"] = "Enter the payer's name."
    for name, limit in _MAX_LENGTHS.items():
        if len(str(data.get(name) or "")) > limit:
            errors[name] = f"At most {limit} characters."
    if data.get("contact_email"):
        try:
            validate_email(data["contact_email"])
        except ValidationError:
            errors["contact_email"] = "Enter an e-mail address like name@payer.com."
    if data.get("portal_url"):
        try:
            URLValidator(schemes=["http", "https"])(data["portal_url"])
        except ValidationError:
            errors["portal_url"] = "Enter a web address starting with https://."
    return errors


def _clean_payer(data: dict) -> dict:
    return {k: str(v or "").strip() for k, v in data.items()}


def payer_create(*, org, actor, **data) -> Payer:
    """Add a payer (health plan) the organization enrolls providers with."""
    require(actor, cap.CHANGE_ROSTER)
    data = _clean_payer(data)
    errors = validate_payer(data, creating=True)
    if errors:
        raise InvalidInput("Some fields need attention.", details=errors)
    with transaction.atomic():
        payer = Payer(organization=org, **data)
        try:
            with transaction.atomic():
                payer.save(force_insert=True)
        except IntegrityError:
            raise Conflict(
                f"A payer named “{payer.name}” already exists.",
                details={"name": "A payer with this name already exists."},
            )
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.payer.created",
            target=payer,
            data={k: v for k, v in data.items() if v},
        )
    return payer


def payer_update(*, org, actor, payer: Payer, **data) -> Payer:
    """Change a payer's name or contact details."""
    require(actor, cap.CHANGE_ROSTER)
    data = _clean_payer(data)
    errors = validate_payer(data, creating=False)
    if errors:
        raise InvalidInput("Some fields need attention.", details=errors)
    diff = {}
    for name, value in data.items():
        if getattr(payer, name) != value:
            diff[name] = {"from": getattr(payer, name), "to": value}
            setattr(payer, name, value)
    if not diff:
        return payer
    with transaction.atomic():
        try:
            with transaction.atomic():
                payer.save()
        except IntegrityError:
            raise Conflict(
                f"A payer named “{payer.name}” already exists.",
                details={"name": "A payer with this name already exists."},
            )
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.payer.updated",
            target=payer,
            data={"changes": diff},
        )
    return payer


# --- contracts ------------------------------------------------------------------------------
CONTRACT_FIELDS = (
    "effective_date",
    "renewal_date",
    "fee_schedule_ref",
    "scope_of_services",
    "terms_notes",
)


def validate_contract(data: dict, *, instance: PayerContract | None = None) -> dict[str, str]:
    """Field-level checks for a payer contract; {field: sentence}."""
    errors: dict[str, str] = {}
    for name in set(data) - set(CONTRACT_FIELDS):
        errors[name] = "Unknown field."
    effective = data.get("effective_date", instance.effective_date if instance else None)
    renewal = data.get("renewal_date", instance.renewal_date if instance else None)
    if not isinstance(effective, date):
        errors["effective_date"] = "Enter the date the contract takes effect."
    if renewal is not None and not isinstance(renewal, date):
        errors["renewal_date"] = "Enter a date, or leave it empty for an open-ended contract."
    elif isinstance(effective, date) and renewal and renewal <= effective:
        errors["renewal_date"] = "The renewal date must be after the effective date."
    if len(str(data.get("fee_schedule_ref") or "")) > 200:
        errors["fee_schedule_ref"] = "At most 200 characters."
    return errors


def contract_create(*, org, actor, payer: Payer, **data) -> PayerContract:
    """Record the terms agreed with a payer (renewals feed the inbox)."""
    require(actor, cap.CHANGE_ROSTER)
    errors = validate_contract(data)
    if errors:
        raise InvalidInput("Some fields need attention.", details=errors)
    text = {k: str(data.get(k) or "").strip() for k in CONTRACT_FIELDS[2:]}
    with transaction.atomic():
        contract = PayerContract.objects.create(
            organization=org,
            payer=payer,
            effective_date=data["effective_date"],
            renewal_date=data.get("renewal_date"),
            **text,
        )
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.contract.created",
            target=contract,
            data={
                "payer": str(payer.pk),
                "payer_name": payer.name,
                "effective_date": _jsonable(contract.effective_date),
                "renewal_date": _jsonable(contract.renewal_date),
                "fee_schedule_ref": contract.fee_schedule_ref,
            },
        )
    return contract


def contract_update(*, org, actor, contract: PayerContract, **data) -> PayerContract:
    """Change a contract's dates or terms (a renewal moves the renewal date)."""
    require(actor, cap.CHANGE_ROSTER)
    errors = validate_contract(data, instance=contract)
    if errors:
        raise InvalidInput("Some fields need attention.", details=errors)
    diff = {}
    for name, value in data.items():
        if name in CONTRACT_FIELDS[2:]:
            value = str(value or "").strip()
        if getattr(contract, name) != value:
            diff[name] = {"from": _jsonable(getattr(contract, name)), "to": _jsonable(value)}
            setattr(contract, name, value)
    if not diff:
        return contract
    with transaction.atomic():
        contract.save()
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.contract.updated",
            target=contract,
            data={"payer": str(contract.payer_id), "changes": diff},
        )
    return contract


# --- enrollment applications ----------------------------------------------------------------
def _note_line(on: date, heading: str, note: str, actor) -> str:
    who = getattr(getattr(actor, "user", None), "email", "") or getattr(actor, "name", "")
    text = f"{on.isoformat()} · {heading}"
    if note:
        text += f": {note.strip()}"
    return f"{text} — {who}" if who else text


NOTE_MAX = 2000


def _refuse_long_note(note) -> None:
    if len(str(note or "")) > NOTE_MAX:
        raise InvalidInput("Keep a note under 2,000 characters.", details={"note": "Too long."})


def _append_note(enrollment: Enrollment, line: str) -> None:
    enrollment.notes = f"{enrollment.notes.rstrip()}\n{line}".strip()


def enrollment_request(
    *,
    org,
    actor,
    provider: Provider,
    payers: list[Payer],
    note: str = "",
    on: date | None = None,
) -> list[Enrollment]:
    """Open an enrollment application with each payer for one provider (`on`: the date it
    was asked for, default today; for recording earlier requests)."""
    require(actor, cap.CHANGE_ROSTER)
    if not payers:
        raise InvalidInput("Choose at least one payer.", details={"payers": "Choose a payer."})
    if len({p.pk for p in payers}) != len(payers):
        raise InvalidInput("A payer is listed twice.", details={"payers": "Duplicate payer."})
    today = timezone.localdate()
    if on is not None and on > today:
        raise InvalidInput(
            "The request date cannot be in the future.", details={"on": "Today or earlier."}
        )
    requested_at = timezone.now()
    if on is not None and on < today:
        requested_at = timezone.make_aware(datetime.combine(on, time(9)))
    created = []
    with transaction.atomic():
        # Lock the provider so two requests for the same pair cannot both pass the check
        # below (no unique constraint can express "one open application per pair" without
        # a migration; see the report).
        locked = Provider.objects.select_for_update().filter(pk=provider.pk).first()
        _refuse_if_excluded(locked or provider, "enrolled with a payer")
        open_payers = set(
            Enrollment.objects.filter(
                organization=org,
                provider=provider,
                payer__in=payers,
                status__in=OPEN_STATUSES,
            ).values_list("payer__name", flat=True)
        )
        if open_payers:
            names = ", ".join(sorted(open_payers))
            raise Conflict(
                f"{provider.full_name} already has an open application with {names}.",
                details={"payers": f"Already open: {names}."},
            )
        for payer in payers:
            enrollment = Enrollment(
                organization=org, provider=provider, payer=payer, requested_at=requested_at
            )
            _append_note(enrollment, _note_line(on or today, "Requested", note, actor))
            enrollment.save(force_insert=True)
            audit_record(
                org=org,
                actor=audit_actor(actor),
                action="roster.enrollment.requested",
                target=enrollment,
                data={
                    "provider": str(provider.pk),
                    "payer": str(payer.pk),
                    "payer_name": payer.name,
                },
            )
            created.append(enrollment)
    return created


def _transition_errors(
    enrollment: Enrollment, to: str, on: date, effective_date, next_follow_up
) -> dict:
    errors = {}
    today = timezone.localdate()
    if on > today:
        errors["on"] = "The date of this step cannot be in the future."
    if to == S.APPROVED and not isinstance(effective_date, date):
        errors["effective_date"] = "Enter the date the enrollment takes effect (from the payer)."
    if next_follow_up is not None:
        if to not in FILED_STATUSES:
            errors["next_follow_up"] = "A follow-up date applies only while the payer has it."
        elif next_follow_up < on:
            errors["next_follow_up"] = "The next follow-up cannot be before the date of this step."
    submitted = enrollment.submitted_on
    if to != S.SUBMITTED and submitted and on < submitted:
        errors["on"] = "This step cannot be before the application was submitted."
    return errors


def enrollment_transition(
    *,
    org,
    actor,
    enrollment: Enrollment,
    to: str,
    on: date | None = None,
    effective_date: date | None = None,
    next_follow_up: date | None = None,
    note: str = "",
) -> Enrollment:
    """Move an application to its next status; refused (nothing changed) when not allowed."""
    require(actor, cap.CHANGE_ROSTER)
    if to not in S.values:
        raise InvalidInput(
            f"“{to}” is not an enrollment status.",
            details={"to": f"Choose one of: {', '.join(S.values)}."},
        )
    # Unbounded, 100 KB went into the log (the API's serializer stops at 2,000; forms did not).
    _refuse_long_note(note)
    on = on or timezone.localdate()
    with transaction.atomic():
        locked = (
            Enrollment.objects.select_for_update().select_related("provider").get(pk=enrollment.pk)
        )
        if to in TRANSITIONS.get(locked.status, ()) and to not in EXCLUDED_ALLOWED_STEPS:
            _refuse_if_excluded(locked.provider, _EXCLUDED_WHAT.get(to, "enrolled"))
        allowed = allowed_transitions(locked)
        if to not in allowed:
            raise Conflict(
                _refusal(locked, to, allowed),
                details={"to": _refusal_short(locked, to, allowed), "allowed": allowed},
                code="transition_not_allowed",
            )
        errors = _transition_errors(locked, to, on, effective_date, next_follow_up)
        if errors:
            raise InvalidInput("Some fields need attention.", details=errors)
        before = {
            "status": locked.status,
            "next_follow_up": _jsonable(locked.next_follow_up),
        }
        _apply_transition(locked, to, on, effective_date, next_follow_up)
        _append_note(locked, _note_line(on, _label(to), note, actor))
        locked.updated_at = timezone.now()
        locked.save()
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action=f"roster.enrollment.{to}",
            target=locked,
            data={
                "from": before["status"],
                "to": to,
                "on": on.isoformat(),
                "provider": str(locked.provider_id),
                "payer": str(locked.payer_id),
                "next_follow_up": _jsonable(locked.next_follow_up),
                "effective_date": _jsonable(locked.effective_date),
                "note": note.strip()[:500],
            },
        )
    # The caller's instance reflects the change.
    enrollment.__dict__.update(
        {f.attname: getattr(locked, f.attname) for f in Enrollment._meta.concrete_fields}
    )
    return enrollment


_EXCLUDED_WHAT = {
    S.IN_PREPARATION: "enrolled (the application cannot be prepared)",
    S.SUBMITTED: "enrolled (the application cannot be submitted)",
    S.RESUBMITTED: "enrolled (the application cannot be resubmitted)",
    S.APPROVED: "enrolled (an approval cannot be recorded)",
}


def _apply_transition(enrollment, to, on, effective_date, next_follow_up) -> None:
    if to == S.SUBMITTED:
        enrollment.submitted_on = on
    if to == S.RESUBMITTED:
        enrollment.resubmissions += 1
    if to in FILED_STATUSES:
        enrollment.next_follow_up = next_follow_up or on + timedelta(days=FOLLOW_UP_DAYS)
    if to in CLOSED_STATUSES:
        enrollment.next_follow_up = None
    if to == S.APPROVED:
        enrollment.effective_date = effective_date
    enrollment.status = to


def _refusal(enrollment: Enrollment, to: str, allowed: list[str]) -> str:
    current = _label(enrollment.status)
    if to == S.RESUBMITTED and enrollment.resubmissions >= MAX_RESUBMISSIONS:
        return (
            "This application was already resubmitted once, and the process allows one "
            "resubmission. Withdraw it and request a new enrollment if the payer needs it again."
        )
    if not allowed:
        return f"This application is {current.lower()}: it is closed and its status cannot change."
    steps = ", ".join(_label(s) for s in allowed)
    return f"An application that is {current.lower()} cannot move to {_label(to)}. Next: {steps}."


def _refusal_short(enrollment: Enrollment, to: str, allowed: list[str]) -> str:
    if to == S.RESUBMITTED and enrollment.resubmissions >= MAX_RESUBMISSIONS:
        return "Already resubmitted once."
    return f"Not allowed from {_label(enrollment.status)}."


ENROLLMENT_UPDATE_FIELDS = ("next_follow_up", "reference_number", "effective_date")


def enrollment_update(*, org, actor, enrollment: Enrollment, **data) -> Enrollment:
    """Set the next follow-up date, the payer's reference number, or correct the effective
    date of an approved application."""
    require(actor, cap.CHANGE_ROSTER)
    errors: dict[str, str] = {}
    for name in set(data) - set(ENROLLMENT_UPDATE_FIELDS):
        errors[name] = "Unknown field (status changes go through a transition)."
    with transaction.atomic():
        locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if "next_follow_up" in data:
            value = data["next_follow_up"]
            if locked.status not in FILED_STATUSES:
                errors["next_follow_up"] = (
                    "A follow-up date applies only after the application is submitted and "
                    "while it is open."
                )
            elif not isinstance(value, date):
                errors["next_follow_up"] = "Enter a date for the next follow-up."
            elif locked.submitted_on and value < locked.submitted_on:
                errors["next_follow_up"] = "The follow-up cannot be before the submission date."
        if "effective_date" in data:
            value = data["effective_date"]
            if locked.status != S.APPROVED:
                errors["effective_date"] = "The effective date is set when the payer approves."
            elif not isinstance(value, date):
                errors["effective_date"] = "Enter the date the enrollment takes effect."
        if len(str(data.get("reference_number") or "")) > 60:
            errors["reference_number"] = "At most 60 characters."
        if errors:
            raise InvalidInput("Some fields need attention.", details=errors)
        diff = {}
        for name, value in data.items():
            if name == "reference_number":
                value = str(value or "").strip()
            if getattr(locked, name) != value:
                diff[name] = {"from": _jsonable(getattr(locked, name)), "to": _jsonable(value)}
                setattr(locked, name, value)
        if diff:
            locked.updated_at = timezone.now()
            locked.save()
            audit_record(
                org=org,
                actor=audit_actor(actor),
                action="roster.enrollment.updated",
                target=locked,
                data={"changes": diff},
            )
    enrollment.__dict__.update(
        {f.attname: getattr(locked, f.attname) for f in Enrollment._meta.concrete_fields}
    )
    return enrollment


def enrollment_add_note(*, org, actor, enrollment: Enrollment, note: str) -> Enrollment:
    """Append a dated note to the application's log."""
    require(actor, cap.CHANGE_ROSTER)
    note = str(note or "").strip()
    if not note:
        raise InvalidInput("Write the note first.", details={"note": "Write the note first."})
    _refuse_long_note(note)
    with transaction.atomic():
        locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        _append_note(locked, _note_line(timezone.localdate(), "Note", note, actor))
        locked.updated_at = timezone.now()
        locked.save(update_fields=["notes", "updated_at"])
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.enrollment.noted",
            target=locked,
            data={"note": note[:500]},
        )
    enrollment.notes, enrollment.updated_at = locked.notes, locked.updated_at
    return enrollment


# --- payer contacts (from verifications; audit actions keep their names) ----------------
def _clean_contact(name: str, email: str, title: str, phone: str) -> dict:
    values = {
        "name": (name or "").strip(),
        "email": (email or "").strip().lower(),
        "title": (title or "").strip(),
        "phone": (phone or "").strip(),
    }
    errors = {}
    if not values["name"]:
        errors["name"] = "Enter the contact's name."
    elif len(values["name"]) > 200:
        errors["name"] = "Keep the name under 200 characters."
    try:
        validate_email(values["email"])
    except ValidationError:
        errors["email"] = "Enter a valid e-mail address."
    if len(values["title"]) > 200:
        errors["title"] = "Keep the title under 200 characters."
    if len(values["phone"]) > 30:
        errors["phone"] = "Keep the phone number under 30 characters."
    if errors:
        first = next(iter(errors.values()))
        raise InvalidInput(
            first if len(errors) == 1 else "Check the marked fields.", details=errors
        )
    return values


def payer_contact_add(
    *, org, actor, payer, name: str, email: str, title: str = "", phone: str = ""
) -> PayerContact:
    """Add a contact person to a payer (packages are shared with them)."""
    require(actor, cap.CHANGE_ROSTER)
    values = _clean_contact(name, email, title, phone)
    try:
        with transaction.atomic():
            contact = PayerContact.objects.create(organization=org, payer=payer, **values)
            audit_record(
                org=org,
                actor=audit_actor(actor),
                action="verifications.payer_contact.added",
                target=contact,
                data={"payer": str(payer.pk), "name": contact.name, "email": contact.email},
            )
    except IntegrityError:
        raise Conflict(
            f"{values['email']} is already a contact of {payer.name}.",
            details={"email": "Already a contact of this payer."},
        )
    return contact


def payer_contact_remove(*, org, actor, contact: PayerContact) -> None:
    """Remove a payer contact; shares already sent keep their e-mail address."""
    require(actor, cap.CHANGE_ROSTER)
    with transaction.atomic():
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="verifications.payer_contact.removed",
            target=contact,
            data={"payer": str(contact.payer_id), "name": contact.name, "email": contact.email},
        )
        contact.delete()
