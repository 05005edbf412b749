"""The NPPES refresh of an organization (or of some of its providers).

The refresh fetches over HTTP in worker threads (screening.nppes.client) and does every
database write in the calling thread, inside the caller's tenant context, under a per-org
advisory lock. Writes happen after the fetch, in one short phase (read the current mismatches
FOR UPDATE, upsert, resolve, record the audit events in bulk), so a coordinator's decision
made while the registry is being queried is never overwritten, and row locks are held for
seconds, not for the length of the fetch.

Errors (the API's Errors list, an empty result, network failures) only update the provider's
check row (outcome, error, next retry): they never touch mismatches or the roster.

Closing: a difference that is no longer there when NPPES answered (the roster was fixed by
hand, or NPPES now agrees) closes automatically as "resolved". If NPPES moves to yet another
value, the old item resolves and a new one opens (new hash). A resolved or accepted item whose
exact difference comes back reopens; a dismissed one stays dismissed for that NPPES value.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.services import Actor, audit_record, audit_record_many
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import InvalidInput
from credex.models import Membership
from roster.models import Credential, CredentialKind, Provider
from screening import hooks as screening_hooks
from screening.nppes.client import FetchResult, NppesClient
from screening.nppes.compare import Difference, RosterSide, compare
from screening.nppes.models import (
    CheckOutcome,
    MismatchStatus,
    NppesCheck,
    NppesMismatch,
    NppesRun,
    RunStatus,
)
from screening.nppes.services.common import (
    SOURCE,
    STALE_QUEUED_AFTER,
    SYSTEM,
    WRITE_CHUNK,
    ProgressFn,
    next_nightly_run,
    request_summary,
)


@dataclass
class Evaluated:
    """One provider's answer, judged in the calling thread."""

    provider: Provider
    result: FetchResult
    outcome: str
    differences: list[Difference] = field(default_factory=list)


def _try_refresh_lock(org) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"credex.nppes.refresh:{org.pk}"],
        )
        return bool(cursor.fetchone()[0])


def state_licenses(org, provider_ids) -> dict:
    """{provider id: [(state, number), ...]} of the roster's state licenses."""
    licenses: dict = defaultdict(list)
    rows = Credential.objects.filter(
        organization=org, provider_id__in=list(provider_ids), kind=CredentialKind.STATE_LICENSE
    ).values_list("provider_id", "state", "number")
    for provider_id, state, number in rows:
        licenses[provider_id].append((state, number))
    return licenses


def known_officials(org, provider_ids) -> dict:
    """{provider id: the authorized official last acknowledged} (organizations only)."""
    return dict(
        NppesCheck.objects.filter(organization=org, provider_id__in=list(provider_ids))
        .exclude(authorized_official_known={})
        .values_list("provider_id", "authorized_official_known")
    )


def evaluate(
    provider: Provider, licenses, result: FetchResult, *, known_official: dict | None = None
) -> Evaluated:
    """Compare one answer with the roster (found), or classify the failure."""
    if result.outcome == "found" and result.record is not None:
        ours = RosterSide.of(provider, licenses, authorized_official=known_official)
        diffs = compare(ours, result.record)
        if result.record.deactivated:
            outcome = CheckOutcome.DEACTIVATED
        else:
            outcome = CheckOutcome.MISMATCH if diffs else CheckOutcome.MATCH
        return Evaluated(provider, result, outcome, diffs)
    if result.outcome == "not_found":
        return Evaluated(provider, result, CheckOutcome.NOT_FOUND)
    return Evaluated(provider, result, CheckOutcome.ERROR)


def _check_rows(org, evaluated: list[Evaluated], now: datetime) -> list[NppesCheck]:
    previous = {
        c.provider_id: c
        for c in NppesCheck.objects.filter(
            organization=org, provider_id__in=[e.provider.pk for e in evaluated]
        )
    }
    retry_at = next_nightly_run(now)
    rows = []
    for e in evaluated:
        before = previous.get(e.provider.pk)
        row = NppesCheck(
            organization=org,
            provider=e.provider,
            npi=e.provider.npi,
            checked_at=now,
            outcome=e.outcome,
            http_status=e.result.http_status,
            attempts=e.result.attempts,
        )
        # The acknowledged official stays until a coordinator accepts another; the first
        # answer naming one sets it.
        row.authorized_official_known = (before.authorized_official_known if before else {}) or {}
        if e.result.record is not None:
            official = e.result.record.authorized_official
            if not row.authorized_official_known and official and e.result.record.is_organization:
                row.authorized_official_known = asdict(official)
            row.record = e.result.record.as_json()
            row.record_fetched_at = e.result.fetched_at
            row.last_success_at = now
        else:
            # A failure keeps the last good answer and says when it will be tried again.
            row.error_detail = e.result.error_detail() or {
                "kind": "not_found",
                "message": "The registry has no record for this NPI (result_count 0).",
                "errors": [],
            }
            row.consecutive_failures = (before.consecutive_failures if before else 0) + 1
            row.next_retry_at = retry_at
            row.record = before.record if before else {}
            row.record_fetched_at = before.record_fetched_at if before else None
            row.last_success_at = before.last_success_at if before else None
        rows.append(row)
    return rows


