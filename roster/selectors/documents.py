"""Reads for documents and upload links: the review queue, a provider's documents, recent
uploads for the dashboard. Every read starts from the organization."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet

from credex import capabilities as cap
from credex.capabilities import has_capability
from credex.services import get_or_404
from roster.models import Document, DocumentKind, DocumentStatus, Provider, UploadLink

SOURCES = {"link": "Provider link", "member": "Team member", "api": "API key"}
SORTS = {
    "newest": ("-created_at",),
    "oldest": ("created_at",),
    "provider": ("provider__last_name", "provider__first_name", "-created_at"),
}
STATUS_FILTERS = [*DocumentStatus.values, "all"]


def _documents(org) -> QuerySet[Document]:
    return Document.objects.filter(organization=org).select_related(
        "provider", "uploaded_by__user", "reviewed_by__user", "upload_link", "credential"
    )


def _source_q(source: str) -> Q:
    if source == "link":
        return Q(upload_link__isnull=False)
    if source == "member":
        return Q(upload_link__isnull=True, uploaded_by__isnull=False)
    if source == "api":
        return Q(upload_link__isnull=True, uploaded_by__isnull=True)
    return Q()


def clean_queue_filters(params) -> dict:
    """The review queue's filters from a query dict; unknown values fall back to defaults."""
    status = params.get("status") or DocumentStatus.PENDING_REVIEW
    kind = params.get("kind") or ""
    source = params.get("source") or ""
    sort = params.get("sort") or "newest"
    return {
        "status": status if status in STATUS_FILTERS else DocumentStatus.PENDING_REVIEW,
        "kind": kind if kind in DocumentKind.values else "",
        "source": source if source in SOURCES else "",
        "sort": sort if sort in SORTS else "newest",
    }


def document_queue(
    *,
    org,
    status: str = DocumentStatus.PENDING_REVIEW,
    kind: str = "",
    source: str = "",
    sort: str = "newest",
) -> QuerySet[Document]:
    """Documents for the review queue, filtered; newest first unless sorted otherwise."""
    qs = _documents(org)
    if status and status != "all":
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    qs = qs.filter(_source_q(source))
    return qs.order_by(*SORTS.get(sort, SORTS["newest"]))


def document_status_counts(*, org, kind: str = "", source: str = "") -> dict[str, int]:
    """How many documents per status (and in all) under the kind/source filters."""
    qs = Document.objects.filter(organization=org)
    if kind:
        qs = qs.filter(kind=kind)
    qs = qs.filter(_source_q(source))
    counts = qs.aggregate(
        all=Count("id"),
        **{s: Count("id", filter=Q(status=s)) for s in DocumentStatus.values},
    )
    return counts


def document_get(*, org, document_id) -> Document:
    """One document of the organization, or NotFound."""
    return get_or_404(_documents(org), pk=document_id)


def provider_get(*, org, provider_id) -> Provider:
    """One provider of the organization, or NotFound."""
    return get_or_404(Provider.objects.filter(organization=org), pk=provider_id)


def documents_for_provider(*, org, provider: Provider) -> QuerySet[Document]:
    """A provider's documents, newest first."""
    return _documents(org).filter(provider=provider).order_by("-created_at")


def documents_recent(org, since: datetime) -> QuerySet[Document]:
    """Documents uploaded since `since` (the dashboard's last-24-hours block), newest first."""
    return _documents(org).filter(created_at__gte=since).order_by("-created_at")


def upload_links_for_provider(*, org, provider: Provider) -> QuerySet[UploadLink]:
    """A provider's upload links, newest first, with how many documents each received."""
    return (
        UploadLink.objects.filter(organization=org, provider=provider)
        .select_related("created_by__user")
        .annotate(received=Count("documents"))
        .order_by("-created_at")
    )


def upload_link_get(*, org, link_id) -> UploadLink:
    """One upload link of the organization, or NotFound."""
    return get_or_404(
        UploadLink.objects.filter(organization=org).select_related("provider"), pk=link_id
    )


def documents_for_link(*, org, link: UploadLink) -> QuerySet[Document]:
    """What a provider has sent through one link, newest first (for the public page)."""
    return Document.objects.filter(organization=org, upload_link=link).order_by("-created_at")


def provider_documents_context(*, org, provider: Provider, membership) -> dict:
    """Everything templates/roster/documents/_provider_documents.html uses, for any page that
    includes it (the provider file page, the standalone documents page)."""
    from django.conf import settings

    from credex.links import link_state
    from roster.services.documents import size_words, upload_link_url

    can_change = has_capability(membership.role, cap.CHANGE_ROSTER)
    labels = dict(DocumentKind.choices)
    links = list(upload_links_for_provider(org=org, provider=provider))
    for link in links:
        link.state = link_state(link)
        link.requested_labels = [labels.get(k, k) for k in link.requested_kinds]
        # The address is a capability: only people who could create one see it again.
        link.url = upload_link_url(link) if can_change and link.state == "active" else ""
    max_days = settings.UPLOAD_LINK_MAX_AGE_DAYS
    return {
        "provider": provider,
        "documents": list(documents_for_provider(org=org, provider=provider)),
        "upload_links": links,
        "provider_credentials": list(provider.credentials.all().order_by("kind", "expiry_date")),
        "document_kinds": DocumentKind.choices,
        "link_day_choices": sorted({d for d in (3, 7, 14, 30) if d <= max_days} | {max_days}),
        "link_max_days": max_days,
        "can_change_documents": can_change,
        "max_upload_size": size_words(settings.DOCUMENT_MAX_BYTES),
    }
