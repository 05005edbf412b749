"""Screening runs: request (queue), execute (worker), lock, write hits and results.

A run executes inside the organization's scope in ONE transaction (the Celery TenantTask
opens it), so a crash leaves nothing half-written and the redelivered task starts over.
Hits are inserted with ON CONFLICT on their unique key, results on (run, provider, source):
a run repeated (a redelivery after the commit, or a second run) writes no duplicates.

Two runs of one organization never interleave: the run takes a transaction-level advisory
lock keyed by the organization. An organization-wide run only tries it ("a run is already
in progress" when taken); a one-provider run (new hire, rename) waits for it, briefly.
Progress is published in the cache (the run's row is committed only at the end).

Audit: one event per dataset version screened per run (source OIG/SAM, version, counts,
and a digest of the per-provider results), one per new hit, and the per-provider results
themselves in ScreeningResult (the provider's screening history). One audit event per
provider per dataset was measured at ~115 µs each through audit_record_many (23 s for
100,000 providers x 2 lists), far over the 10 s budget for a full screening.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from types import SimpleNamespace

from django.core.cache import cache
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from audit.services import Actor, audit_record, audit_record_many
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict
from credex.jobs import RUNNING_STALL_AFTER, job_is_stalled, job_publish
from credex.models import Membership
from roster.models import Provider, ProviderStatus
from roster.services.providers import provider_dob
from screening import hooks as screening_hooks
from screening.loaders import active_version, record_snapshots
from screening.matching import Match, Subject, fuzzy_min_score, index_for, match_subject
from screening.models import (
    AUDIT_SOURCE,
    OPEN_RUN_STATUSES,
    HitKind,
    HitStatus,
    RunStatus,
    RunTrigger,
    ScreeningHit,
    ScreeningRun,
    Source,
)
from screening.normalize import (
    nppes_former_person_names,
    provider_business_names,
    provider_name_keys,
)

log = logging.getLogger(__name__)

PROGRESS_EVERY = 500
PROGRESS_TTL = 3600
PROVIDER_RUN_LOCK_WAIT = "30s"
SYSTEM_ACTOR = Actor.system("screening")


class RunInProgress(Conflict):
    code = "run_in_progress"


def progress_key(run_id) -> str:
    return f"credex.screening.progress:{run_id}"


def _publish(run: ScreeningRun, phase: str, processed: int = 0, total: int = 0) -> None:
    cache.set(
        progress_key(run.pk),
        {"status": RunStatus.RUNNING, "phase": phase, "processed": processed, "total": total},
        PROGRESS_TTL,
    )


# --- requesting -------------------------------------------------------------------------


def screening_run_request(
    *,
    org,
    actor,
    provider: Provider | None = None,
    trigger: str = RunTrigger.ON_DEMAND,
    publish_now: bool = True,
) -> ScreeningRun:
    """Queue a screening run (the organization, or one provider); the worker runs it.

    publish_now (a person asked): the task is published before the row commits, and a queue
    that is down raises QueueUnavailable (503) with nothing left behind. Otherwise (the
    schedule, an import) it is published after commit and the reconciler picks up a run
    whose publish failed.
    """
    if actor is not None:
        require(actor, cap.CHANGE_ROSTER)
    if provider is not None and provider.organization_id != org.pk:
        raise Conflict("The provider is not on this roster.")
    with transaction.atomic():
        _fail_stalled_runs(org)
        try:
            with transaction.atomic():
                run = ScreeningRun.objects.create(
                    organization=org,
                    trigger=trigger,
                    provider=provider,
                    requested_by=actor if isinstance(actor, Membership) else None,
                )
        except IntegrityError:
            raise RunInProgress(
                "A screening run is already in progress for this organization.",
                details={"run": str(_open_org_run_id(org) or "")},
            )
        audit_record(
            org=org,
            actor=audit_actor(actor) if actor is not None else SYSTEM_ACTOR,
            action="screening.run.requested",
            target=run,
            data={
                "trigger": trigger,
                "provider": str(provider.pk) if provider else None,
            },
        )
        if publish_now:
            _enqueue(run)  # QueueUnavailable rolls the run and its audit event back
        else:
            # robust: a broker hiccup must not fail the schedule or the import that asked;
            # the reconciler re-publishes the run (credex/jobs.py).
            transaction.on_commit(lambda: _enqueue(run), robust=True)
    return run


def _open_org_run_id(org):
    return (
        ScreeningRun.objects.filter(
            organization=org, status__in=OPEN_RUN_STATUSES, provider__isnull=True
        )
        .values_list("pk", flat=True)
        .first()
    )


def _fail_stalled_runs(org) -> None:
    """An organization run whose queue message was lost (open past the reconciler's bound,
    no task executing it) must not block a new run: it is failed, audited, and replaced."""
    stalled = [
        run
        for run in ScreeningRun.objects.filter(
            organization=org,
            status__in=OPEN_RUN_STATUSES,
            provider__isnull=True,
            created_at__lt=timezone.now() - RUNNING_STALL_AFTER,
        )
        if job_is_stalled(run)
    ]
    for run in stalled:
        screening_run_fail(
            org=org,
            run_id=run.pk,
            error="No worker took this run for 10 minutes (its queue message was probably "
            "lost); a new run replaced it.",
        )


def _enqueue(run: ScreeningRun) -> None:
    from screening.tasks import run_org, run_provider

    if run.provider_id:
        job_publish(
            run_provider,
            org_id=str(run.organization_id),
            provider_id=str(run.provider_id),
            run_id=str(run.pk),
            trigger=run.trigger,
        )
    else:
        job_publish(run_org, org_id=str(run.organization_id), run_id=str(run.pk))


def screening_request_provider_after_commit(*, org, provider: Provider, trigger: str) -> None:
    """Screen one provider once the current transaction commits (roster create/rename hook)."""
    from screening.tasks import run_provider

    org_id, provider_id = str(org.pk), str(provider.pk)
    # robust: the provider's change stands when the queue is down (the publish fails fast
    # and is logged; the monthly run screens the provider).
    transaction.on_commit(
        lambda: job_publish(run_provider, org_id=org_id, provider_id=provider_id, trigger=trigger),
        robust=True,
    )


# --- executing ------------------------------------------------------------------------------


def screening_run_execute(*, org, run_id) -> ScreeningRun:
    """Execute a queued run, in the organization's scope. A finished run is left as it is."""
    with transaction.atomic():
        run = ScreeningRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            raise Conflict("No such screening run.")
        if run.status not in OPEN_RUN_STATUSES:
            return run  # a redelivered task: the run already finished
        return _execute(org, run)


