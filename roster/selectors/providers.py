"""Reads of the roster: the provider worklist with its filters, one provider's file, the
credentials on it, coordinators to assign and NUCC taxonomy search."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Case, Count, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from credex import capabilities as cap
from credex.models import Membership
from credex.services import get_or_404
from roster.models import (
    EXPIRING_KINDS,
    Credential,
    CredentialStatus,
    Document,
    Provider,
    ProviderStatus,
    TaxonomyCode,
)
from roster.services.providers import provider_types

# ?sort= values -> ordering. Every ordering ends on id so pages never repeat or skip a row.
SORTS = {
    "name": ("last_name", "first_name", "id"),
    "-name": ("-last_name", "-first_name", "-id"),
    "expiry": (F("next_expiry").asc(nulls_last=True), "last_name", "id"),
    "-expiry": (F("next_expiry").desc(nulls_last=True), "last_name", "id"),
    "recred": (F("recredentialing_due_date").asc(nulls_last=True), "last_name", "id"),
    "-recred": (F("recredentialing_due_date").desc(nulls_last=True), "last_name", "id"),
    "status": ("status", "last_name", "id"),
    "type": ("provider_type", "last_name", "id"),
}
EXPIRING_CHOICES = [
    ("expired", "Already expired"),
    ("30", "Within 30 days"),
    ("60", "Within 60 days"),
    ("90", "Within 90 days"),
    ("120", "Within 120 days"),
]
# Credentials that no longer count (a superseded or withdrawn record) do not set the date.
_COUNTED_STATUSES = (CredentialStatus.ACTIVE, CredentialStatus.PENDING, CredentialStatus.EXPIRED)


@dataclass
class ProviderFilters:
    """The worklist's filters, all from the query string (bookmarkable)."""

    q: str = ""
    status: str = ""
    type: str = ""
    coordinator: str = ""  # a membership id, or "none" for unassigned
    expiring: str = ""  # "expired" or a number of days
    sort: str = "name"
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_query(cls, params) -> ProviderFilters:
        """Parse; a bad value is dropped and named in `errors` (the rest still applies)."""
        f = cls(
            q=(params.get("q") or "").strip()[:100],
            status=(params.get("status") or "").strip(),
            type=(params.get("type") or "").strip().upper(),
            coordinator=(params.get("coordinator") or "").strip(),
            expiring=(params.get("expiring") or "").strip(),
            sort=(params.get("sort") or "name").strip(),
        )
        if f.status and f.status not in ProviderStatus.values:
            f.errors["status"] = f"Unknown status {f.status!r}."
            f.status = ""
        if f.expiring and f.expiring != "expired":
            try:
                days = int(f.expiring)
                if not 0 <= days <= 3650:
                    raise ValueError
            except ValueError:
                f.errors["expiring"] = "Use a number of days from 0 to 3650, or 'expired'."
                f.expiring = ""
        if f.coordinator and f.coordinator != "none":
            import uuid

            try:
                uuid.UUID(f.coordinator)
            except ValueError:
                f.errors["coordinator"] = "Unknown coordinator."
                f.coordinator = ""
        if f.sort not in SORTS:
            f.errors["sort"] = f"Sort by one of: {', '.join(SORTS)}."
            f.sort = "name"
        return f

    def as_query(self) -> dict:
        """The active filters as query parameters (for links that keep them)."""
        values = {
            "q": self.q,
            "status": self.status,
            "type": self.type,
            "coordinator": self.coordinator,
            "expiring": self.expiring,
            "sort": "" if self.sort == "name" else self.sort,
        }
        return {k: v for k, v in values.items() if v}

    @property
    def active(self) -> bool:
        return any(v for k, v in self.as_query().items() if k != "sort")


