"""Reads for the NPPES pages, the API and the provider file. Every one starts from the org."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from roster.models import PROVIDER_TYPES, Provider, TaxonomyCode
from screening.nppes.compare import marked_pair
from screening.nppes.models import (
    FAILED_OUTCOMES,
    MismatchField,
    MismatchStatus,
    NppesCheck,
    NppesMismatch,
    NppesRun,
    RunStatus,
    Severity,
)

STATUS_FILTERS = {*MismatchStatus.values, "all"}


@dataclass
class MismatchFilters:
    status: str = MismatchStatus.OPEN
    field: str = ""
    severity: str = ""
    q: str = ""
    provider: str = ""

    @classmethod
    def from_query(cls, query) -> tuple[MismatchFilters, dict]:
        """Filters from a query string; unknown values are reported, not guessed."""
        errors = {}
        f = cls(
            status=(query.get("status") or MismatchStatus.OPEN).strip(),
            field=(query.get("field") or "").strip(),
            severity=(query.get("severity") or "").strip(),
            q=(query.get("q") or "").strip()[:100],
            provider=(query.get("provider") or "").strip(),
        )
        if f.status not in STATUS_FILTERS:
            errors["status"] = "Choose open, accepted, dismissed, resolved or all."
        if f.field and f.field not in MismatchField.values:
            errors["field"] = "Unknown field."
        if f.severity and f.severity not in Severity.values:
            errors["severity"] = "Choose high, medium or low."
        if f.provider:
            try:
                uuid.UUID(f.provider)
            except ValueError:
                errors["provider"] = "Not a provider id."
        return f, errors

    def as_query(self) -> dict:
        """Only what differs from the defaults (keeps URLs short and shareable)."""
        out = {}
        if self.status != MismatchStatus.OPEN:
            out["status"] = self.status
        for name in ("field", "severity", "q", "provider"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        return out


_SEVERITY_RANK = Case(
    When(severity=Severity.HIGH, then=Value(0)),
    When(severity=Severity.MEDIUM, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def mismatch_list(*, org, filters: MismatchFilters | None = None) -> QuerySet[NppesMismatch]:
    """Mismatches of the organization, most severe and newest first."""
    qs = NppesMismatch.objects.filter(organization=org).select_related("provider")
    f = filters or MismatchFilters()
    if f.status != "all":
        qs = qs.filter(status=f.status)
    if f.field:
        qs = qs.filter(field=f.field)
    if f.severity:
        qs = qs.filter(severity=f.severity)
    if f.provider:
        qs = qs.filter(provider_id=f.provider)
    if f.q:
        words = f.q.split()
        for word in words:
            qs = qs.filter(
                Q(provider__first_name__icontains=word)
                | Q(provider__last_name__icontains=word)
                | Q(provider__npi__startswith=word)
            )
    return qs.annotate(severity_rank=_SEVERITY_RANK).order_by(
        "severity_rank", "-first_seen", "provider__last_name", "field"
    )


def mismatch_get(*, org, mismatch_id) -> NppesMismatch:
    """One mismatch of the organization (404 otherwise)."""
    return get_object_or_404(
        NppesMismatch.objects.filter(organization=org).select_related("provider"), pk=mismatch_id
    )


def mismatch_counts(*, org) -> dict:
    """Open items by severity, and items by status."""
    rows = NppesMismatch.objects.filter(organization=org).aggregate(
        open=Count("id", filter=Q(status=MismatchStatus.OPEN)),
        high=Count("id", filter=Q(status=MismatchStatus.OPEN, severity=Severity.HIGH)),
        medium=Count("id", filter=Q(status=MismatchStatus.OPEN, severity=Severity.MEDIUM)),
        low=Count("id", filter=Q(status=MismatchStatus.OPEN, severity=Severity.LOW)),
        dismissed=Count("id", filter=Q(status=MismatchStatus.DISMISSED)),
        accepted=Count("id", filter=Q(status=MismatchStatus.ACCEPTED)),
        resolved=Count("id", filter=Q(status=MismatchStatus.RESOLVED)),
        all=Count("id"),
    )
    return rows


def check_list(*, org, failed_only: bool = True) -> QuerySet[NppesCheck]:
    """Providers' last checks; by default those that failed (not found or error)."""
    qs = NppesCheck.objects.filter(organization=org).select_related("provider")
    if failed_only:
        qs = qs.filter(outcome__in=FAILED_OUTCOMES)
    return qs.order_by("-consecutive_failures", "provider__last_name")


