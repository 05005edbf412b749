"""The expiry inbox: the daily generation of items, and what a coordinator does with them.

Generation (`inbox_generate`) is idempotent. Each item's key is
`f"{kind}:{target id}:{due date}:{threshold}"`, unique per organization, and new items go in
with INSERT ... ON CONFLICT DO NOTHING, so re-running the job, or running it twice at once,
never creates a duplicate. Only the tightest threshold reached is live: when the 30-day item
for a credential's expiry exists, its 60- and 90-day items are resolved as "superseded".
When the thing behind an item changes (a credential renewed, a provider re-credentialed,
CAQH re-attested, a contract renewed), the open items for the old due date are resolved
("renewed") by the system and audited.

Thresholds (days before the due date; 0 = due today or overdue):
- credential expiry (EXPIRING_KINDS with an expiry date): 90, 60, 30, 0;
- re-credentialing (provider.recredentialing_due_date): 120, 90, 60, 30, 0;
- CAQH re-attestation (caqh_last_attested + 120 days): 30, 0 - the attestation is a quick
  online step, so a month's notice is enough and more thresholds would only be noise;
- payer contract renewal (a contract's renewal date, from roster.hooks.contract_renewals,
  which the enrollment app answers): 90, 60, 30, 0;
- a clinician release's expiry (roster.hooks.inbox_items_due, which the exchange answers):
  30, 0. A receiver's item stores its row id (`subject_id`) and the page it opens (`link`).
Overdue enrollment follow-ups are not inbox items: their date moves at every follow-up and
the item has no enrollment reference; they are dashboard rows (roster.selectors.dashboard).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from audit.services import Actor, audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.capabilities import has_capability
from credex.errors import Conflict, InvalidInput
from credex.models import Membership
from credex.writes import check_writes
from roster import hooks
from roster.models import (
    EXPIRING_KINDS,
    Credential,
    CredentialStatus,
    InboxItem,
    InboxKind,
    InboxStatus,
    Provider,
    ProviderStatus,
)

THRESHOLDS: dict[str, tuple[int, ...]] = {
    InboxKind.CREDENTIAL_EXPIRY: (90, 60, 30, 0),
    InboxKind.RECREDENTIALING: (120, 90, 60, 30, 0),
    InboxKind.CAQH: (30, 0),
    InboxKind.CONTRACT_RENEWAL: (90, 60, 30, 0),
    InboxKind.RELEASE_EXPIRY: (30, 0),
}
# Kinds raised by downstream apps through hooks.inbox_items_due (the item names a subject id).
HOOK_KINDS = (InboxKind.RELEASE_EXPIRY,)
HOOK_HORIZON_DAYS = 30
GENERATED_KINDS = tuple(THRESHOLDS)
CAQH_CYCLE_DAYS = 120
ACTIVE = (InboxStatus.OPEN, InboxStatus.SNOOZED)
# Providers whose dates still matter; inactive and terminated files raise no items.
TRACKED_PROVIDERS = (ProviderStatus.APPLICANT, ProviderStatus.ACTIVE)
# Credentials still held; inactive and revoked ones raise no items.
LIVE_CREDENTIALS = (CredentialStatus.ACTIVE, CredentialStatus.PENDING, CredentialStatus.EXPIRED)
SYSTEM = Actor.system("inbox")
MAX_SNOOZE_DAYS = 365
# How long after resolving or dismissing an item its "Undo" still works.
UNDO_SECONDS = 10


def threshold_for(kind: str, days_left: int) -> int | None:
    """The tightest threshold reached `days_left` days before the due date (None: not yet)."""
    if days_left <= 0:
        return 0
    reached = [t for t in THRESHOLDS[kind] if t > 0 and days_left <= t]
    return min(reached) if reached else None


def item_key(kind: str, target_id, due: date, threshold: int) -> str:
    return f"{kind}:{target_id}:{due.isoformat()}:{threshold}"


def target_of(kind: str, credential_id=None, provider_id=None, contract_id=None, subject_id=None):
    """The row an item is about: the credential, the provider, the contract or a downstream
    app's row (the subject)."""
    if kind in HOOK_KINDS:
        return subject_id
    if kind == InboxKind.CREDENTIAL_EXPIRY:
        return credential_id
    if kind == InboxKind.CONTRACT_RENEWAL:
        return contract_id
    return provider_id


