"""Document extraction with review: read credential fields from an uploaded document into an
ExtractionSuggestion, then apply them to the credential only on a member's decision.

- extraction_document_received: the roster's upload hook; enqueues the read on commit (never
  inline: OCR takes seconds).
- extraction_run: the worker's step; one suggestion per document and extractor, audited.
- extraction_decide: approve (the suggested values), correct (the member's values) or reject
  (nothing written); the credential changes through the roster's own services, and an approval
  or correction also accepts the document (audited, same transaction).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from audit.services import Actor, audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, InvalidInput, NotFound
from credex.models import Membership
from credex.writes import check_writes
from roster.models import Credential, Document
from roster.services.providers import credential_create, credential_update
from verifications.extraction.base import (
    CREDENTIAL_KIND_FOR,
    DATE_FIELDS,
    EXTRACTABLE_KINDS,
    FIELD_LABELS,
    ExtractionOutput,
    label_of,
)
from verifications.extraction.parsing import parse_date, state_code
from verifications.extraction.registry import extractors_for, run_extractors
from verifications.extraction.validation import validate_fields
from verifications.models import ExtractionSuggestion, SuggestionStatus

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = Actor.system("document extraction")
# Fields a decision may write to the credential (the name on the document is only checked).
APPLICABLE = ("expiry_date", "issue_date", "number", "issuer", "state")
DECISIONS = ("approve", "correct", "reject")
OPEN_STATUSES = (SuggestionStatus.PENDING, SuggestionStatus.EMPTY, SuggestionStatus.FAILED)
NOTHING_FOUND = "Nothing recognisable was found on the document; enter the values by hand."
UNREADABLE = "The document could not be read; enter the values by hand."


# --- on upload ------------------------------------------------------------------------------
def extraction_document_received(*, org, document) -> None:
    """Queue extraction for a newly stored document (on commit)."""
    if document.kind not in EXTRACTABLE_KINDS:
        return
    from verifications.jobs.extraction import extraction_run_task

    # robust: a broker hiccup must not turn the committed upload into an error page.
    extraction_run_task.enqueue_on_commit(org=org, document_id=str(document.pk))


# A task queued this long before the organization became read-only may still have been
# waiting (or retrying) when it did, and was skipped (credex/writes.py).
RESUME_LOOKBACK = timedelta(days=1)


def extraction_resume(*, org, paused_at) -> int:
    """Queue extraction again (on commit) for the documents received since shortly before
    `paused_at` that have no suggestion: their task was skipped while the organization was
    read-only. Returns how many."""
    if paused_at is None:
        return 0
    documents = (
        Document.objects.filter(
            organization=org,
            kind__in=EXTRACTABLE_KINDS,
            created_at__gte=paused_at - RESUME_LOOKBACK,
        )
        .exclude(pk__in=ExtractionSuggestion.objects.filter(organization=org).values("document"))
        .order_by("created_at")
    )
    count = 0
    for document in documents:
        extraction_document_received(org=org, document=document)
        count += 1
    return count


# --- the worker's step ----------------------------------------------------------------------
def _candidate_labels(document: Document) -> list[str]:
    return [label_of(e) for e in extractors_for(document.content_type, document.kind)] + ["none:0"]


def _read(document: Document) -> bytes:
    with document.file.open("rb") as handle:
        return handle.read()


def _normal(number: str) -> str:
    return "".join(ch for ch in (number or "").upper() if ch.isalnum())


def match_credential(document: Document, fields: dict) -> Credential | None:
    """The credential a document describes: its own link, else the provider's credential of
    that kind with the same number, or the same state, or the only one of that kind."""
    if document.credential_id:
        return document.credential
    kind = CREDENTIAL_KIND_FOR.get(document.kind)
    candidates = list(Credential.objects.filter(provider_id=document.provider_id, kind=kind))
    number = _normal(fields["number"].value) if "number" in fields else ""
    state = fields["state"].value if "state" in fields else ""
    by_number = [c for c in candidates if number and _normal(c.number) == number]
    if len(by_number) == 1:
        return by_number[0]
    by_state = [c for c in candidates if state and c.state == state]
    if len(by_state) == 1:
        return by_state[0]
    if len(candidates) == 1 and not (
        state and candidates[0].state and candidates[0].state != state
    ):
        return candidates[0]
    return None


def _extract(document: Document) -> tuple[str, ExtractionOutput, bool]:
    """(extractor label, output, crashed)."""
    try:
        label, output = run_extractors(_read(document), document.content_type, document.kind)
        return label, output, False
    except Exception:  # a file a library chokes on must still leave a suggestion
        logger.exception("extraction failed for document %s", document.pk)
        labels = _candidate_labels(document)
        return labels[0], ExtractionOutput(usable=False, message=UNREADABLE), True


def _status_of(output: ExtractionOutput, fields: dict, crashed: bool) -> tuple[str, str]:
    if fields:
        return SuggestionStatus.PENDING, output.message if output.usable else ""
    if crashed or not output.usable:
        return SuggestionStatus.FAILED, output.message or UNREADABLE
    return SuggestionStatus.EMPTY, NOTHING_FOUND


def extraction_run(*, org, document: Document) -> ExtractionSuggestion:
    """Read one document into one suggestion (idempotent per document and extractor). Not for
    a read-only organization (WritesPaused, credex/writes.py): `extraction_resume` queues it
    again when writes are restored."""
    existing = ExtractionSuggestion.objects.filter(
        organization=org, document=document, extractor__in=_candidate_labels(document)
    ).first()
    if existing is not None:
        return existing
    check_writes(org, fresh=True)
    label, output, crashed = _extract(document)
    provider = document.provider
    fields, problems = validate_fields(
        output.fields,
        document_kind=document.kind,
        last_name=provider.last_name,
        full_name=provider.full_name,
    )
    status, message = _status_of(output, fields, crashed)
    with transaction.atomic():
        # Two deliveries of the same task: the second waits here, then finds the first's row.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"extraction:{document.pk}"],
            )
        again = ExtractionSuggestion.objects.filter(document=document, extractor=label).first()
        if again is not None:
            return again
        suggestion = ExtractionSuggestion.objects.create(
            organization=org,
            document=document,
            credential=match_credential(document, fields),
            extractor=label,
            engine=output.engine,
            status=status,
            fields={name: value.as_json() for name, value in fields.items()},
            problems=problems,
            message=message,
        )
        audit_record(
            org=org,
            actor=SYSTEM_ACTOR,
            action="verifications.extraction.suggested",
            target=suggestion,
            source="extraction",
            data={
                "document": str(document.pk),
                "provider": str(document.provider_id),
                "credential": str(suggestion.credential_id or ""),
                "extractor": label,
                "engine": output.engine,
                "status": status,
                "text_chars": output.text_chars,
                # Values that go on a credential; the name on the document only as found/not.
                "fields": {
                    name: (
                        {"confidence": value.confidence}
                        if name == "name"
                        else {"value": value.value, "confidence": value.confidence}
                    )
                    for name, value in fields.items()
                },
                "problems": [p["code"] for p in problems],
            },
        )
    return suggestion


# --- the decision ---------------------------------------------------------------------------
def suggested_values(suggestion: ExtractionSuggestion) -> dict:
    """The suggestion's applicable values, typed for the credential (dates as dates)."""
    values = {}
    for name in APPLICABLE:
        raw = (suggestion.fields.get(name) or {}).get("value")
        if raw:
            values[name] = date.fromisoformat(raw) if name in DATE_FIELDS else raw
    return values


