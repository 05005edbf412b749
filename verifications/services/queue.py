"""Writes of the PSV queue: open and assign requests, send a written request to a source, log
follow-ups, cancel; and the audited download of a verification's evidence.

A request is the queue's memory of work in progress on one element (a credential, or a
provider-level check): who it is assigned to, and for sources that answer only in writing,
where the request went, when, and when the reply is due. The partial unique constraint keeps
one open request per element; `request_open` relies on it rather than on a read-then-insert.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, InvalidInput, NotFound
from credex.models import Membership
from roster.models import Credential, Provider
from verifications.models import (
    OPEN_REQUEST_STATUSES,
    RequestStatus,
    VerificationEvidence,
    VerificationMethod,
    VerificationRequest,
    VerificationSource,
)
from verifications.services.records import PROVIDER_LEVEL_SOURCES
from verifications.sources import SOURCE_FOR_KIND

DEFAULT_DUE_BUSINESS_DAYS = 10
WRITTEN_METHODS = (VerificationMethod.EMAIL, VerificationMethod.FAX, VerificationMethod.MAIL)


def add_business_days(start: date, days: int) -> date:
    """`days` working days (Monday to Friday) after `start`."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def _data(request: VerificationRequest, **extra) -> dict:
    return {
        "provider": str(request.provider_id),
        "credential": str(request.credential_id or ""),
        "source": request.source,
        "status": request.status,
        **extra,
    }


def _check_element(org, provider: Provider, credential: Credential | None, source: str) -> str:
    if provider.organization_id != org.pk:
        raise NotFound("Not found.")
    if credential is not None:
        if credential.provider_id != provider.pk:
            raise InvalidInput(
                "That credential belongs to another provider.",
                details={"credential": "That credential belongs to another provider."},
            )
        expected = SOURCE_FOR_KIND.get(credential.kind, "")
        if not expected:
            raise InvalidInput(
                f"A {credential.get_kind_display().lower()} is not verified at a primary source.",
                details={
                    "credential": "Choose a credential that needs primary-source verification."
                },
            )
        # One request per credential: its source follows from its kind (the queue joins on it).
        if source and source != expected:
            label = VerificationSource(expected).label
            raise InvalidInput(
                f"A {credential.get_kind_display().lower()} is verified with the {label}.",
                details={"source": f"Use {expected} for this credential."},
            )
        source = expected
    if source not in VerificationSource.values:
        raise InvalidInput(
            "Choose the primary source to verify with.",
            details={"source": "Choose the primary source to verify with."},
        )
    if credential is None and source not in PROVIDER_LEVEL_SOURCES:
        raise InvalidInput(
            "Choose the credential this request is for.",
            details={"credential": "Choose the credential this request is for."},
        )
    return source


def _check_assignee(org, assignee: Membership | None) -> None:
    if assignee is not None and assignee.organization_id != org.pk:
        raise InvalidInput(
            "Assign to a member of this organization.",
            details={"assigned_to": "Assign to a member of this organization."},
        )


def _open(
    org, actor, provider, credential, source, assigned_to
) -> tuple[VerificationRequest, bool]:
    existing = (
        VerificationRequest.objects.select_for_update()
        .filter(
            organization=org,
            provider=provider,
            credential=credential,
            source=source,
            status__in=OPEN_REQUEST_STATUSES,
        )
        .first()
    )
    if existing is not None:
        return existing, False
    state = credential.state if credential and source == VerificationSource.STATE_BOARD else ""
    try:
        with transaction.atomic():
            created = VerificationRequest.objects.create(
                organization=org,
                provider=provider,
                credential=credential,
                source=source,
                source_state=state,
                assigned_to=assigned_to,
                created_by=actor if isinstance(actor, Membership) else None,
            )
    except IntegrityError:  # opened concurrently: the constraint chose the winner
        return VerificationRequest.objects.get(
            organization=org,
            provider=provider,
            credential=credential,
            source=source,
            status__in=OPEN_REQUEST_STATUSES,
        ), False
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action="verifications.request.opened",
        target=created,
        source=source,
        data=_data(created, assigned_to=str(assigned_to.pk) if assigned_to else ""),
    )
    return created, True