def failure_groups(*, org, examples: int = 3) -> list[dict]:
    """Failed checks grouped by what happened (outcome, error kind, message, HTTP status):
    a night when NPPES was down is one line with its count, not one row per provider."""
    groups: dict[tuple, dict] = {}
    for c in check_list(org=org):
        detail = c.error_detail or {}
        numbers = tuple(e.get("number", "") for e in detail.get("errors") or [])
        key = (c.outcome, detail.get("kind", ""), detail.get("message", ""), c.http_status, numbers)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "outcome": c.outcome,
                "kind": detail.get("kind", ""),
                "message": detail.get("message", ""),
                "errors": detail.get("errors") or [],
                "http_status": c.http_status,
                "count": 0,
                "providers": [],
                "last_tried": c.checked_at,
                "next_retry_at": c.next_retry_at,
                "summary": failure_summary(detail, outcome=c.outcome, http_status=c.http_status),
            }
        group["count"] += 1
        if len(group["providers"]) < examples:
            group["providers"].append(c.provider)
        group["last_tried"] = max(group["last_tried"], c.checked_at)
    for group in groups.values():
        group["more"] = group["count"] - len(group["providers"])
    return sorted(groups.values(), key=lambda g: -g["count"])


def check_summary(*, org) -> dict:
    """How many providers were checked, by outcome; and how many have an NPI."""
    rows = dict(
        NppesCheck.objects.filter(organization=org)
        .values_list("outcome")
        .annotate(n=Count("id"))
        .values_list("outcome", "n")
    )
    with_npi = Provider.objects.filter(organization=org).exclude(npi="").count()
    return {"by_outcome": rows, "checked": sum(rows.values()), "with_npi": with_npi}


def run_list(*, org) -> QuerySet[NppesRun]:
    return NppesRun.objects.filter(organization=org).select_related("requested_by__user")


def run_get(*, org, run_id) -> NppesRun:
    """One refresh run of the organization (404 otherwise)."""
    return get_object_or_404(run_list(org=org), pk=run_id)


def last_run(*, org, provider=None) -> NppesRun | None:
    """The latest finished or waiting org-wide refresh (or of one provider)."""
    qs = run_list(org=org).exclude(status=RunStatus.SKIPPED)
    qs = qs.filter(provider=provider) if provider else qs.filter(provider__isnull=True)
    return qs.order_by("-created_at").first()


def active_run(*, org, provider=None) -> NppesRun | None:
    qs = run_list(org=org).filter(status=RunStatus.QUEUED)
    qs = qs.filter(provider=provider) if provider else qs.filter(provider__isnull=True)
    return qs.first()


def provider_get(*, org, provider_id) -> Provider:
    return get_object_or_404(Provider.objects.filter(organization=org), pk=provider_id)


def provider_nppes(*, org, provider: Provider) -> dict:
    """Everything the provider file shows about NPPES: last check, open and decided items."""
    check = NppesCheck.objects.filter(organization=org, provider=provider).first()
    mismatches = list(
        NppesMismatch.objects.filter(organization=org, provider=provider)
        .annotate(severity_rank=_SEVERITY_RANK)
        .order_by("status", "severity_rank", "-first_seen")
    )
    return {
        "check": check,
        "open": [m for m in mismatches if m.status == MismatchStatus.OPEN],
        "decided": [m for m in mismatches if m.status != MismatchStatus.OPEN][:10],
        "active_run": active_run(org=org, provider=provider),
    }