def clean_values(values: dict | None) -> dict:
    """A member's corrected values: dates in any common format, state by code or name.
    A blank field leaves the credential's value as it is."""
    errors, clean = {}, {}
    for name, raw in (values or {}).items():
        if name not in APPLICABLE:
            errors[name] = "Not a field extraction can set."
            continue
        text = str(raw or "").strip()
        if not text:
            continue
        if name in DATE_FIELDS:
            parsed = parse_date(text)
            if parsed is None:
                errors[name] = "Enter a date such as 01/31/2027 or 2027-01-31."
            else:
                clean[name] = parsed
        elif name == "state":
            code = state_code(text)
            if code is None:
                errors[name] = "Enter a US state (two letters, e.g. TX)."
            else:
                clean[name] = code
        elif len(text) > (limit := 200 if name == "issuer" else 60):
            # It was cut to the column's length and applied: refuse instead.
            errors[name] = f"Keep it to {limit} characters."
        else:
            clean[name] = text
    if errors:
        raise InvalidInput("Some values need attention.", details=errors)
    return clean


def _jsonable(value):
    return value.isoformat() if isinstance(value, date) else value


def _details_for(kind: str, credential: Credential | None, values: dict) -> dict | None:
    """Malpractice and board certificates also keep the carrier / board in their details."""
    current = dict(credential.details or {}) if credential else {}
    wanted = dict(current)
    if kind == "malpractice":
        if values.get("issuer"):
            wanted["carrier"] = values["issuer"]
        if values.get("number"):
            wanted["policy_number"] = values["number"]
    elif kind == "board_cert" and values.get("issuer"):
        wanted["board"] = values["issuer"]
    return wanted if wanted != current else None


def _apply(org, actor, suggestion: ExtractionSuggestion, values: dict) -> tuple[Credential, dict]:
    """Write `values` to the credential (or a new one) through the roster's services."""
    document = suggestion.document
    kind = CREDENTIAL_KIND_FOR[document.kind]
    credential = suggestion.credential
    if credential is not None:
        credential = Credential.objects.select_for_update().get(pk=credential.pk)
    changes = {
        name: value
        for name, value in values.items()
        if credential is None or getattr(credential, name) != value
    }
    details = _details_for(kind, credential, values)
    if details is not None:
        changes["details"] = details
    diff = {
        name: {
            "from": _jsonable(getattr(credential, name)) if credential else None,
            "to": _jsonable(value),
        }
        for name, value in changes.items()
    }
    created = credential is None
    if created:
        credential = credential_create(
            org=org,
            actor=actor,
            provider=document.provider,
            source="extraction",
            kind=kind,
            **changes,
        )
    elif changes:
        credential = credential_update(
            org=org, actor=actor, credential=credential, source="extraction", **changes
        )
    return credential, {"credential": str(credential.pk), "created": created, "changes": diff}