def _assign(org, actor, request: VerificationRequest, assignee: Membership | None) -> None:
    if request.assigned_to_id == (assignee.pk if assignee else None):
        return
    request.assigned_to = assignee
    request.save(update_fields=["assigned_to"])
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action="verifications.request.assigned",
        target=request,
        source=request.source,
        data=_data(request, assigned_to=str(assignee.pk) if assignee else ""),
    )


def request_open(
    *,
    org,
    actor,
    provider: Provider,
    credential: Credential | None = None,
    source: str = "",
    assigned_to: Membership | None = None,
) -> VerificationRequest:
    """The open request for an element, created if none (and assigned when `assigned_to`)."""
    require(actor, cap.CHANGE_ROSTER)
    source = _check_element(org, provider, credential, source)
    _check_assignee(org, assigned_to)
    with transaction.atomic():
        request, created = _open(org, actor, provider, credential, source, assigned_to)
        if not created and assigned_to is not None:
            _assign(org, actor, request, assigned_to)
    return request


def requests_assign(*, org, actor, elements: list[tuple], assignee: Membership | None) -> int:
    """Bulk: assign many elements (provider, credential or None, source) to one member."""
    require(actor, cap.CHANGE_ROSTER)
    _check_assignee(org, assignee)
    if not elements:
        raise InvalidInput("Tick the rows to assign first.", details={"keys": "Tick rows."})
    with transaction.atomic():
        for provider, credential, source in elements:
            source = _check_element(org, provider, credential, source)
            request, created = _open(org, actor, provider, credential, source, assignee)
            if not created:
                _assign(org, actor, request, assignee)
    return len(elements)


def requests_reassign_from_member(
    *, org, actor, removed: Membership, to: Membership | None, reason: str
) -> list[str]:
    """Every open request assigned to `removed` goes to `to` (or unassigned); one audit event
    per request, in the caller's transaction. Completed and cancelled ones keep their
    assignee."""
    require(actor, cap.CHANGE_ROSTER)
    _check_assignee(org, to)
    ids = []
    with transaction.atomic():
        for request in VerificationRequest.objects.select_for_update().filter(
            organization=org, assigned_to=removed, status__in=OPEN_REQUEST_STATUSES
        ):
            request.assigned_to = to
            request.save(update_fields=["assigned_to"])
            audit_record(
                org=org,
                actor=audit_actor(actor),
                action="verifications.request.assigned",
                target=request,
                source=request.source,
                data=_data(
                    request,
                    assigned_to=str(to.pk) if to else "",
                    previously_assigned_to=str(removed.pk),
                    reason=reason,
                ),
            )
            ids.append(str(request.pk))
    return ids


def _clean_due(due_date: date | None, today: date, default: date) -> date:
    if due_date is None:
        return default
    if due_date < today:
        raise InvalidInput(
            "The due date cannot be in the past.",
            details={"due_date": "The due date cannot be in the past."},
        )
    return due_date


# The API's serializers stop notes and reasons at 2,000 characters; the queue's forms did not,
# and 100 KB went into the request's note.
TEXT_MAX, SENT_TO_MAX = 2000, 254


def _refuse_long(field: str, text: str) -> None:
    if len(text) > TEXT_MAX:
        message = f"Keep the {field} under {TEXT_MAX:,} characters."
        raise InvalidInput(message, details={field: message})