def taxonomy_labels(codes) -> dict:
    """{code: display name} from the NUCC set (global reference data)."""
    codes = {c for c in codes if c}
    if not codes:
        return {}
    return {
        t.code: t.display_name or t.classification
        for t in TaxonomyCode.objects.filter(code__in=codes)
    }


def _codes_in(m: NppesMismatch) -> list[str]:
    if m.field == "primary_taxonomy":
        return [v for v in (m.our_value, m.nppes_value) if isinstance(v, str)]
    if m.field == "secondary_taxonomies":
        return [*(m.our_value or []), *(m.nppes_value or [])]
    return []


def decorate(mismatches) -> list[NppesMismatch]:
    """Attach `pair` (both sides, differences marked), `answered_at` (when NPPES gave the
    value) and `acceptable` to each row: two queries for the whole page."""
    mismatches = list(mismatches)
    labels = taxonomy_labels(c for m in mismatches for c in _codes_in(m))
    answered = dict(
        NppesCheck.objects.filter(provider_id__in={m.provider_id for m in mismatches}).values_list(
            "provider_id", "record_fetched_at"
        )
    )
    for m in mismatches:
        our_value = m.our_value
        if m.field == "credential_text" and isinstance(our_value, str):
            our_value = PROVIDER_TYPES.get(our_value, f"{our_value} (custom type)")
        m.pair = marked_pair(m.field, our_value, m.nppes_value, labels=labels)
        m.answered_at = answered.get(m.provider_id)
        m.acceptable = not (m.field == "name" and "organization" in (m.nppes_value or {}))
    return mismatches


# What a coordinator is told when a check fails: what happened, in words, and what to do.
_TRANSIENT = "NPPES did not answer; try again later."
_FAILURE_HEADLINES = {
    "network": _TRANSIENT,
    "timeout": _TRANSIENT,
    "http": _TRANSIENT,
    "malformed": "NPPES sent an answer that could not be read; try again later.",
    "api": "NPPES refused the question; check the NPI.",
    "not_found": "NPPES has no record of this NPI; check the number for a typo.",
}


def failure_summary(
    detail: dict | None, *, outcome: str = "error", http_status=None, attempts: int = 0
) -> dict:
    """{"headline", "detail", "transient"} for a failed NPPES call, from its error detail:
    what happened in plain words (no exception class names) and what to do next."""
    detail = detail or {}
    kind = "not_found" if outcome == "not_found" else detail.get("kind") or "network"
    if kind == "http" and http_status and 400 <= int(http_status) < 500 and http_status != 429:
        headline = "NPPES refused the request; check the NPI or tell support."
    else:
        headline = _FAILURE_HEADLINES.get(kind, _TRANSIENT)
    message = str(detail.get("message") or "")
    if kind == "network":
        what = "Could not connect to the registry"
    elif kind == "timeout":
        what = message.split(" (")[0].rstrip(".") or "The registry did not answer in time"
    elif kind == "http":
        what = f"The registry answered HTTP {http_status}" if http_status else "HTTP error"
    elif kind == "malformed":
        what = "The answer could not be read"
    elif kind == "api":
        errors = detail.get("errors") or []
        what = "; ".join(
            f"error {e.get('number', '')}: {e.get('description', '')}".strip() for e in errors
        ) or message.rstrip(".")
    else:
        what = "No record for this NPI (deactivated NPIs are not listed)"
    if attempts and attempts > 1:
        what += f" ({attempts} attempts)"
    return {"headline": headline, "detail": f"{what}.", "transient": headline == _TRANSIENT}


def provider_check(*, org, provider_id) -> NppesCheck | None:
    """The provider's latest NPPES check, if any."""
    return NppesCheck.objects.filter(organization=org, provider_id=provider_id).first()