def screening_run_now(
    *, org, actor=None, provider: Provider | None = None, trigger: str = RunTrigger.COMMAND
) -> ScreeningRun:
    """Create and execute a run synchronously (management command, demo data, benchmark)."""
    if actor is not None:
        require(actor, cap.CHANGE_ROSTER)
    with transaction.atomic():
        _fail_stalled_runs(org)
        try:
            with transaction.atomic():
                run = ScreeningRun.objects.create(
                    organization=org,
                    trigger=trigger,
                    provider=provider,
                    requested_by=actor if isinstance(actor, Membership) else None,
                )
        except IntegrityError:
            raise RunInProgress("A screening run is already in progress for this organization.")
        return _execute(org, run)


def screening_run_provider(*, org, provider_id, trigger: str, run_id=None) -> ScreeningRun:
    """The task body of a one-provider run: the queued run, or a new one (roster hook)."""
    if run_id:
        return screening_run_execute(org=org, run_id=run_id)
    provider = Provider.objects.filter(pk=provider_id).first()
    if provider is None:
        raise Conflict("The provider is no longer on the roster.")
    return screening_run_now(org=org, provider=provider, trigger=trigger)


def screening_run_fail(*, org, run_id, error: str) -> None:
    """Record that a run's task failed (called after its transaction rolled back)."""
    with transaction.atomic():
        failed = ScreeningRun.objects.filter(pk=run_id, status__in=OPEN_RUN_STATUSES).update(
            status=RunStatus.FAILED, error=error[:2000], finished_at=timezone.now()
        )
        if not failed:  # finished meanwhile, or never committed (its request rolled back)
            return
        audit_record(
            org=org,
            actor=SYSTEM_ACTOR,
            action="screening.run.failed",
            target_type="screening.screeningrun",
            target_id=str(run_id),
            data={"error": error[:500]},
        )
    cache.delete(progress_key(run_id))


