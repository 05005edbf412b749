"""Screening reads for views, API, the dashboard and the provider file. They start from the
organization (and the scoped manager filters on it as well)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from roster.hooks import FlagSource
from roster.selectors.flags import Flag
from screening import hooks as screening_hooks
from screening.models import (
    KIND_STRENGTH,
    OPEN_RUN_STATUSES,
    DatasetVersion,
    HitKind,
    HitStatus,
    RunStatus,
    ScreeningHit,
    ScreeningResult,
    ScreeningRun,
    Source,
)
from screening.nppes.models import CheckOutcome, NppesCheck
from screening.services.runs import progress_key

HIT_FILTERS = ("status", "source", "kind", "provider", "q")


def dataset_versions_in_use() -> dict[str, DatasetVersion | None]:
    """{source: the active version or None} for LEIE and SAM (global reference data)."""
    active = {v.source: v for v in DatasetVersion.objects.filter(is_active=True)}
    return {source: active.get(source) for source in Source.values}


def dataset_version_list(*, source: str | None = None) -> QuerySet[DatasetVersion]:
    """Every loaded version, newest first."""
    qs = DatasetVersion.objects.order_by("-loaded_at")
    return qs.filter(source=source) if source else qs


def run_list(org) -> QuerySet[ScreeningRun]:
    """The organization's runs, newest first."""
    return (
        ScreeningRun.objects.filter(organization=org)
        .select_related("provider", "requested_by__user", "leie_version", "sam_version")
        .order_by("-created_at")
    )


def run_get(org, run_id) -> ScreeningRun:
    from credex.services import get_or_404

    return get_or_404(run_list(org), pk=run_id)


def last_run(org, *, finished: bool = False) -> ScreeningRun | None:
    """The newest organization-wide run (finished ones only if asked)."""
    qs = run_list(org).filter(provider__isnull=True)
    if finished:
        qs = qs.filter(status=RunStatus.DONE)
    return qs.first()


STALLED = "stalled"


@dataclass
class RunProgress:
    status: str
    phase: str
    processed: int
    total: int

    @property
    def percent(self) -> int:
        if self.status == RunStatus.DONE:
            return 100
        return int(self.processed * 100 / self.total) if self.total else 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_RUN_STATUSES


def run_progress(run: ScreeningRun) -> RunProgress:
    """Live progress: the worker publishes it in the cache (the run row commits at the end).
    "stalled": open past the reconciler's bound with no worker executing it."""
    from credex.jobs import job_is_stalled

    if run.status in OPEN_RUN_STATUSES:
        if job_is_stalled(run):
            return RunProgress(STALLED, "no worker has taken this run", 0, 0)
        live = cache.get(progress_key(run.pk))
        if live:
            return RunProgress(live["status"], live["phase"], live["processed"], live["total"])
        return RunProgress(run.status, "waiting for a worker", 0, 0)
    return RunProgress(run.status, "", run.providers_processed, run.providers_total)