REASON_MAX = 500


def extraction_decide(
    *,
    org,
    actor,
    suggestion: ExtractionSuggestion,
    decision: str,
    values: dict | None = None,
    reason: str = "",
) -> ExtractionSuggestion:
    """Approve (apply the suggested values that differ), correct (apply the member's values)
    or reject (write nothing). Audited with what changed, before and after."""
    require(actor, cap.CHANGE_ROSTER)
    if decision not in DECISIONS:
        raise InvalidInput(
            "Choose approve, correct or reject.", details={"decision": "approve, correct, reject"}
        )
    if len(reason.strip()) > REASON_MAX:
        # It was cut to 500 characters and saved: refuse instead, as the API's serializer does.
        message = f"Keep the reason to {REASON_MAX} characters."
        raise InvalidInput(message, details={"reason": message})
    with transaction.atomic():
        locked = (
            ExtractionSuggestion.objects.select_for_update(of=("self",))
            .select_related("document__provider", "credential")
            .filter(organization=org, pk=suggestion.pk)
            .first()
        )
        if locked is None:
            raise NotFound("Not found.")
        if locked.status not in OPEN_STATUSES:
            raise Conflict(f"This suggestion was already {locked.get_status_display().lower()}.")
        applied = {}
        if decision == "approve":
            if locked.status != SuggestionStatus.PENDING:
                raise Conflict(
                    "There is nothing to approve here; enter the values as a correction."
                )
            wanted = suggested_values(locked)
        elif decision == "correct":
            wanted = clean_values(values)
            if not wanted:
                raise InvalidInput(
                    "Enter at least one value to save.",
                    details=dict.fromkeys(APPLICABLE, ""),
                )
        if decision != "reject":
            locked.credential, applied = _apply(org, actor, locked, wanted)
            _accept_document(org, actor, locked.document)
        locked.status = {
            "approve": SuggestionStatus.APPROVED,
            "correct": SuggestionStatus.CORRECTED,
            "reject": SuggestionStatus.REJECTED,
        }[decision]
        locked.applied = applied | ({"reason": reason.strip()[:500]} if reason.strip() else {})
        locked.decided_by = actor if isinstance(actor, Membership) else None
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "applied", "decided_by", "decided_at", "credential"])
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action=f"verifications.extraction.{locked.status}",
            target=locked,
            source="extraction",
            data={
                "document": str(locked.document_id),
                "provider": str(locked.document.provider_id),
                "credential": applied.get("credential", str(locked.credential_id or "")),
                "created_credential": applied.get("created", False),
                "changes": applied.get("changes", {}),
                "reason": reason.strip()[:500],
            },
        )
    return locked


def _accept_document(org, actor, document: Document) -> None:
    """The member checked the document against the fields they approved or corrected: accept
    it too (through the roster's audited review), unless someone already decided on it. A
    rejected extraction leaves the document waiting for a manual review."""
    from roster.models import DocumentStatus
    from roster.services.documents import document_review

    locked = Document.objects.select_for_update().filter(pk=document.pk).first()
    if locked is not None and locked.status == DocumentStatus.PENDING_REVIEW:
        document_review(org=org, actor=actor, document=locked, decision="accept")


def field_rows(suggestion: ExtractionSuggestion) -> list[dict]:
    """One row per field for the review table: on the credential now, extracted, differs."""
    credential = suggestion.credential
    problems: dict[str, list[str]] = {}
    for problem in suggestion.problems or []:
        problems.setdefault(problem.get("field", ""), []).append(problem.get("message", ""))
    rows = []
    for name, label in FIELD_LABELS.items():
        found = suggestion.fields.get(name) or {}
        current = getattr(credential, name, None) if credential and name != "name" else None
        current_text = _jsonable(current) if current not in (None, "") else ""
        value = found.get("value", "")
        if name == "name":
            current_text = suggestion.document.provider.full_name
        differs = bool(value) and bool(current_text) and _compare(name, current_text, value)
        rows.append(
            {
                "name": name,
                "label": label,
                "current": current_text,
                "value": value,
                "confidence": found.get("confidence"),
                "snippet": found.get("snippet", ""),
                "differs": differs,
                "new": bool(value) and not current_text,
                "applicable": name in APPLICABLE,
                "problems": problems.get(name, []),
            }
        )
    return rows


def _compare(name: str, current: str, value: str) -> bool:
    if name == "name":
        cur = {w for w in current.lower().replace(",", " ").split() if len(w) > 1}
        new = {w for w in value.lower().replace(",", " ").split() if len(w) > 1}
        return not (cur & new)
    if name == "number":
        return _normal(current) != _normal(value)
    return current.strip().lower() != value.strip().lower()
