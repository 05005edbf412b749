"""Executing a run: the organization lock, the one transaction, matching the roster."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

from django.core.cache import cache
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import require
from credex.errors import Conflict
from credex.models import Membership
from roster.models import Provider, ProviderStatus
from roster.services.providers import provider_dob
from screening import hooks as screening_hooks
from screening.loaders import active_version
from screening.matching import Match, Subject, fuzzy_min_score, index_for, match_subject
from screening.models import (
    OPEN_RUN_STATUSES,
    RunStatus,
    RunTrigger,
    ScreeningRun,
    Source,
)
from screening.normalize import (
    nppes_former_person_names,
    provider_business_names,
    provider_name_keys,
)
from screening.services.runs.base import (
    PROGRESS_EVERY,
    PROVIDER_RUN_LOCK_WAIT,
    SYSTEM_ACTOR,
    RunInProgress,
    _publish,
    progress_key,
)
from screening.services.runs.requesting import _fail_stalled_runs
from screening.services.runs.writing import (
    _audit_run,
    _counts,
    _surface_ended_exclusions,
    _write_hits,
    _write_results,
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