@dataclass(frozen=True)
class _Due:
    kind: str
    target_id: object
    due_date: date
    threshold: int
    provider_id: object = None
    credential_id: object = None
    contract_id: object = None
    assigned_to_id: object = None
    subject_id: object = None
    link: str = ""

    @property
    def ident(self):
        return (self.kind, self.target_id, self.due_date)


# --- generation ----------------------------------------------------------------------------


def _dues(org, today: date) -> dict[tuple, _Due]:
    """Everything due within its largest threshold today, one query per kind."""
    found: list[_Due] = []

    def add(kind, target_id, due, **refs):
        threshold = threshold_for(kind, (due - today).days)
        if threshold is not None:
            found.append(_Due(kind, target_id, due, threshold, **refs))

    credentials = Credential.objects.filter(
        organization=org,
        kind__in=EXPIRING_KINDS,
        expiry_date__lte=today + timedelta(days=90),
        status__in=LIVE_CREDENTIALS,
        provider__status__in=TRACKED_PROVIDERS,
    ).values_list("id", "provider_id", "expiry_date", "provider__coordinator_id")
    for cid, pid, due, coordinator in credentials:
        add(
            InboxKind.CREDENTIAL_EXPIRY,
            cid,
            due,
            provider_id=pid,
            credential_id=cid,
            assigned_to_id=coordinator,
        )
    providers = Provider.objects.filter(organization=org, status__in=TRACKED_PROVIDERS)
    for pid, due, coordinator in providers.filter(
        recredentialing_due_date__lte=today + timedelta(days=120)
    ).values_list("id", "recredentialing_due_date", "coordinator_id"):
        add(InboxKind.RECREDENTIALING, pid, due, provider_id=pid, assigned_to_id=coordinator)
    for pid, attested, coordinator in providers.filter(
        caqh_last_attested__lte=today + timedelta(days=30 - CAQH_CYCLE_DAYS)
    ).values_list("id", "caqh_last_attested", "coordinator_id"):
        due = attested + timedelta(days=CAQH_CYCLE_DAYS)
        add(InboxKind.CAQH, pid, due, provider_id=pid, assigned_to_id=coordinator)
    for renewals in hooks.contract_renewals.collect(org=org, due_by=today + timedelta(days=90)):
        for contract_id, due in renewals.items():
            add(InboxKind.CONTRACT_RENEWAL, contract_id, due, contract_id=contract_id)
    for dues in hooks.inbox_items_due.collect(
        org=org, due_by=today + timedelta(days=HOOK_HORIZON_DAYS)
    ):
        for due in dues:
            if due.kind in HOOK_KINDS:
                add(
                    due.kind,
                    due.subject_id,
                    due.due_date,
                    provider_id=due.provider_id,
                    subject_id=due.subject_id,
                    link=due.link[:300],
                )
    return {d.ident: d for d in found}