def _lock(org, *, wait: bool) -> bool:
    key = f"credex.screening.run:{org.pk}"
    with connection.cursor() as cursor:
        if not wait:
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [key])
            return bool(cursor.fetchone()[0])
        try:
            with transaction.atomic():
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, true)", [PROVIDER_RUN_LOCK_WAIT]
                )
                cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])
                cursor.execute("SELECT set_config('lock_timeout', '0', true)")
        except OperationalError:
            return False
        return True


def _execute(org, run: ScreeningRun) -> ScreeningRun:
    started = time.perf_counter()
    run.started_at = timezone.now()
    _publish(run, "waiting for another run")
    if not _lock(org, wait=run.provider_id is not None):
        return _finish_refused(org, run)
    versions = {source: active_version(source) for source in Source.values}
    versions = {s: v for s, v in versions.items() if v is not None}
    run.leie_version = versions.get(Source.LEIE)
    run.sam_version = versions.get(Source.SAM)
    if not versions:
        run.status = RunStatus.FAILED
        run.error = (
            "No exclusion list is loaded yet. Platform staff load them with "
            "`manage.py load_exclusions --source leie|sam FILE_OR_URL`."
        )
        run.finished_at = timezone.now()
        run.save()
        cache.delete(progress_key(run.pk))
        return run
    _publish(run, "loading the exclusion lists")
    indexes = {source: index_for(version) for source, version in versions.items()}
    providers = _provider_rows(run)
    run.providers_total = len(providers)
    matches = _match_all(run, providers, indexes)
    _publish(run, "writing results", len(providers), len(providers))
    now = timezone.now()
    hit_rows = _write_hits(org, run, providers, versions, matches, now)
    ended = _surface_ended_exclusions(org, run, versions, now)
    outcomes = _write_results(org, run, providers, versions, matches, hit_rows, now)
    # The PSV log (verifications' receiver): one record per provider per list, in bulk; a
    # large run's after it commits.
    recorded = {}
    for answer in screening_hooks.run_screened.collect(
        org=org, run=run, versions=versions, label=SYSTEM_ACTOR.label, now=now
    ):
        recorded.update(answer)
    for source, count in recorded.items():
        outcomes[source]["verifications_recorded"] = count
    counts = _counts(hit_rows, outcomes, providers, ended)
    run.counts = counts
    run.providers_processed = len(providers)
    run.status = RunStatus.DONE
    run.finished_at = timezone.now()
    run.duration_ms = int((time.perf_counter() - started) * 1000)
    run.save()
    _audit_run(org, run, versions, outcomes, hit_rows, ended)
    cache.delete(progress_key(run.pk))
    return run


def _finish_refused(org, run: ScreeningRun) -> ScreeningRun:
    run.status = RunStatus.REFUSED
    run.error = "Another screening run for this organization was in progress."
    run.finished_at = timezone.now()
    run.save()
    audit_record(
        org=org,
        actor=SYSTEM_ACTOR,
        action="screening.run.refused",
        target=run,
        data={"reason": "a run is already in progress"},
    )
    cache.delete(progress_key(run.pk))
    return run


# --- matching -------------------------------------------------------------------------------

# The other names NPPES lists (former names, DBAs) come from the stored NPPES record.
_PROVIDER_SQL = (
    "SELECT p.id::text, p.npi, p.first_name, p.middle_name, p.last_name, p.suffix, "
    "NULLIF(p.former_names, '[]'::jsonb), p.state, "
    "p.practice_states, p.dob_encrypted, p.legal_name, p.dba_name, "
    "NULLIF(c.record -> 'other_names', '[]'::jsonb) "
    "FROM roster_provider p LEFT JOIN nppes_nppescheck c "
    "ON c.provider_id = p.id AND c.organization_id = p.organization_id "
    "WHERE p.organization_id = %s "
)


