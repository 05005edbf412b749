"""PSV records written by the automated checks: OIG LEIE and SAM screening, NPPES checks.

Every screening of a provider against a list and every NPPES check becomes one immutable
Verification (provider level: no credential), verifier kind "system", labelled with the job.

Method: "api" for all three. NPPES is the registry's API. The OIG and SAM checks match the
roster against the lists' published data files, loaded machine to machine; that is closer
to an API than to a person's "web lookup", and it keeps the log honest about there being no
human in the loop.

Results: screening clean -> verified, an open (new or confirmed) match -> discrepancy.
NPPES match -> verified; differences or a deactivated NPI -> discrepancy; an error or "not
in the registry" -> unable to verify (the NPPES refresh itself treats both as telling
nothing about the provider and retries them).

Speed: a screening run covers up to 100,000 providers x 2 lists in a 10 s budget. A PSV
row costs ~45 µs to insert whatever the method (the table has 12 indexes and three foreign-key
checks per row; measured with one INSERT ... SELECT on an otherwise bare table: 7.5 µs), so
200,000 records add ~9 s. Hence two paths, both one INSERT ... SELECT per list from the run's
own ScreeningResult rows (never one verification_record() per provider):

- a small run (one provider: new hire, rename, a packet; or up to INLINE_LIMIT providers)
  writes its records inside the run's transaction, so a packet's steps complete with it;
- a larger run commits first, then a job (verifications.screening_records) writes them from
  the committed results, dated when the run screened, idempotently (a run's records are
  written once, all or nothing).

Their audit trail: the run's one `screening.dataset.screened` event per list counts them
(inline), or the job writes one `verifications.screening.recorded` event per list with the
count and the run's digest of per-provider outcomes. NPPES records are written per chunk of
checks, in the refresh's own transaction (the refresh is bound by HTTP, not by inserts), and
each `nppes.checked` event names its record.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from django.db import connection, transaction

from audit.services import Actor, audit_record
from roster import hooks as roster_hooks
from roster.models import ProviderStatus
from verifications.models import (
    PacketStepKind,
    Verification,
    VerificationMethod,
    VerificationResult,
    VerificationSource,
    VerifierKind,
)

# screening.models.Source value -> (PSV source, ScreeningResult column prefix, label).
SCREENING_SOURCES = {
    "leie": (VerificationSource.OIG, "leie", "OIG LEIE"),
    "sam": (VerificationSource.SAM, "sam", "SAM.gov exclusions"),
}
SCREENING_STEP = {"leie": PacketStepKind.OIG, "sam": PacketStepKind.SAM}
# Runs of up to this many providers write their PSV records in the run's own transaction.
INLINE_LIMIT = 1000

_SCREENING_SQL = """
INSERT INTO verifications_verification (
    id, organization_id, provider_id, credential_id, source, source_state, source_name,
    method, result, verifier_kind, verifier_user_id, verifier_label, verified_at, details,
    reference, data, supersedes_id, correction_reason, request_id, created_at)
SELECT gen_random_uuid(), r.organization_id, r.provider_id, NULL, %(source)s, '',
    %(source_name)s, %(method)s,
    CASE WHEN r.{col}_outcome = 'hit' THEN %(discrepancy)s ELSE %(verified)s END,
    %(kind)s, NULL, %(label)s, %(now)s,
    CASE WHEN r.{col}_outcome = 'hit'
        THEN %(hit_details)s || COALESCE(' Matched: ' || m.places || '.', '')
        ELSE %(clean_details)s END,
    %(run)s,
    %(data)s::jsonb || jsonb_build_object('outcome', r.{col}_outcome,
                                          'matches', r.{col}_matches)
        || CASE WHEN m.records IS NULL THEN '{{}}'::jsonb
                ELSE jsonb_build_object('matched_records', m.records) END,
    NULL, '', NULL, %(now)s
