"""Writing a run's hits, results, surfaced reinstatements and its audit events."""

from __future__ import annotations

import hashlib
import json
import uuid

from django.db import connection

from audit.services import audit_record_many
from screening.loaders import record_snapshots
from screening.matching import Match
from screening.models import (
    AUDIT_SOURCE,
    HitKind,
    HitStatus,
    ScreeningHit,
    Source,
)
from screening.services.runs.base import SYSTEM_ACTOR


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