def _provider_rows(run: ScreeningRun) -> list[tuple]:
    """The providers to screen: everyone on the roster except terminated providers (or the
    run's one provider). Ids as text: they go back to the database in bulk."""
    with connection.cursor() as cursor:
        if run.provider_id:
            cursor.execute(_PROVIDER_SQL + "AND p.id = %s", [run.organization_id, run.provider_id])
        else:
            cursor.execute(
                _PROVIDER_SQL + "AND p.status <> %s ORDER BY p.id",
                [run.organization_id, ProviderStatus.TERMINATED],
            )
        rows = cursor.fetchall()
    # Django leaves jsonb as text on a raw cursor: decode the (rare) former and other names.
    return [
        row
        if not (isinstance(row[6], str) or isinstance(row[12], str))
        else (*row[:6], _json(row[6]), *row[7:12], _json(row[12]))
        for row in rows
    ]


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _subject(row) -> Subject:
    pid, npi, first, _middle, last, _suffix, former, state, states, dob_token = row[:10]
    legal, dba, nppes_other = row[10], row[11], row[12]
    memo: list = []

    def dob():
        # Decrypted only when a name matched, by the roster's own reader (it reads only the
        # encrypted field, so the row's value stands in for a Provider instance).
        if not memo:
            holder = SimpleNamespace(dob_encrypted=dob_token)
            memo.append(provider_dob(holder) if dob_token else None)
        return memo[0]

    organization = bool(legal or dba)
    person_former = [] if organization else list(former or [])
    person_former += nppes_former_person_names(nppes_other)
    return Subject(
        id=pid,
        npi=npi or "",
        names=provider_name_keys(first_name=first, last_name=last, former_names=person_former),
        states=frozenset(s for s in [state, *(states or [])] if s),
        dob=dob,
        business_names=tuple(
            provider_business_names(
                legal_name=legal or "",
                dba_name=dba or "",
                former_names=former or [],
                nppes_other_names=nppes_other or [],
            )
        ),
    )


def _match_all(run, providers, indexes) -> dict[str, list[tuple[int, Match]]]:
    """{source: [(provider position, match)]} for every provider against every index."""
    out: dict[str, list[tuple[int, Match]]] = {source: [] for source in indexes}
    total = len(providers)
    cutoff = fuzzy_min_score()
    for position, row in enumerate(providers):
        subject = _subject(row)
        for source, index in indexes.items():
            for match in match_subject(index, subject, cutoff=cutoff):
                out[source].append((position, match))
        if position % PROGRESS_EVERY == PROGRESS_EVERY - 1:
            _publish(run, "matching", position + 1, total)
    return out


def _provider_snapshot(row) -> dict:
    pid, npi, first, middle, last, suffix, former, state, states, dob_token = row[:10]
    return {
        "first_name": first,
        "middle_name": middle,
        "last_name": last,
        "suffix": suffix,
        "legal_name": row[10] or "",
        "dba_name": row[11] or "",
        "former_names": former or [],
        "npi": npi,
        "state": state,
        "practice_states": states or [],
        "dob": "on file" if dob_token else "not on file",  # never the value itself
    }


# --- writing --------------------------------------------------------------------------------

_HIT_COLUMNS = (
    "id, organization_id, provider_id, run_id, source, dataset_version_id, source_record_key, "
    "record_hash, kind, score, matched_fields, explanation, provider_snapshot, "
    "record_snapshot, status, related_hit_id, detected_at, last_seen_at"
)
# One array per column (a fixed, short statement however many hits there are).
_HIT_ARRAYS = (
    "%s::uuid[], %s::uuid[], %s::uuid[], %s::uuid[], %s::text[], %s::uuid[], %s::text[], "
    "%s::text[], %s::text[], %s::int[], %s::text[], %s::text[], %s::text[], %s::text[], "
    "%s::text[], %s::uuid[], %s::timestamptz[], %s::timestamptz[]"
)