def hit_list(org, *, filters: dict | None = None) -> QuerySet[ScreeningHit]:
    """The worklist: new hits first, then newest; filters: status, source, kind, provider, q."""
    filters = filters or {}
    qs = ScreeningHit.objects.filter(organization=org).select_related(
        "provider", "dataset_version", "reviewed_by__user"
    )
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("source"):
        qs = qs.filter(source=filters["source"])
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("provider"):
        qs = qs.filter(provider_id=filters["provider"])
    if filters.get("q"):
        q = filters["q"].strip()
        qs = qs.filter(
            Q(provider__last_name__icontains=q)
            | Q(provider__first_name__icontains=q)
            | Q(provider__npi=q)
        )
    new_first = Case(
        When(status=HitStatus.NEW, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return qs.annotate(_order=new_first).order_by("_order", "-detected_at", "id")


def hit_get(org, hit_id) -> ScreeningHit:
    from credex.services import get_or_404

    return get_or_404(hit_list(org), pk=hit_id)


def hit_counts(org) -> dict:
    """Counts for the worklist heading and filters: by status, and new hits by kind."""
    rows = (
        ScreeningHit.objects.filter(organization=org)
        .values("status", "kind")
        .annotate(n=Count("id"))
    )
    by_status = dict.fromkeys(HitStatus.values, 0)
    new_by_kind = dict.fromkeys(HitKind.values, 0)
    for row in rows:
        by_status[row["status"]] += row["n"]
        if row["status"] == HitStatus.NEW:
            new_by_kind[row["kind"]] += row["n"]
    return {"by_status": by_status, "new_by_kind": new_by_kind, "total": sum(by_status.values())}


def hit_audit_trail(org, hit: ScreeningHit):
    """The audit events about a hit (raised, confirmed, cleared), oldest first."""
    from audit.models import AuditEvent

    return AuditEvent.objects.filter(
        organization=org, target_type="screening.screeninghit", target_id=str(hit.pk)
    ).order_by("seq")


def screening_dashboard_summary(org, *, top: int = 5) -> dict:
    """The coordinator dashboard's "overnight screening results" block.

    Returns {
      "last_run": ScreeningRun | None,       # newest finished organization-wide run
      "last_run_at": datetime | None,        # when it finished
      "new_by_kind": {kind: n},              # hits that run raised, by kind (HitKind values)
      "new_total": int,                      # their total
      "to_review": int,                      # every hit waiting for review (status new)
      "screened": int,                       # providers the last run screened
      "top_new_hits": [ScreeningHit, ...],   # up to `top` open hits, strongest kinds first
      "top": [{"provider", "label", "hit", "url"}],  # the same, ready to list
      "datasets": {source: DatasetVersion | None},
      "url": the screening page (new hits first),
    }
    """
    from django.urls import reverse

    run = last_run(org, finished=True)
    new_by_kind = dict.fromkeys(HitKind.values, 0)
    if run is not None:
        new_by_kind.update(run.counts.get("new", {}))
    open_hits = ScreeningHit.objects.filter(organization=org, status=HitStatus.NEW)
    top_hits = list(
        open_hits.select_related("provider", "dataset_version")
        .annotate(_strength=_kind_strength())
        .order_by("_strength", "-score", "-detected_at")[:top]
    )
    url = reverse("screening", kwargs={"org_slug": org.slug})
    return {
        "last_run": run,
        "last_run_at": run.finished_at if run else None,
        "new_by_kind": new_by_kind,
        "new_total": sum(new_by_kind.values()),
        "to_review": open_hits.count(),
        "screened": run.providers_total if run else 0,
        "top_new_hits": top_hits,
        "top": [
            {
                "provider": hit.provider,
                "label": hit_label(hit),
                "hit": hit,
                "url": reverse("screening_hit", kwargs={"org_slug": org.slug, "hit_id": hit.pk}),
            }
            for hit in top_hits
        ],
        "datasets": dataset_versions_in_use(),
        "url": url,
    }


def dashboard_screening_block(*, org, **_) -> dict:
    """The screening block as credex.dashboard builds it."""
    return screening_dashboard_summary(org)


def hit_label(hit: ScreeningHit) -> str:
    """ "OIG LEIE · Exact NPI" / "SAM.gov · Possible (score 91)"."""
    source = "OIG LEIE" if hit.source == Source.LEIE else "SAM.gov"
    kind = hit.get_kind_display()
    if hit.kind == HitKind.POSSIBLE:
        kind = f"{kind} (score {hit.score})"
    return f"{source} · {kind}"


def _kind_strength() -> Case:
    """0 for the strongest kind (exact NPI) ... for ordering hits by how sure they are."""
    return Case(
        *[When(kind=kind, then=Value(rank)) for rank, kind in enumerate(KIND_STRENGTH)],
        default=Value(len(KIND_STRENGTH)),
        output_field=IntegerField(),
    )


@dataclass
class SourceStatus:
    """A list's latest result for a provider: when, against which version, what outcome."""

    source: str
    label: str
    checked_at: object = None
    version: DatasetVersion | None = None
    outcome: str = ""
    matches: int = 0


@dataclass
class HistoryRow:
    checked_at: object
    source: str
    version: DatasetVersion
    outcome: str
    matches: int


def provider_screening_history(org, provider, *, limit: int = 24) -> dict:
    """A provider's screening history: the latest result per list and the recent checks.

    Returns {"latest": [SourceStatus per list], "results": [HistoryRow, newest first],
    "open_hits": [ScreeningHit ...]} — e.g. "OIG LEIE clean as of 2026-11-01, version ...".
    """
    rows = list(
        ScreeningResult.objects.filter(organization=org, provider=provider)
        .select_related("leie_version", "sam_version")
        .order_by("-checked_at")[:limit]
    )
    latest = {source: SourceStatus(source, Source(source).label) for source in Source.values}
    results = []
    for row in rows:
        for source in Source.values:
            version, outcome, matches = row.for_source(source)
            if not outcome:
                continue  # that list was not loaded for this check
            results.append(HistoryRow(row.checked_at, source, version, outcome, matches))
            if latest[source].version is None:
                latest[source] = SourceStatus(
                    source, Source(source).label, row.checked_at, version, outcome, matches
                )
    open_hits = list(
        ScreeningHit.objects.filter(organization=org, provider=provider)
        .exclude(status=HitStatus.CLEARED)
        .select_related("dataset_version")
        .order_by("-detected_at")[:10]
    )
    return {"latest": list(latest.values()), "results": results, "open_hits": open_hits}


def hits_by_month(org, *, months: int = 12) -> list[dict]:
    """Hits detected per month (for the trends chart), oldest first, months without any
    included: [{"month": date, "total": n, "confirmed": n, "cleared": n, "open": n}]."""
    from django.db.models.functions import TruncMonth

    today = timezone.localdate().replace(day=1)
    start = today
    for _ in range(months - 1):
        start = (start - timedelta(days=1)).replace(day=1)
    rows = (
        ScreeningHit.objects.filter(organization=org, detected_at__date__gte=start)
        .exclude(kind=HitKind.REINSTATEMENT)
        .annotate(month=TruncMonth("detected_at"))
        .values("month", "status")
        .annotate(n=Count("id"))
    )
    table: dict = {}
    for row in rows:
        month = row["month"].date() if hasattr(row["month"], "date") else row["month"]
        entry = table.setdefault(month, {"confirmed": 0, "cleared": 0, "open": 0})
        key = {"new": "open"}.get(row["status"], row["status"])
        entry[key] += row["n"]
    out, month = [], start
    while month <= today:
        entry = table.get(month, {"confirmed": 0, "cleared": 0, "open": 0})
        out.append({"month": month, **entry, "total": sum(entry.values())})
        month = (month + timedelta(days=32)).replace(day=1)
    return out


DOB_COLUMNS = ("DOB",)
MASKED_DOB = "same as ours (hidden)"


def shown_record(hit: ScreeningHit) -> dict:
    """The hit's source record for display. When the record's date of birth equals the
    provider's (or that was not compared), showing it would show the provider's, a
    protected field: it is hidden. A different date is shown (it is the evidence)."""
    record = dict(hit.record_snapshot or {})
    relation = (hit.explanation or {}).get("dob")
    if relation not in ("different", "ours_missing"):
        for column in DOB_COLUMNS:
            if record.get(column):
                record[column] = MASKED_DOB if relation == "same" else "hidden"
    return record


def last_sam_api_check(org, provider):
    """The provider's newest on-demand SAM.gov API check (its PSV record), or None
    (verifications answers screening.hooks.sam_api_check_last)."""
    answers = screening_hooks.sam_api_check_last.collect(org=org, provider=provider)
    return next((a for a in answers if a is not None), None)


# --- the roster's provider flags (roster.hooks.provider_flags) -----------------------------


def _flags_from_row(row: dict) -> list:
    flags = []
    n = row["screening_open_matches"]
    if n:
        npi_match = row["screening_npi_match"]
        strongest = " (one on the exact NPI)" if npi_match else ""
        flags.append(
            Flag(
                "possible_match",
                "NPI match" if npi_match else "Possible match",
                f"{n} unreviewed OIG/SAM screening {'hits' if n != 1 else 'hit'}{strongest}: "
                "confirm or clear on the screening page.",
            )
        )
    if row["screening_npi_deactivated"]:
        flags.append(
            Flag(
                "npi_deactivated",
                "NPI deactivated",
                f"NPPES lists NPI {row['npi']} as deactivated.",
            )
        )
    return flags


def provider_flag_source(*, org) -> FlagSource:
    """Unreviewed hits and a deactivated NPI, as annotations on the roster's flag query."""
    open_hits = ScreeningHit.objects.filter(
        organization=org, provider=OuterRef("pk"), status=HitStatus.NEW
    )
    hit_count = open_hits.order_by().values("provider").annotate(n=Count("id")).values("n")[:1]
    return FlagSource(
        annotations={
            "screening_open_matches": Coalesce(
                Subquery(hit_count, output_field=IntegerField()), Value(0)
            ),
            "screening_npi_match": Exists(open_hits.filter(kind=HitKind.NPI)),
            "screening_npi_deactivated": Exists(
                NppesCheck.objects.filter(
                    organization=org, provider=OuterRef("pk"), outcome=CheckOutcome.DEACTIVATED
                )
            ),
        },
        flags=_flags_from_row,
    )