def _write_checks(rows: list[NppesCheck]) -> None:
    NppesCheck.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["organization", "provider"],
        update_fields=[
            "npi",
            "checked_at",
            "outcome",
            "error_detail",
            "http_status",
            "attempts",
            "consecutive_failures",
            "next_retry_at",
            "last_success_at",
            "record",
            "record_fetched_at",
            "authorized_official_known",
        ],
    )


def _existing_mismatches(org, provider_ids) -> dict:
    existing: dict = defaultdict(dict)
    # FOR UPDATE: a decision committed while we were fetching is seen here, and one made
    # from now on waits for this transaction (no lost update either way).
    rows = NppesMismatch.objects.select_for_update().filter(
        organization=org, provider_id__in=provider_ids
    )
    for row in rows.order_by("pk"):
        existing[row.provider_id][(row.field, row.nppes_value_hash)] = row
    return existing


def _reopen(row: NppesMismatch, now: datetime) -> None:
    row.status, row.first_seen, row.resolved_at = MismatchStatus.OPEN, now, None
    row.decided_by, row.decided_by_label, row.decided_at = None, "", None


def _write_mismatches(org, evaluated: list[Evaluated], now: datetime) -> tuple[int, int]:
    """Upsert current differences, reopen reappeared ones, resolve vanished ones.

    Only providers whose answer was read are touched. Returns (opened, resolved).
    """
    found = [e for e in evaluated if e.result.record is not None]
    if not found:
        return 0, 0
    existing = _existing_mismatches(org, [e.provider.pk for e in found])
    create, update, opened, resolved = [], [], 0, 0
    for e in found:
        rows = existing.get(e.provider.pk, {})
        current = {(d.field, d.value_hash): d for d in e.differences}
        for key, diff in current.items():
            row = rows.get(key)
            if row is None:
                create.append(
                    NppesMismatch(
                        organization=org,
                        provider=e.provider,
                        field=diff.field,
                        our_value=diff.our_value,
                        nppes_value=diff.nppes_value,
                        nppes_value_hash=diff.value_hash,
                        severity=diff.severity,
                        first_seen=now,
                        last_seen=now,
                    )
                )
                opened += 1
                continue
            row.last_seen, row.our_value, row.nppes_value = now, diff.our_value, diff.nppes_value
            row.severity = diff.severity
            if row.status in (MismatchStatus.RESOLVED, MismatchStatus.ACCEPTED):
                _reopen(row, now)
                opened += 1
            update.append(row)
        for key, row in rows.items():
            if key not in current and row.status == MismatchStatus.OPEN:
                row.status, row.resolved_at = MismatchStatus.RESOLVED, now
                update.append(row)
                resolved += 1
    NppesMismatch.objects.bulk_create(
        create,
        update_conflicts=True,
        unique_fields=["organization", "provider", "field", "nppes_value_hash"],
        update_fields=["last_seen"],
    )
    NppesMismatch.objects.bulk_update(
        update,
        [
            "last_seen",
            "our_value",
            "nppes_value",
            "severity",
            "status",
            "first_seen",
            "resolved_at",
            "decided_by",
            "decided_by_label",
            "decided_at",
        ],
        batch_size=WRITE_CHUNK,
    )
    return opened, resolved


def _audit_event(e: Evaluated, run: NppesRun, verification_id=None) -> dict:
    return {
        "action": "nppes.checked",
        "target": e.provider,
        "source": SOURCE,
        "data": {
            **request_summary(e.provider.npi),
            "run": str(run.pk),
            "outcome": str(e.outcome),
            "differences": [d.field for d in e.differences],
            "result": e.result.summary(),
            "verification": str(verification_id or ""),  # its PSV record
        },
    }


def record_results(
    *, org, run: NppesRun, evaluated: list[Evaluated], actor: Actor = SYSTEM
) -> dict:
    """Write checks, mismatches and one audit event per NPPES call; returns counts."""
    now = timezone.now()
    counts = dict.fromkeys(CheckOutcome.values, 0)
    opened = resolved = 0
    for start in range(0, len(evaluated), WRITE_CHUNK):
        chunk = evaluated[start : start + WRITE_CHUNK]
        with transaction.atomic():
            _write_checks(_check_rows(org, chunk, now))
            o, r = _write_mismatches(org, chunk, now)
            opened, resolved = opened + o, resolved + r
            records = {}
            for answer in screening_hooks.nppes_checked.collect(
                org=org, run=run, evaluated=chunk, label=actor.label, now=now
            ):
                records.update(answer)
            audit_record_many(
                org=org,
                actor=actor,
                events=[_audit_event(e, run, records.get(e.provider.pk)) for e in chunk],
            )
        for e in chunk:
            counts[e.outcome] += 1
    counts.update(
        checked=len(evaluated),
        mismatches_opened=opened,
        mismatches_resolved=resolved,
        requests=sum(e.result.attempts for e in evaluated),
    )
    return counts