def _insert_hits(rows: list[tuple], *, refresh_seen: bool) -> list[tuple]:
    """INSERT hits; returns (id, provider_id, source, key, kind, status, inserted) per row.

    On the unique key (organization, provider, source, record key, record hash) an existing
    hit only gets its last_seen_at refreshed: its review state is kept as it is.
    """
    conflict = (
        "DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at" if refresh_seen else "DO NOTHING"
    )
    columns = [list(column) for column in zip(*rows, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO screening_screeninghit ({_HIT_COLUMNS}, review_reason, evidence_note) "
            "SELECT t.c1, t.c2, t.c3, t.c4, t.c5, t.c6, t.c7, t.c8, t.c9, t.c10, t.c11::jsonb, "
            "t.c12::jsonb, t.c13::jsonb, t.c14::jsonb, t.c15, t.c16, t.c17, t.c18, '', '' "
            f"FROM unnest({_HIT_ARRAYS}) AS t(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, "
            "c12, c13, c14, c15, c16, c17, c18) "
            "ON CONFLICT (organization_id, provider_id, source, source_record_key, "
            f"record_hash) {conflict} "
            "RETURNING id, provider_id, source, source_record_key, kind, status, "
            "(xmax = 0) AS inserted",
            columns,
        )
        return cursor.fetchall()


def _write_hits(org, run, providers, versions, matches, now) -> list[tuple]:
    rows, seen = [], set()
    for source, found in matches.items():
        if not found:
            continue
        snapshots = record_snapshots(source, sorted({m.record.row_id for _, m in found}))
        version = versions[source]
        for position, match in found:
            provider_row = providers[position]
            ident = (provider_row[0], source, match.record.record_key, match.record.record_hash)
            if ident in seen:
                continue  # the same record twice in the file (SAM repeats some rows)
            seen.add(ident)
            rows.append(
                (
                    uuid.uuid4(),
                    org.pk,
                    provider_row[0],
                    run.pk,
                    source,
                    version.pk,
                    match.record.record_key,
                    match.record.record_hash,
                    match.kind,
                    match.score,
                    json.dumps(match.matched_fields),
                    json.dumps(_explained(match, snapshots.get(match.record.row_id, {}))),
                    json.dumps(_provider_snapshot(provider_row)),
                    json.dumps(snapshots.get(match.record.row_id, {}), default=str),
                    HitStatus.NEW,
                    None,
                    now,
                    now,
                )
            )
    return _insert_hits(rows, refresh_seen=True) if rows else []


def _explained(match: Match, snapshot: dict) -> dict:
    """The match's explanation, with the list's business name beside ours when compared."""
    explanation = match.explanation
    compared = explanation.get("compared")
    if compared and compared.get("kind") == "business_name" and not compared.get("theirs"):
        theirs = snapshot.get("BUSNAME") or snapshot.get("Name") or ""
        explanation = {**explanation, "compared": {**compared, "theirs": theirs}}
    return explanation


def _write_results(org, run, providers, versions, matches, hit_rows, now) -> dict:
    """One ScreeningResult per provider (both lists); returns outcome counts per list.

    The provider ids go to the database as one comma-separated text (cheaper to send than
    an array of UUIDs); only the few providers with matches are listed separately.
    """
    open_hits: dict[str, set[str]] = {source: set() for source in Source.values}
    for _id, provider_id, source, _key, _kind, status, _inserted in hit_rows:
        if status in (HitStatus.NEW, HitStatus.CONFIRMED):
            open_hits[source].add(str(provider_id))
    ids = [row[0] for row in providers]
    params: dict = {"org": org.pk, "run": run.pk, "now": now, "ids": ",".join(ids)}
    outcomes = {}
    for source in Source.values:
        version = versions.get(source)
        matched: dict[str, int] = {}
        for position, _match in matches.get(source, []):
            pid = providers[position][0]
            matched[pid] = matched.get(pid, 0) + 1
        params |= {
            f"{source}_version": version.pk if version else None,
            f"{source}_loaded": version is not None,
            f"{source}_hits": sorted(open_hits[source]),
            f"{source}_mp": list(matched),
            f"{source}_mn": list(matched.values()),
        }
        if version is None:
            continue
        hit_set = open_hits[source]
        digest = hashlib.sha256(
            "\n".join(f"{pid}:{'hit' if pid in hit_set else 'clean'}" for pid in ids).encode()
        ).hexdigest()
        outcomes[source] = {
            "providers": len(ids),
            "hit": len(hit_set),
            "clean": len(ids) - len(hit_set),
            "matches": len(matches.get(source, [])),
            "results_sha256": digest,
        }
    with connection.cursor() as cursor:
        cursor.execute(_RESULTS_SQL, params)
    return outcomes


def _outcome_sql(source: str) -> str:
    return (
        f"CASE WHEN NOT %({source}_loaded)s THEN '' "
        f"WHEN p.pid = ANY(%({source}_hits)s::uuid[]) THEN 'hit' ELSE 'clean' END"
    )


_RESULTS_SQL = (
    "INSERT INTO screening_screeningresult (id, organization_id, run_id, provider_id, "
    "leie_version_id, leie_outcome, leie_matches, sam_version_id, sam_outcome, sam_matches, "
    "checked_at) "
    "SELECT gen_random_uuid(), %(org)s, %(run)s, p.pid, "
    f"%(leie_version)s, {_outcome_sql('leie')}, LEAST(COALESCE(l.n, 0), 32767), "
    f"%(sam_version)s, {_outcome_sql('sam')}, LEAST(COALESCE(s.n, 0), 32767), %(now)s "
    "FROM unnest(string_to_array(%(ids)s, ',')::uuid[]) AS p(pid) "
    "LEFT JOIN unnest(%(leie_mp)s::uuid[], %(leie_mn)s::int[]) AS l(pid, n) USING (pid) "
    "LEFT JOIN unnest(%(sam_mp)s::uuid[], %(sam_mn)s::int[]) AS s(pid, n) USING (pid) "
    "ON CONFLICT (run_id, provider_id) DO NOTHING"
)


def _counts(hit_rows, outcomes, providers, ended) -> dict:
    new = dict.fromkeys(HitKind.values, 0)
    for _id, _pid, _source, _key, kind, _status, inserted in hit_rows:
        if inserted:
            new[kind] += 1
    new[HitKind.REINSTATEMENT] += len(ended)
    with_open = {pid for _id, pid, _s, _k, _kind, status, _i in hit_rows if status != "cleared"}
    return {
        "new": new,
        "new_total": sum(new.values()),
        "matches": len(hit_rows),
        "providers": len(providers),
        "providers_with_open_hits": len(with_open),
        "by_source": outcomes,
    }


# --- reinstatements -------------------------------------------------------------------------


def _surface_ended_exclusions(org, run, versions, now) -> list[tuple]:
    """Confirmed exclusions whose record was reinstated, ended or dropped from the list get
    an informational "reinstatement" item (once per record state) for a coordinator."""
    from screening.services.ended import find_ended

    confirmed = ScreeningHit.objects.filter(
        status=HitStatus.CONFIRMED, ended_on__isnull=True
    ).exclude(kind=HitKind.REINSTATEMENT)
    if run.provider_id:
        confirmed = confirmed.filter(provider_id=run.provider_id)
    confirmed = [h for h in confirmed if h.source in versions]
    if not confirmed:
        return []
    rows = []
    for hit, ended_on, snapshot, note in find_ended(confirmed, versions, today=now.date()):
        digest = hashlib.sha256(f"{hit.record_hash}:ended:{ended_on}".encode()).hexdigest()[:32]
        rows.append(
            (
                uuid.uuid4(),
                org.pk,
                hit.provider_id,
                run.pk,
                hit.source,
                versions[hit.source].pk,
                hit.source_record_key,
                digest,
                HitKind.REINSTATEMENT,
                100,
                json.dumps(["record_ended"]),
                json.dumps({"notes": [note], "ended_on": ended_on.isoformat()}),
                json.dumps(hit.provider_snapshot),
                json.dumps(snapshot, default=str),
                HitStatus.NEW,
                hit.pk,
                now,
                now,
            )
        )
        ScreeningHit.objects.filter(pk=hit.pk).update(ended_on=ended_on)
    inserted = _insert_hits(rows, refresh_seen=False) if rows else []
    return [row for row in inserted if row[6]]


# --- audit ----------------------------------------------------------------------------------


def _audit_run(org, run, versions, outcomes, hit_rows, ended) -> None:
    target = {"target_type": "screening.screeningrun", "target_id": str(run.pk)}
    if run.provider_id:
        target = {"target_type": "roster.provider", "target_id": str(run.provider_id)}
    events = []
    for source, version in versions.items():
        events.append(
            {
                "action": "screening.dataset.screened",
                "source": AUDIT_SOURCE[source],
                **target,
                "data": {
                    "run": str(run.pk),
                    "trigger": run.trigger,
                    "dataset_version": str(version.pk),
                    "as_of": version.as_of.isoformat(),
                    "file_sha256": version.sha256,
                    **outcomes.get(source, {}),
                },
            }
        )
    for hit_id, provider_id, source, key, kind, _status, inserted in [*hit_rows, *ended]:
        if not inserted:
            continue
        events.append(
            {
                "action": "screening.hit.raised",
                "source": AUDIT_SOURCE[source],
                "target_type": "screening.screeninghit",
                "target_id": str(hit_id),
                "data": {"provider": str(provider_id), "kind": kind, "record_key": key},
            }
        )
    events.append(
        {
            "action": "screening.run.completed",
            "target_type": "screening.screeningrun",
            "target_id": str(run.pk),
            "data": {
                "trigger": run.trigger,
                "duration_ms": run.duration_ms,
                "new": run.counts.get("new"),
                "providers": run.counts.get("providers"),
            },
        }
    )
    audit_record_many(org=org, actor=SYSTEM_ACTOR, events=events)