def _next_expiry(field_name: str):
    return Subquery(
        Credential.objects.filter(
            provider=OuterRef("pk"),
            kind__in=EXPIRING_KINDS,
            status__in=_COUNTED_STATUSES,
            expiry_date__isnull=False,
        )
        .order_by("expiry_date")
        .values(field_name)[:1]
    )


def provider_list(*, org, filters: ProviderFilters | None = None) -> QuerySet[Provider]:
    """The roster, filtered and sorted, with each provider's earliest credential expiry
    (`next_expiry`, `next_expiry_kind`), primary taxonomy and coordinator in one query."""
    f = filters or ProviderFilters()
    qs = (
        Provider.objects.filter(organization=org)
        .select_related("primary_taxonomy", "coordinator__user")
        .annotate(next_expiry=_next_expiry("expiry_date"), next_expiry_kind=_next_expiry("kind"))
    )
    if f.q:
        for token in f.q.split():
            qs = qs.filter(
                Q(first_name__icontains=token)
                | Q(last_name__icontains=token)
                | Q(middle_name__icontains=token)
                | Q(npi__startswith=token)
            )
    if f.status:
        qs = qs.filter(status=f.status)
    if f.type:
        qs = qs.filter(provider_type=f.type)
    if f.coordinator == "none":
        qs = qs.filter(coordinator__isnull=True)
    elif f.coordinator:
        qs = qs.filter(coordinator_id=f.coordinator)
    today = timezone.localdate()
    if f.expiring == "expired":
        qs = qs.filter(next_expiry__lt=today)
    elif f.expiring:
        qs = qs.filter(next_expiry__lte=today + timedelta(days=int(f.expiring)))
    return qs.order_by(*SORTS[f.sort])


def provider_exclusion_block(provider: Provider, *, what: str = "enrolled") -> str | None:
    """Why this provider cannot be enrolled (or resubmitted, approved...), or None.

    The one roster-side rule for a confirmed exclusion. Screening sets `Provider.excluded`
    when a coordinator confirms an OIG LEIE or SAM hit (roster.services.providers.
    provider_set_exclusion, called from screening, which sits above the roster), so the
    roster asks its own flag and never imports screening.
    """
    if not provider.excluded:
        return None
    since = f" on {provider.excluded_at:%-d %b %Y}" if provider.excluded_at else ""
    return (
        f"{provider.full_name} has a confirmed exclusion (OIG LEIE / SAM){since}: a provider "
        f"on an exclusion list cannot bill federal health-care programs, so they cannot be "
        f"{what}. Resolve the exclusion on the screening page first."
    )


def provider_status_counts(*, org) -> dict[str, int]:
    """{status: count} and "total" for the whole roster (one query)."""
    counts = dict.fromkeys(ProviderStatus.values, 0)
    rows = Provider.objects.filter(organization=org).values("status").annotate(n=Count("id"))
    for row in rows:
        counts[row["status"]] = row["n"]
    counts["total"] = sum(counts[s] for s in ProviderStatus.values)
    return counts


def provider_get(*, org, provider_id) -> Provider:
    """One provider of the organization, or NotFound (also for another org's id)."""
    return get_or_404(
        Provider.objects.filter(organization=org).select_related(
            "primary_taxonomy", "coordinator__user"
        ),
        pk=provider_id,
    )


def providers_by_ids(*, org, ids) -> list[Provider]:
    """The organization's providers among `ids` (unknown or foreign ids are left out)."""
    import uuid

    clean = []
    for raw in ids:
        try:
            clean.append(uuid.UUID(str(raw)))
        except ValueError:
            continue
    return list(Provider.objects.filter(organization=org, pk__in=clean))


def credential_list(*, org, provider: Provider | None = None) -> QuerySet[Credential]:
    """Credentials (of one provider, or all), by kind then expiry."""
    qs = Credential.objects.filter(organization=org).select_related("provider")
    if provider is not None:
        qs = qs.filter(provider=provider)
    return qs.order_by("kind", F("expiry_date").asc(nulls_last=True), "-start_date", "id")