def _providers_to_check(org, provider_ids) -> list[Provider]:
    qs = Provider.objects.filter(organization=org).exclude(npi="")
    if provider_ids is not None:
        qs = qs.filter(pk__in=provider_ids)
    return list(qs.order_by("npi"))


def _fetch_and_evaluate(org, providers, client, on_progress) -> list[Evaluated]:
    licenses = state_licenses(org, [p.pk for p in providers])
    officials = known_officials(org, [p.pk for p in providers])
    by_npi = {p.npi: p for p in providers}
    total = len(by_npi)
    if on_progress:
        on_progress(0, total)
    evaluated = []
    for done, result in enumerate(client.fetch_many(list(by_npi)), 1):
        provider = by_npi[result.npi]
        evaluated.append(
            evaluate(
                provider,
                licenses.get(provider.pk, ()),
                result,
                known_official=officials.get(provider.pk),
            )
        )
        if on_progress:
            on_progress(done, total)
    return evaluated


def nppes_refresh(
    *,
    org,
    run: NppesRun | None = None,
    provider_ids: Iterable | None = None,
    trigger: str = "nightly",
    client: NppesClient | None = None,
    on_progress: ProgressFn | None = None,
) -> NppesRun:
    """Check providers with an NPI against NPPES (all, or `provider_ids`); idempotent.

    Holds a per-organization advisory lock for the transaction: a second refresh of the
    same organization at the same time is recorded as skipped and does nothing.
    """
    started = time.monotonic()
    provider_ids = None if provider_ids is None else list(provider_ids)
    with transaction.atomic():
        if run is None:
            only = provider_ids[0] if provider_ids and len(provider_ids) == 1 else None
            run = NppesRun.objects.create(
                organization=org, trigger=trigger, status=RunStatus.RUNNING, provider_id=only
            )
        run.started_at = timezone.now()
        if not _try_refresh_lock(org):
            return _finish(org, run, RunStatus.SKIPPED, {"reason": "another refresh is running"})
        providers = _providers_to_check(org, provider_ids)
        own = client is None
        client = client or NppesClient()
        try:
            evaluated = _fetch_and_evaluate(org, providers, client, on_progress)
        finally:
            if own:
                client.close()
        counts = record_results(org=org, run=run, evaluated=evaluated)
        counts.update(providers=len(providers), seconds=round(time.monotonic() - started, 2))
        return _finish(org, run, RunStatus.DONE, counts)


def _finish(org, run: NppesRun, status: str, counts: dict) -> NppesRun:
    run.status, run.counts, run.finished_at = status, counts, timezone.now()
    run.save()
    audit_record(
        org=org,
        actor=SYSTEM,
        action=f"nppes.refresh.{'completed' if status == RunStatus.DONE else status}",
        target=run,
        source=SOURCE,
        data={"trigger": run.trigger, "provider": str(run.provider_id or ""), **counts},
    )
    return run


def nppes_refresh_request(*, org, actor, provider: Provider | None = None) -> NppesRun:
    """Queue a refresh of the organization (or one provider); a waiting one is reused."""
    require(actor, cap.CHANGE_ROSTER)
    if provider is not None and not provider.npi:
        raise InvalidInput("This provider has no NPI to check.", details={"npi": "required"})
    with transaction.atomic():
        _expire_dead_runs(org)
        try:
            with transaction.atomic():
                run = NppesRun.objects.create(
                    organization=org,
                    provider=provider,
                    requested_by=actor if isinstance(actor, Membership) else None,
                    trigger="manual",
                )
        except IntegrityError:  # one is already waiting (unique constraint): join it
            return NppesRun.objects.get(
                organization=org, status=RunStatus.QUEUED, provider=provider
            )
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="nppes.refresh.requested",
            target=run,
            source=SOURCE,
            data={
                "provider": str(provider.pk) if provider else "",
                "npi": provider.npi if provider else "",
            },
        )
        transaction.on_commit(lambda: _enqueue(org, run))
    return run


def _expire_dead_runs(org) -> None:
    """A waiting run whose task failed, or that no worker took for hours, stops blocking
    new requests (the one-queued-run constraint)."""
    from celery.result import AsyncResult

    now = timezone.now()
    dead = []
    for run in NppesRun.objects.filter(organization=org, status=RunStatus.QUEUED):
        if run.created_at < now - STALE_QUEUED_AFTER:
            dead.append((run.pk, "lost"))
        elif AsyncResult(str(run.pk)).state in ("FAILURE", "REVOKED"):
            dead.append((run.pk, "task failed"))
    for pk, reason in dead:
        NppesRun.objects.filter(organization=org, pk=pk, status=RunStatus.QUEUED).update(
            status=RunStatus.FAILED, finished_at=now, counts={"reason": reason}
        )


def _enqueue(org, run: NppesRun) -> None:
    from screening.nppes.tasks import refresh_org

    kwargs = {"org_id": str(org.pk), "run_id": str(run.pk)}
    if run.provider_id:
        kwargs["provider_id"] = str(run.provider_id)
    refresh_org.apply_async(kwargs=kwargs, task_id=str(run.pk))