def _insert(org, dues: dict[tuple, _Due]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING, in key order (two runs at once queue, not deadlock)."""
    rows = sorted(
        (
            InboxItem(
                organization=org,
                kind=d.kind,
                key=item_key(d.kind, d.target_id, d.due_date, d.threshold),
                threshold_days=d.threshold,
                due_date=d.due_date,
                provider_id=d.provider_id,
                credential_id=d.credential_id,
                contract_id=d.contract_id,
                assigned_to_id=d.assigned_to_id,
                subject_id=d.subject_id,
                link=d.link,
            )
            for d in dues.values()
        ),
        key=lambda row: row.key,
    )
    if not rows:
        return 0
    InboxItem.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    # Ids are made here, so the rows that carry ours are exactly the ones this run inserted.
    return InboxItem.objects.filter(pk__in=[r.pk for r in rows]).count()


def _current_dates(org, kind: str, ids) -> dict:
    """A target's due date now (None when it no longer raises items: inactive, deleted...)."""
    if not ids:
        return {}
    if kind == InboxKind.CREDENTIAL_EXPIRY:
        rows = Credential.objects.filter(organization=org, pk__in=ids).values_list(
            "id", "expiry_date", "status", "provider__status"
        )
        return {
            i: d if s in LIVE_CREDENTIALS and ps in TRACKED_PROVIDERS else None
            for i, d, s, ps in rows
        }
    if kind == InboxKind.CONTRACT_RENEWAL:
        dates: dict = {}
        for renewals in hooks.contract_renewals.collect(org=org, ids=ids):
            dates.update(renewals)
        return dates
    if kind in HOOK_KINDS:
        return {
            due.subject_id: due.due_date
            for dues in hooks.inbox_items_due.collect(org=org, ids=list(ids))
            for due in dues
            if due.kind == kind
        }
    field = (
        "recredentialing_due_date" if kind == InboxKind.RECREDENTIALING else "caqh_last_attested"
    )
    out = {}
    for pid, value, status in Provider.objects.filter(organization=org, pk__in=ids).values_list(
        "id", field, "status"
    ):
        if value and kind == InboxKind.CAQH:
            value = value + timedelta(days=CAQH_CYCLE_DAYS)
        out[pid] = value if status in TRACKED_PROVIDERS else None
    return out


def _stale(org, dues: dict[tuple, _Due]) -> dict:
    """Open items that are no longer current: {item id: (resolution, audit data)}."""
    active = InboxItem.objects.filter(
        organization=org, status__in=ACTIVE, kind__in=GENERATED_KINDS
    ).values_list(
        "id",
        "kind",
        "provider_id",
        "credential_id",
        "contract_id",
        "subject_id",
        "due_date",
        "threshold_days",
    )
    stale, gone = {}, []
    for item_id, kind, pid, cid, contract_id, subject_id, due, threshold in active:
        target = target_of(kind, cid, pid, contract_id, subject_id)
        current = dues.get((kind, target, due))
        if current is None:
            gone.append((item_id, kind, target, due, threshold))
        elif threshold > current.threshold:
            stale[item_id] = (
                "superseded",
                {"kind": kind, "due_date": due, "threshold": threshold, "by": current.threshold},
            )
    by_kind = defaultdict(set)
    for _, kind, target, _, _ in gone:
        by_kind[kind].add(target)
    now_due = {kind: _current_dates(org, kind, ids) for kind, ids in by_kind.items()}
    for item_id, kind, target, due, threshold in gone:
        new_due = now_due[kind].get(target)
        if new_due is None:
            resolution = "no longer applies"
        elif new_due > due:
            resolution = "renewed"
        elif new_due != due:
            resolution = "date changed"
        else:
            resolution = "no longer applies"
        stale[item_id] = (
            resolution,
            {"kind": kind, "due_date": due, "threshold": threshold, "new_due_date": new_due},
        )
    return stale


def _close(org, stale: dict) -> dict[str, int]:
    """Resolve the stale items still open (locked in id order), one system event each."""
    if not stale:
        return {}
    # FOR UPDATE re-reads each row after waiting, so a concurrent run's resolutions are skipped.
    locked = list(
        InboxItem.objects.select_for_update()
        .filter(organization=org, pk__in=list(stale), status__in=ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    groups = defaultdict(list)
    for pk in locked:
        groups[stale[pk][0]].append(pk)
    now = timezone.now()
    for resolution, pks in groups.items():
        InboxItem.objects.filter(pk__in=pks).update(
            status=InboxStatus.RESOLVED, resolved_at=now, resolution=resolution
        )
    for pk in locked:
        resolution, data = stale[pk]
        audit_record(
            org=org,
            actor=SYSTEM,
            action="roster.inbox.item.auto_resolved",
            target_type="roster.inboxitem",
            target_id=str(pk),
            data={"resolution": resolution, **data},
        )
    return {resolution: len(pks) for resolution, pks in groups.items()}


def _reopen_still_expired(org, dues: dict[tuple, _Due], today: date) -> int:
    """Re-open items resolved on an earlier day whose credential is still expired.

    Resolving an expired credential's item does not make the credential current: until it is
    renewed (its expiry moves, which retires the item as "renewed") the item comes back each
    morning. A dismissal (a stated "no action needed") stays closed.
    """
    keys = [
        item_key(d.kind, d.target_id, d.due_date, 0)
        for d in dues.values()
        if d.kind == InboxKind.CREDENTIAL_EXPIRY and d.threshold == 0 and d.due_date <= today
    ]
    if not keys:
        return 0
    start_of_today = timezone.make_aware(datetime.combine(today, time.min))
    rows = list(
        InboxItem.objects.select_for_update()
        .filter(
            organization=org,
            key__in=keys,
            status=InboxStatus.RESOLVED,
            resolved_at__lt=start_of_today,
        )
        .order_by("pk")
    )
    for item in rows:
        previous = item.resolution
        item.status, item.resolved_at, item.resolution = InboxStatus.OPEN, None, ""
        item.snoozed_until = None
        item.save(update_fields=["status", "resolved_at", "resolution", "snoozed_until"])
        audit_record(
            org=org,
            actor=SYSTEM,
            action="roster.inbox.item.reopened",
            target=item,
            data={
                "kind": item.kind,
                "due_date": item.due_date,
                "why": "credential still expired",
                "previous_resolution": previous,
            },
        )
    return len(rows)


def inbox_generate(*, org, today: date | None = None) -> dict:
    """Daily: create the items due today, retire superseded and renewed ones, and re-open
    resolved items whose credential is still expired (idempotent). Not for a read-only
    organization (WritesPaused, credex/writes.py): its task skips it."""
    check_writes(org)
    today = today or timezone.localdate()
    with transaction.atomic():
        dues = _dues(org, today)
        created = _insert(org, dues)
        reopened = _reopen_still_expired(org, dues, today)
        closed = _close(org, _stale(org, dues))
        result = {"created": created, **{k.replace(" ", "_"): v for k, v in closed.items()}}
        if reopened:
            result["reopened"] = reopened
        if created or closed or reopened:
            audit_record(
                org=org,
                actor=SYSTEM,
                action="roster.inbox.generated",
                data={"today": today, **result},
            )
    return result


# --- a coordinator's actions ----------------------------------------------------------------


def _lock_active(org, item: InboxItem) -> InboxItem:
    locked = InboxItem.objects.select_for_update().get(organization=org, pk=item.pk)
    if locked.status not in ACTIVE:
        raise Conflict(
            f"This item is already {locked.get_status_display().lower()}.",
            details={"status": locked.status},
        )
    return locked


def _record(org, actor, item: InboxItem, action: str, **data) -> None:
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action=f"roster.inbox.item.{action}",
        target=item,
        data={"kind": item.kind, "due_date": item.due_date, "key": item.key, **data},
    )


def _snooze(org, actor, item, until: date, today: date) -> InboxItem:
    if not isinstance(until, date) or until <= today:
        raise InvalidInput("Snooze until a future date.", details={"until": "invalid"})
    if until > today + timedelta(days=MAX_SNOOZE_DAYS):
        raise InvalidInput("Snooze for at most a year.", details={"until": "invalid"})
    item = _lock_active(org, item)
    item.status, item.snoozed_until = InboxStatus.SNOOZED, until
    item.save(update_fields=["status", "snoozed_until"])
    _record(org, actor, item, "snoozed", until=until)
    return item


RESOLUTION_MAX = 200


def _refuse_long(field: str, text: str) -> None:
    # It was cut to 200 characters and saved: refuse instead, as the API's serializer does.
    if len(text) > RESOLUTION_MAX:
        message = f"Keep the {field} to {RESOLUTION_MAX} characters."
        raise InvalidInput(message, details={field: message})


def _dismiss(org, actor, item, reason: str) -> InboxItem:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the item is dismissed.", details={"reason": "required"})
    _refuse_long("reason", reason)
    item = _lock_active(org, item)
    item.status, item.resolved_at, item.resolution = (
        InboxStatus.DISMISSED,
        timezone.now(),
        reason[:200],
    )
    item.save(update_fields=["status", "resolved_at", "resolution"])
    _record(org, actor, item, "dismissed", reason=item.resolution)
    return item


def _resolve(org, actor, item, note: str) -> InboxItem:
    _refuse_long("note", (note or "").strip())
    item = _lock_active(org, item)
    note = (note or "").strip()
    if not note and item.credential_still_expired:
        raise InvalidInput(
            "The credential is still expired: renew it (its new expiry date closes the item), "
            "or say what was done.",
            details={"note": "required"},
        )
    item.status, item.resolved_at = InboxStatus.RESOLVED, timezone.now()
    item.resolution = note[:200] or "done"
    item.save(update_fields=["status", "resolved_at", "resolution"])
    _record(org, actor, item, "resolved", note=item.resolution)
    return item


def _undo(org, actor, item) -> InboxItem:
    item = InboxItem.objects.select_for_update().get(organization=org, pk=item.pk)
    if item.status not in (InboxStatus.RESOLVED, InboxStatus.DISMISSED):
        raise Conflict(
            f"This item is {item.get_status_display().lower()}: there is nothing to undo.",
            details={"status": item.status},
        )
    if item.resolved_at is None or (timezone.now() - item.resolved_at) > timedelta(
        seconds=UNDO_SECONDS
    ):
        raise Conflict(
            "Too late to undo: find the item under “Resolved” and act on it again.",
            details={"undo": "expired"},
        )
    before = {"status": item.status, "resolution": item.resolution}
    today = timezone.localdate()
    snoozed = item.snoozed_until is not None and item.snoozed_until > today
    item.status = InboxStatus.SNOOZED if snoozed else InboxStatus.OPEN
    item.resolved_at, item.resolution = None, ""
    item.save(update_fields=["status", "resolved_at", "resolution"])
    _record(org, actor, item, "undone", undid=before)
    return item


def _check_assignee(org, assignee: Membership | None) -> None:
    if assignee is None:
        return
    if assignee.organization_id != org.pk:
        raise InvalidInput("Choose a member of this organization.", details={"assignee": "invalid"})
    if not has_capability(assignee.role, cap.CHANGE_ROSTER):
        raise InvalidInput(
            "Auditors are read-only: assign the item to someone who can act on it.",
            details={"assignee": "read_only"},
        )


def _assign(org, actor, item, assignee: Membership | None) -> InboxItem:
    item = _lock_active(org, item)
    before = item.assigned_to_id
    item.assigned_to = assignee
    item.save(update_fields=["assigned_to"])
    _record(
        org,
        actor,
        item,
        "assigned",
        **{"from": before, "to": assignee.pk if assignee else None},
    )
    return item


def document_request_key(provider_id, document_kind: str, job_id) -> str:
    return f"{InboxKind.DOCUMENT_REQUESTED}:{provider_id}:{document_kind}:{job_id}"


def inbox_items_request_documents(
    *, org, actor, provider: Provider, requests: list[dict], due: date, job=None
) -> list[InboxItem]:
    """One open item per requested document of a provider (a roster import left them out);
    `requests` holds document_kind, optional credential and row. Audited, in the caller's
    transaction; a repeated key (the same job run again) adds nothing."""
    require(actor, cap.CHANGE_ROSTER)
    job_id = job.pk if job is not None else "manual"
    items = []
    with transaction.atomic():
        for request in requests:
            key = document_request_key(provider.pk, request["document_kind"], job_id)
            item, created = InboxItem.objects.get_or_create(
                organization=org,
                key=key,
                defaults={
                    "kind": InboxKind.DOCUMENT_REQUESTED,
                    "threshold_days": 0,
                    "due_date": due,
                    "provider": provider,
                    "credential": request.get("credential"),
                },
            )
            if created:
                _record(
                    org,
                    actor,
                    item,
                    "created",
                    provider=str(provider.pk),
                    document_kind=request["document_kind"],
                    import_job=str(job_id),
                    row=request.get("row"),
                )
            items.append(item)
    return items


def inbox_item_snooze(*, org, actor, item: InboxItem, until: date) -> InboxItem:
    """Hide an item until a date; it comes back on its own that day."""
    require(actor, cap.CHANGE_ROSTER)
    with transaction.atomic():
        return _snooze(org, actor, item, until, timezone.localdate())


def inbox_item_dismiss(*, org, actor, item: InboxItem, reason: str) -> InboxItem:
    """Close an item that needs no action, with the reason."""
    require(actor, cap.CHANGE_ROSTER)
    with transaction.atomic():
        return _dismiss(org, actor, item, reason)


def inbox_item_resolve(*, org, actor, item: InboxItem, note: str = "") -> InboxItem:
    """Close an item as done."""
    require(actor, cap.CHANGE_ROSTER)
    with transaction.atomic():
        return _resolve(org, actor, item, note)


def inbox_item_undo(*, org, actor, item: InboxItem) -> InboxItem:
    """Take back a resolution or a dismissal made less than UNDO_SECONDS ago."""
    require(actor, cap.CHANGE_ROSTER)
    with transaction.atomic():
        return _undo(org, actor, item)


def inbox_item_assign(*, org, actor, item: InboxItem, assignee: Membership | None) -> InboxItem:
    """Give an item to a member (None: unassigned)."""
    require(actor, cap.CHANGE_ROSTER)
    _check_assignee(org, assignee)
    with transaction.atomic():
        return _assign(org, actor, item, assignee)


BULK_ACTIONS = ("snooze", "dismiss", "resolve", "assign")


def inbox_items_bulk(
    *,
    org,
    actor,
    items: list[InboxItem],
    action: str,
    until: date | None = None,
    reason: str = "",
    assignee: Membership | None = None,
) -> dict[str, int]:
    """One action on many items in one transaction; items already closed are skipped."""
    require(actor, cap.CHANGE_ROSTER)
    if action not in BULK_ACTIONS:
        raise InvalidInput("Choose an action.", details={"action": "invalid"})
    if not items:
        raise InvalidInput("Select at least one item.", details={"items": "required"})
    if action == "dismiss" and not (reason or "").strip():
        raise InvalidInput("Say why the items are dismissed.", details={"reason": "required"})
    if action == "resolve" and not (reason or "").strip():
        expired = [i for i in items if i.credential_still_expired]
        if expired:
            raise InvalidInput(
                f"{len(expired)} selected item{'s are' if len(expired) != 1 else ' is'} about a "
                "credential that is still expired: say what was done, or renew it.",
                details={"reason": "required"},
            )
    if action == "assign":
        _check_assignee(org, assignee)
    today = timezone.localdate()
    done = skipped = 0
    with transaction.atomic():
        for item in sorted(items, key=lambda i: i.pk):
            try:
                with transaction.atomic():
                    if action == "snooze":
                        _snooze(org, actor, item, until, today)
                    elif action == "dismiss":
                        _dismiss(org, actor, item, reason)
                    elif action == "resolve":
                        _resolve(org, actor, item, reason)
                    else:
                        _assign(org, actor, item, assignee)
            except Conflict:
                skipped += 1
            else:
                done += 1
    return {"done": done, "skipped": skipped}


# --- the daily digest -----------------------------------------------------------------------


def inbox_digest_send(*, org, today: date | None = None) -> int:
    """E-mail each assignee their open items due within 30 days (plain text); returns sends."""
    from roster.selectors.inbox import active_items

    today = today or timezone.localdate()
    items = (
        active_items(org=org, today=today)
        .filter(assigned_to__isnull=False, due_date__lte=today + timedelta(days=30))
        .select_related("assigned_to__user", "provider", "credential", "contract__payer")
        .order_by("assigned_to_id", "due_date")
    )
    per_member: dict = defaultdict(list)
    for item in items:
        per_member[item.assigned_to].append(item)
    url = settings.SITE_URL.rstrip("/") + reverse("inbox", kwargs={"org_slug": org.slug})
    messages = []
    for member, member_items in per_member.items():
        body = render_to_string(
            "email/inbox_digest.txt",
            {"org": org, "member": member, "items": member_items, "url": url, "today": today},
        )
        subject = f"{org.name}: {len(member_items)} inbox item(s) due within 30 days"
        messages.append((subject, body, member.user.email))
    if not messages:
        return 0
    with transaction.atomic():
        audit_record(
            org=org,
            actor=SYSTEM,
            action="roster.inbox.digest_sent",
            data={"recipients": [m[2] for m in messages], "today": today},
        )

        def send():
            for subject, body, email in messages:
                send_mail(subject, body, None, [email])

        transaction.on_commit(send)
    return len(messages)


def inbox_items_reassign_from_member(
    *, org, actor, removed: Membership, to: Membership | None, reason: str
) -> list[str]:
    """Every open or snoozed item assigned to `removed` goes to `to` (or unassigned); one
    audit event per item, in the caller's transaction. Closed items keep their assignee."""
    require(actor, cap.CHANGE_ROSTER)
    _check_assignee(org, to)
    ids = []
    with transaction.atomic():
        for item in InboxItem.objects.select_for_update().filter(
            organization=org, assigned_to=removed, status__in=ACTIVE
        ):
            item.assigned_to = to
            item.save(update_fields=["assigned_to"])
            _record(
                org,
                actor,
                item,
                "assigned",
                **{"from": removed.pk, "to": to.pk if to else None, "reason": reason},
            )
            ids.append(str(item.pk))
    return ids