def credential_get(*, org, credential_id, provider: Provider | None = None) -> Credential:
    """One credential of the organization (and of `provider` when given), or NotFound."""
    qs = Credential.objects.filter(organization=org).select_related("provider")
    if provider is not None:
        qs = qs.filter(provider=provider)
    return get_or_404(qs, pk=credential_id)


def provider_documents(*, org, provider: Provider) -> list[Document]:
    """The provider's documents, newest first (for the file's document checks)."""
    return list(Document.objects.filter(organization=org, provider=provider))


def coordinator_choices(*, org) -> list[Membership]:
    """Members who can be a provider's coordinator (owner, admin, coordinator)."""
    return list(
        Membership.objects.filter(organization=org, role__in=cap.roles_with(cap.CHANGE_ROSTER))
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__email")
    )


def coordinator_get(*, org, membership_id) -> Membership | None:
    """A member of the organization by id (None when not one of them)."""
    import uuid

    try:
        pk = uuid.UUID(str(membership_id))
    except ValueError:
        return None
    return Membership.objects.filter(organization=org, pk=pk).select_related("user").first()


def provider_type_choices(*, org) -> list[tuple[str, str]]:
    """(code, name) for every provider type the organization can use."""
    return list(provider_types(org).items())


def taxonomy_search(query: str, *, limit: int = 20) -> list[TaxonomyCode]:
    """NUCC codes whose code starts with, or whose name contains, the query."""
    query = (query or "").strip()
    if len(query) < 2:
        return []
    code_like = query.replace(" ", "").upper()
    qs = TaxonomyCode.objects.filter(
        Q(code__startswith=code_like)
        | Q(display_name__icontains=query)
        | Q(classification__icontains=query)
        | Q(specialization__icontains=query)
    )
    rank = Case(
        When(code__startswith=code_like, then=Value(0)),
        When(display_name__istartswith=query, then=Value(1)),
        When(classification__icontains=query, specialization="", then=Value(2)),
        default=Value(3),
    )
    return list(qs.annotate(rank=rank).order_by("rank", "display_name", "code")[:limit])


def taxonomy_names(codes) -> dict[str, str]:
    """{code: display name} for the given codes."""
    rows = TaxonomyCode.objects.filter(code__in=list(codes))
    return {t.code: t.display_name or t.classification for t in rows}


def caqh_due(provider: Provider) -> date | None:
    """When the next CAQH re-attestation is due (last attestation + 120 days)."""
    from roster.services.providers import CAQH_ATTESTATION_DAYS

    if not provider.caqh_last_attested:
        return None
    return provider.caqh_last_attested + timedelta(days=CAQH_ATTESTATION_DAYS)


# --- provider pickers (enrollment, committee) ----------------------------------------------
def provider_choices(*, org) -> QuerySet[Provider]:
    """Providers for a picker (new enrollment, committee), by name (terminated ones left out)."""
    return (
        Provider.objects.filter(organization=org)
        .exclude(status="terminated")
        .only(
            "id",
            "first_name",
            "middle_name",
            "last_name",
            "suffix",
            "npi",
            "provider_type",
            "excluded",
            "excluded_at",
        )
        .order_by("last_name", "first_name")
    )


PROVIDER_SEARCH_LIMIT = 20


def provider_choices_search(*, org, q: str, limit: int = PROVIDER_SEARCH_LIMIT) -> list[Provider]:
    """At most `limit` providers of the picker whose name (every word) or NPI matches `q`."""
    tokens = (q or "").split()[:5]
    if not tokens:
        return []
    qs = provider_choices(org=org)
    for token in tokens:
        token = token[:50]
        qs = qs.filter(
            Q(first_name__icontains=token)
            | Q(last_name__icontains=token)
            | Q(middle_name__icontains=token)
            | Q(npi__startswith=token)
        )
    return list(qs[:limit])
