"""Reads for extraction review: the worklist, one suggestion, a provider's pending ones."""

from __future__ import annotations

import uuid

from django.db.models import Count, Q, QuerySet

from credex.services import get_or_404
from roster.models import Provider
from verifications.extraction.base import CREDENTIAL_KIND_FOR
from verifications.models import ExtractionSuggestion, SuggestionStatus

# Worklist tabs: name -> statuses.
STATUS_GROUPS = {
    "pending": (SuggestionStatus.PENDING,),
    "by_hand": (SuggestionStatus.EMPTY, SuggestionStatus.FAILED),
    "decided": (SuggestionStatus.APPROVED, SuggestionStatus.CORRECTED, SuggestionStatus.REJECTED),
    "all": tuple(SuggestionStatus.values),
}
STATUS_TABS = [
    ("pending", "Waiting for review"),
    ("by_hand", "Enter by hand"),
    ("decided", "Decided"),
    ("all", "All"),
]
ENGINES = {"text": "PDF text", "ocr": "OCR", "none": "Not read"}
SORTS = {
    "newest": ("-created_at",),
    "oldest": ("created_at",),
    "provider": ("document__provider__last_name", "document__provider__first_name", "-created_at"),
}
DOCUMENT_KINDS = tuple(CREDENTIAL_KIND_FOR)


def _base(org) -> QuerySet[ExtractionSuggestion]:
    return ExtractionSuggestion.objects.filter(organization=org).select_related(
        "document__provider", "credential", "decided_by__user"
    )


def clean_filters(params) -> dict:
    """Worklist filters from a query string; unknown values fall back to the defaults."""
    status = params.get("status") or "pending"
    kind = params.get("kind") or ""
    engine = params.get("engine") or ""
    sort = params.get("sort") or "newest"
    return {
        "status": status if status in STATUS_GROUPS else "pending",
        "kind": kind if kind in DOCUMENT_KINDS else "",
        "engine": engine if engine in ENGINES else "",
        "sort": sort if sort in SORTS else "newest",
        "provider": (params.get("provider") or "").strip()[:36],
    }


def suggestion_list(
    *, org, status="pending", kind="", engine="", sort="newest", provider=""
) -> QuerySet[ExtractionSuggestion]:
    """Suggestions of the organization, filtered (status group, document kind, engine)."""
    qs = _base(org).filter(status__in=STATUS_GROUPS[status])
    if kind:
        qs = qs.filter(document__kind=kind)
    if engine:
        qs = qs.filter(engine=engine)
    if provider:
        try:
            qs = qs.filter(document__provider_id=uuid.UUID(str(provider)))
        except ValueError:  # not a UUID: nothing matches
            qs = qs.none()
    return qs.order_by(*SORTS[sort])


def suggestion_counts(*, org, kind="", engine="") -> dict[str, int]:
    """Per status tab, under the same kind and engine filters."""
    qs = ExtractionSuggestion.objects.filter(organization=org)
    if kind:
        qs = qs.filter(document__kind=kind)
    if engine:
        qs = qs.filter(engine=engine)
    aggregates = {
        name: Count("id", filter=Q(status__in=statuses)) for name, statuses in STATUS_GROUPS.items()
    }
    return qs.aggregate(**aggregates)


def suggestion_get(*, org, suggestion_id) -> ExtractionSuggestion:
    """One suggestion of the organization, or NotFound."""
    return get_or_404(_base(org), pk=suggestion_id)


def provider_open_suggestions(*, org, provider: Provider) -> list[ExtractionSuggestion]:
    """A provider's suggestions still waiting for a decision (pending or to enter by hand)."""
    return list(
        _base(org)
        .filter(
            document__provider=provider,
            status__in=STATUS_GROUPS["pending"] + STATUS_GROUPS["by_hand"],
        )
        .order_by("-created_at")[:20]
    )