FROM screening_screeningresult r
-- Where each open match of this run was read: "OIG LEIE file 2611EXCL.csv, line 14".
LEFT JOIN LATERAL (
    SELECT string_agg(%(source_name)s || ' ' || CASE WHEN h.record_snapshot ? '_file'
               THEN 'file ' || (h.record_snapshot ->> '_file') || ', line '
               ELSE 'line ' END || (h.record_snapshot ->> '_line'), '; '
               ORDER BY h.record_snapshot ->> '_file', h.record_snapshot ->> '_line') AS places,
           jsonb_agg(jsonb_build_object('hit', h.id, 'file', h.record_snapshot ->> '_file',
                                        'line', (h.record_snapshot ->> '_line')::int)
                     ORDER BY h.record_snapshot ->> '_file', h.record_snapshot ->> '_line')
               AS records
    FROM screening_screeninghit h
    WHERE r.{col}_outcome = 'hit' AND h.organization_id = r.organization_id
      AND h.provider_id = r.provider_id AND h.source = %(list)s
      AND h.status IN ('new', 'confirmed') AND h.kind <> 'reinstatement'
      AND h.last_seen_at >= %(since)s
) m ON TRUE
WHERE r.run_id = %(run)s AND r.organization_id = %(org)s AND r.{col}_outcome IN ('hit', 'clean')
"""


def screening_verifications_after_run(*, org, run, versions: dict, label: str, now) -> dict:
    """Called by a screening run after its results are written: record the PSV rows now
    (small run) or once the run commits (a job). Returns {list: count or "deferred"}."""
    if run.provider_id or (run.providers_total or 0) <= INLINE_LIMIT:
        return screening_verifications_record(
            org=org, run=run, versions=versions, label=label, verified_at=now
        )
    from verifications.jobs.packets import screening_records

    screening_records.enqueue_on_commit(org=org, run_id=str(run.pk))
    return dict.fromkeys(versions, "deferred")


def screening_verifications_record(
    *, org, run, versions: dict, label: str, verified_at: datetime
) -> dict[str, int]:
    """One PSV record per provider per list screened by `run` (bulk); returns counts per list.

    Reads the run's ScreeningResult rows, so call it after they are written. Pending OIG/SAM
    steps of packets in progress are completed from them.
    """
    counts: dict[str, int] = {}
    for list_key, version in versions.items():
        source, col, source_name = SCREENING_SOURCES[list_key]
        as_of = version.as_of.isoformat()
        data = {
            "list": list_key,
            "dataset_version": str(version.pk),
            "as_of": as_of,
            "file_sha256": version.sha256,
            "run": str(run.pk),
            "trigger": run.trigger,
        }
        params = {
            "org": org.pk,
            "run": run.pk,
            "list": list_key,
            # The hits this run raised or saw again carry a last_seen_at from the run.
            "since": run.started_at or verified_at,
            "source": source,
            "source_name": source_name,
            "method": VerificationMethod.API,
            "verified": VerificationResult.VERIFIED,
            "discrepancy": VerificationResult.DISCREPANCY,
            "kind": VerifierKind.SYSTEM,
            "label": label,
            "now": verified_at,
            "data": json.dumps(data),
            "clean_details": f"Not on the {source_name} list as of {as_of}.",
            "hit_details": (
                f"Possible match on the {source_name} list as of {as_of}, open for review "
                "in Screening."
            ),
        }
        with connection.cursor() as cursor:
            cursor.execute(_SCREENING_SQL.format(col=col), params)
            counts[list_key] = cursor.rowcount
    if any(counts.values()):
        # Applicants among them are seats from this first verification (debounced recount).
        roster_hooks.provider_seats_changed.run(org=org)
    _complete_steps(
        org,
        kinds={SCREENING_STEP[k]: SCREENING_SOURCES[k][0] for k in versions},
        provider_ids=[run.provider_id] if run.provider_id else None,
        reference=str(run.pk),
    )
    return counts


def screening_verifications_record_deferred(*, org, run_id) -> dict:
    """The job's body: record a committed run's PSV rows once (a redelivery writes nothing),
    with one audit event per list."""
    from screening.models import AUDIT_SOURCE, RunStatus, ScreeningRun

    with transaction.atomic():
        run = (
            ScreeningRun.objects.select_for_update(of=("self",))
            .select_related("leie_version", "sam_version")
            .filter(organization=org, pk=run_id)
            .first()
        )
        if run is None or run.status != RunStatus.DONE:
            return {}
        sources = [SCREENING_SOURCES[k][0] for k in SCREENING_SOURCES]
        if Verification.objects.filter(
            organization=org, reference=str(run.pk), source__in=sources
        ).exists():
            return {}  # already written
        versions = {k: v for k, v in (("leie", run.leie_version), ("sam", run.sam_version)) if v}
        label = "screening"
        counts = screening_verifications_record(
            org=org, run=run, versions=versions, label=label, verified_at=run.finished_at
        )
        by_source = (run.counts or {}).get("by_source", {})
        for list_key, count in counts.items():
            audit_record(
                org=org,
                actor=Actor.system(label),
                action="verifications.screening.recorded",
                target=run,
                source=AUDIT_SOURCE[list_key],
                data={
                    "run": str(run.pk),
                    "dataset_version": str(versions[list_key].pk),
                    "as_of": versions[list_key].as_of.isoformat(),
                    "verifications_recorded": count,
                    "results_sha256": by_source.get(list_key, {}).get("results_sha256", ""),
                },
            )
    return counts


_NPPES_RESULT = {
    "match": VerificationResult.VERIFIED,
    "mismatch": VerificationResult.DISCREPANCY,
    "deactivated": VerificationResult.DISCREPANCY,
    "not_found": VerificationResult.UNABLE,
    "error": VerificationResult.UNABLE,
}


def _nppes_details(e) -> str:
    outcome = str(e.outcome)
    if outcome == "match":
        return "The NPPES record matches the roster."
    if outcome == "mismatch":
        fields = ", ".join(d.field.replace("_", " ") for d in e.differences)
        return f"NPPES differs from the roster: {fields}. Review in NPPES mismatches."
    if outcome == "deactivated":
        return "NPPES lists this NPI as deactivated."
    if outcome == "not_found":
        return "The registry has no record for this NPI."
    detail = e.result.error_detail() or {}
    return f"The registry could not be read: {detail.get('message') or 'error'}."


def nppes_verifications_record(*, org, run, evaluated, label: str, now: datetime) -> dict:
    """One PSV record per NPPES check (bulk insert); returns {provider id: verification id}."""
    rows = []
    for e in evaluated:
        fetched = e.result.fetched_at or now
        rows.append(
            Verification(
                id=uuid.uuid4(),
                organization_id=org.pk,
                provider_id=e.provider.pk,
                credential=None,
                source=VerificationSource.NPPES,
                source_name="NPPES NPI Registry",
                method=VerificationMethod.API,
                result=_NPPES_RESULT.get(str(e.outcome), VerificationResult.UNABLE),
                verifier_kind=VerifierKind.SYSTEM,
                verifier_user=None,
                verifier_label=label,
                verified_at=fetched,
                details=_nppes_details(e),
                reference=str(run.pk),
                data={
                    "npi": e.provider.npi,
                    "outcome": str(e.outcome),
                    "as_of": fetched.isoformat(),
                    "differences": [d.field for d in e.differences],
                    "http_status": e.result.http_status,
                    "run": str(run.pk),
                },
                created_at=now,
            )
        )
    Verification.objects.bulk_create(rows, batch_size=1000)
    if any(e.provider.status == ProviderStatus.APPLICANT for e in evaluated):
        # An applicant is a seat from its first verification (billing counts seats).
        roster_hooks.provider_seats_changed.run(org=org)
    _complete_steps(
        org,
        kinds={PacketStepKind.NPPES: VerificationSource.NPPES},
        provider_ids=[e.provider.pk for e in evaluated],
        reference=str(run.pk),
    )
    return {row.provider_id: row.pk for row in rows}


def _complete_steps(org, *, kinds: dict, provider_ids, reference: str) -> None:
    from verifications.services.packets import packet_steps_complete_automatic

    packet_steps_complete_automatic(
        org=org, kinds=kinds, provider_ids=provider_ids, reference=reference
    )