def request_send(
    *,
    org,
    actor,
    method: str,
    sent_to: str,
    request: VerificationRequest | None = None,
    provider: Provider | None = None,
    credential: Credential | None = None,
    source: str = "",
    due_date: date | None = None,
    note: str = "",
) -> VerificationRequest:
    """Record that a written request went to the source (opening the request if needed)."""
    require(actor, cap.CHANGE_ROSTER)
    errors = {}
    if method not in WRITTEN_METHODS:
        errors["method"] = "Choose e-mail, fax or mail."
    sent_to = (sent_to or "").strip()
    if not sent_to:
        errors["sent_to"] = "Give the e-mail address, fax number or postal address it went to."
    elif len(sent_to) > SENT_TO_MAX:
        errors["sent_to"] = f"Keep the address to {SENT_TO_MAX} characters."
    if len(note.strip()) > TEXT_MAX:
        errors["note"] = f"Keep the note under {TEXT_MAX:,} characters."
    if errors:
        raise InvalidInput(
            "The request was not recorded: " + " ".join(errors.values()), details=errors
        )
    today = timezone.localdate()
    due = _clean_due(due_date, today, add_business_days(today, DEFAULT_DUE_BUSINESS_DAYS))
    with transaction.atomic():
        if request is None:
            if provider is None:
                raise InvalidInput("Say which provider the request is for.")
            source = _check_element(org, provider, credential, source)
            request, _ = _open(org, actor, provider, credential, source, None)
        request = VerificationRequest.objects.select_for_update().get(pk=request.pk)
        if request.status not in OPEN_REQUEST_STATUSES:
            raise Conflict("That request is closed; open a new one from the queue.")
        resent = request.status == RequestStatus.REQUESTED
        request.status = RequestStatus.REQUESTED
        request.method = method
        request.sent_to = sent_to[:254]
        request.requested_at = timezone.now()
        request.due_date = due
        if note.strip():
            request.note = (request.note + "\n" if request.note else "") + note.strip()
        request.save()
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="verifications.request.sent",
            target=request,
            source=request.source,
            data=_data(
                request,
                method=method,
                sent_to=request.sent_to,
                due_date=due.isoformat(),
                resent=resent,
            ),
        )
    return request


def request_follow_up(
    *, org, actor, request: VerificationRequest, due_date: date | None = None, note: str = ""
) -> VerificationRequest:
    """Log a follow-up with the source: count it and move the due date."""
    require(actor, cap.CHANGE_ROSTER)
    _refuse_long("note", note.strip())
    today = timezone.localdate()
    due = _clean_due(due_date, today, add_business_days(today, DEFAULT_DUE_BUSINESS_DAYS // 2))
    with transaction.atomic():
        request = VerificationRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != RequestStatus.REQUESTED:
            raise Conflict("Send the request before logging a follow-up.")
        request.follow_up_count += 1
        request.last_follow_up_at = timezone.now()
        request.due_date = due
        if note.strip():
            request.note = (request.note + "\n" if request.note else "") + note.strip()
        request.save()
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="verifications.request.followed_up",
            target=request,
            source=request.source,
            data=_data(request, follow_up=request.follow_up_count, due_date=due.isoformat()),
        )
    return request


def request_cancel(*, org, actor, request: VerificationRequest, reason: str) -> VerificationRequest:
    """Close a request without a verification (the reason is kept and audited)."""
    require(actor, cap.CHANGE_ROSTER)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            "Say why the request is cancelled.",
            details={"reason": "Say why the request is cancelled."},
        )
    _refuse_long("reason", reason)
    with transaction.atomic():
        request = VerificationRequest.objects.select_for_update().get(pk=request.pk)
        if request.status not in OPEN_REQUEST_STATUSES:
            raise Conflict("That request is already closed.")
        request.status = RequestStatus.CANCELLED
        request.completed_at = timezone.now()
        request.note = (request.note + "\n" if request.note else "") + f"Cancelled: {reason}"
        request.save()
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="verifications.request.cancelled",
            target=request,
            source=request.source,
            data=_data(request, reason=reason[:500]),
        )
    return request


def evidence_download(*, org, actor, evidence: VerificationEvidence):
    """Record the download of an evidence file and open it (the caller streams it)."""
    require(actor, cap.VIEW_ROSTER)
    if evidence.organization_id != org.pk:
        raise NotFound("Not found.")
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action="verifications.evidence.downloaded",
        target=evidence,
        data={
            "verification": str(evidence.verification_id),
            "sha256": evidence.sha256,
            "size": evidence.size,
        },
    )
    return evidence.file.open("rb")
