"""Enrollment reads: payers and their contacts, contracts, the enrollment worklist, overdue
follow-ups."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Min, Q, QuerySet
from django.utils import timezone

from credex.services import get_or_404
from enrollment.models import Enrollment, EnrollmentStatus, Payer, PayerContact, PayerContract
from enrollment.services import OPEN_STATUSES
from roster.models import Provider
from roster.selectors.providers import (  # noqa: F401 - the enrollment picker's reads
    PROVIDER_SEARCH_LIMIT,
    provider_choices,
    provider_choices_search,
)

RENEWAL_WINDOW_DAYS = 90  # contracts renewing within this many days are highlighted


# --- payers and contracts ---------------------------------------------------------------------
def payer_list(*, org, today: date | None = None) -> QuerySet[Payer]:
    """Payers by name, with open-application counts and the next contract renewal."""
    today = today or timezone.localdate()
    return (
        Payer.objects.filter(organization=org)
        .annotate(
            open_enrollments=Count(
                "enrollments", filter=Q(enrollments__status__in=OPEN_STATUSES), distinct=True
            ),
            approved_enrollments=Count(
                "enrollments",
                filter=Q(enrollments__status=EnrollmentStatus.APPROVED),
                distinct=True,
            ),
            contract_count=Count("contracts", distinct=True),
            next_renewal=Min(
                "contracts__renewal_date", filter=Q(contracts__renewal_date__gte=today)
            ),
            lapsed_renewal=Min(
                "contracts__renewal_date", filter=Q(contracts__renewal_date__lt=today)
            ),
        )
        .order_by("name")
    )


def payer_get(*, org, payer_id) -> Payer:
    """One payer of the organization, or 404."""
    return get_or_404(Payer.objects.filter(organization=org), pk=payer_id)


def contract_list(*, org, payer: Payer | None = None) -> QuerySet[PayerContract]:
    """Contracts, soonest renewal first (open-ended ones last)."""
    qs = PayerContract.objects.filter(organization=org).select_related("payer")
    if payer is not None:
        qs = qs.filter(payer=payer)
    return qs.order_by("renewal_date", "-effective_date")


def contract_get(*, org, contract_id, payer: Payer | None = None) -> PayerContract:
    """One contract of the organization (of `payer` when given), or 404."""
    qs = PayerContract.objects.filter(organization=org).select_related("payer")
    if payer is not None:
        qs = qs.filter(payer=payer)
    return get_or_404(qs, pk=contract_id)


def contracts_renewing(
    org, today: date | None = None, within_days: int = RENEWAL_WINDOW_DAYS
) -> QuerySet[PayerContract]:
    """Contracts whose renewal date is within `within_days` (or already passed)."""
    today = today or timezone.localdate()
    return contract_list(org=org).filter(renewal_date__lte=today + timedelta(days=within_days))


# --- enrollments ----------------------------------------------------------------------------
SORTS = {
    "provider": ("provider__last_name", "provider__first_name"),
    "payer": ("payer__name",),
    "status": ("status",),
    "submitted": ("submitted_on",),
    "follow_up": ("next_follow_up",),
    "effective": ("effective_date",),
    "requested": ("requested_at",),
}
DEFAULT_SORT = "follow_up"


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


# Status filters that name several statuses: "open" (not yet answered) and "in_progress"
# (open, past the request: being prepared or with the payer), which the dashboard links to.
STATUS_GROUPS = {
    "open": OPEN_STATUSES,
    "in_progress": tuple(s for s in OPEN_STATUSES if s != EnrollmentStatus.REQUESTED),
}


@dataclass
class EnrollmentFilters:
    """Worklist filters as they live in the URL: status, payer, provider, overdue, sort."""

    status: str = ""
    payer: str = ""
    provider: str = ""
    overdue: bool = False
    sort: str = ""
    excluded: bool = False  # open or approved applications of providers with an exclusion

    @classmethod
    def from_query(cls, query) -> tuple[EnrollmentFilters, dict[str, str]]:
        """Parse a QueryDict; unknown values become errors (and are ignored)."""
        errors = {}
        status = (query.get("status") or "").strip()
        if status and status not in (*EnrollmentStatus.values, *STATUS_GROUPS):
            errors["status"] = "Unknown status."
            status = ""
        payer = (query.get("payer") or "").strip()
        if payer and _uuid(payer) is None:
            errors["payer"] = "Unknown payer."
            payer = ""
        provider = (query.get("provider") or "").strip()
        if provider and _uuid(provider) is None:
            errors["provider"] = "Unknown provider."
            provider = ""
        overdue = (query.get("overdue") or "").lower() in ("1", "true", "on", "yes")
        sort = (query.get("sort") or "").strip()
        if sort.lstrip("-") not in SORTS:
            sort = ""
        excluded = (query.get("excluded") or "").lower() in ("1", "true", "on", "yes")
        return cls(status, payer, provider, overdue, sort, excluded), errors

    def as_query(self, **override) -> dict:
        """The non-empty filters as URL parameters (for links and pagination)."""
        values = {
            "status": self.status,
            "payer": self.payer,
            "provider": self.provider,
            "overdue": "1" if self.overdue else "",
            "sort": self.sort,
            "excluded": "1" if self.excluded else "",
        }
        values.update(override)
        return {k: v for k, v in values.items() if v}


def _filtered(org, filters: EnrollmentFilters, today: date, *, with_status: bool = True):
    qs = Enrollment.objects.filter(organization=org)
    if filters.payer:
        qs = qs.filter(payer_id=filters.payer)
    if filters.provider:
        qs = qs.filter(provider_id=filters.provider)
    if filters.overdue:
        qs = qs.filter(status__in=OPEN_STATUSES, next_follow_up__lt=today)
    if filters.excluded:
        qs = qs.filter(
            provider__excluded=True, status__in=(*OPEN_STATUSES, EnrollmentStatus.APPROVED)
        )
    if with_status and filters.status in STATUS_GROUPS:
        qs = qs.filter(status__in=STATUS_GROUPS[filters.status])
    elif with_status and filters.status:
        qs = qs.filter(status=filters.status)
    return qs


def enrollment_list(
    *, org, filters: EnrollmentFilters | None = None, today: date | None = None
) -> QuerySet[Enrollment]:
    """The worklist: filtered, sorted (default: most urgent follow-up first)."""
    filters = filters or EnrollmentFilters()
    today = today or timezone.localdate()
    qs = _filtered(org, filters, today).select_related("provider", "payer")
    sort = filters.sort or DEFAULT_SORT
    desc = sort.startswith("-")
    ordering = [
        F(name).desc(nulls_last=True) if desc else F(name).asc(nulls_last=True)
        for name in SORTS[sort.lstrip("-")]
    ]
    return qs.order_by(*ordering, "-requested_at", "id")


def enrollment_status_counts(
    *, org, filters: EnrollmentFilters | None = None, today: date | None = None
) -> dict:
    """Counts per status (ignoring the status filter, honouring the others), plus 'open',
    'overdue' and 'total', in one query."""
    filters = filters or EnrollmentFilters()
    today = today or timezone.localdate()
    qs = _filtered(org, filters, today, with_status=False)
    aggregates = {
        status: Count("id", filter=Q(status=status)) for status in EnrollmentStatus.values
    }
    aggregates["open"] = Count("id", filter=Q(status__in=OPEN_STATUSES))
    aggregates["overdue"] = Count(
        "id", filter=Q(status__in=OPEN_STATUSES, next_follow_up__lt=today)
    )
    aggregates["total"] = Count("id")
    return qs.aggregate(**aggregates)


def enrollment_get(*, org, enrollment_id) -> Enrollment:
    """One application of the organization, or 404."""
    return get_or_404(
        Enrollment.objects.filter(organization=org).select_related("provider", "payer"),
        pk=enrollment_id,
    )


def enrollments_for_provider(*, org, provider: Provider) -> QuerySet[Enrollment]:
    """A provider's applications by payer, newest request first within a payer."""
    return (
        Enrollment.objects.filter(organization=org, provider=provider)
        .select_related("provider", "payer")
        .order_by("payer__name", "-requested_at")
    )


def enrollments_overdue(org, today: date | None = None) -> QuerySet[Enrollment]:
    """Open applications whose next follow-up date has passed (for the dashboard), most
    overdue first."""
    today = today or timezone.localdate()
    return (
        Enrollment.objects.filter(
            organization=org, status__in=OPEN_STATUSES, next_follow_up__lt=today
        )
        .select_related("provider", "payer")
        .order_by("next_follow_up", "id")
    )


def enrollment_requests_new(org, since: datetime | date) -> QuerySet[Enrollment]:
    """Applications requested since `since` and still waiting to be started (dashboard's
    "new payer-enrollment requests"), newest first."""
    if isinstance(since, date) and not isinstance(since, datetime):
        since = timezone.make_aware(datetime.combine(since, datetime.min.time()))
    return (
        Enrollment.objects.filter(
            organization=org, status=EnrollmentStatus.REQUESTED, requested_at__gte=since
        )
        .select_related("provider", "payer")
        .order_by("-requested_at", "id")
    )


def provider_get(*, org, provider_id) -> Provider:
    """One provider of the organization, or 404."""
    return get_or_404(Provider.objects.filter(organization=org), pk=provider_id)


# --- the coordinator's dashboard (registered on roster.hooks.dashboard_enrollments) ---------
DASHBOARD_TOP = 5  # rows the block lists (the dashboard's TOP)
FOLLOW_UP_STATUSES = (
    EnrollmentStatus.SUBMITTED,
    EnrollmentStatus.IN_FOLLOW_UP,
    EnrollmentStatus.RESUBMITTED,
)


def dashboard_block(*, org, today: date) -> dict:
    """New requests, overdue follow-ups (the enrollment area's definition), in progress."""
    qs = Enrollment.objects.filter(organization=org)
    block = qs.aggregate(
        requested=Count("id", filter=Q(status=EnrollmentStatus.REQUESTED)),
        overdue=Count("id", filter=Q(status__in=OPEN_STATUSES, next_follow_up__lt=today)),
        in_progress=Count(
            "id", filter=Q(status__in=(EnrollmentStatus.IN_PREPARATION, *FOLLOW_UP_STATUSES))
        ),
        # Providers with a confirmed exclusion who still have an open (or approved)
        # application: they cannot bill federal programs. Same aggregate, no extra query.
        excluded_providers=Count(
            "provider",
            filter=Q(
                provider__excluded=True,
                status__in=(*OPEN_STATUSES, EnrollmentStatus.APPROVED),
            ),
            distinct=True,
        ),
    )
    # Overdue follow-ups first, then the newest requests: five rows in all.
    top = [
        {"enrollment": en, "overdue": True}
        for en in enrollments_overdue(org, today)[:DASHBOARD_TOP]
    ]
    top += [
        {"enrollment": en, "overdue": False}
        for en in qs.filter(status=EnrollmentStatus.REQUESTED)
        .select_related("provider", "payer")
        .order_by("-requested_at", "id")[:DASHBOARD_TOP]
    ]
    block["top"] = top[:DASHBOARD_TOP]
    # The card's total is what its two partition pills add up to: the open applications.
    block["open"] = block["requested"] + block["in_progress"]
    return block


# --- payer contacts -----------------------------------------------------------------------------
def contacts_for_payer(*, org, payer) -> QuerySet[PayerContact]:
    """A payer's contacts, by name."""
    return PayerContact.objects.filter(organization=org, payer=payer).order_by("name")


def contact_get(*, org, contact_id) -> PayerContact:
    """One payer contact of the organization, or NotFound."""
    return get_or_404(
        PayerContact.objects.filter(organization=org).select_related("payer"), pk=contact_id
    )


def payers_with_contacts(*, org) -> list[Payer]:
    """Every payer of the organization with its contacts (`contact_list`), by name."""
    payers = list(Payer.objects.filter(organization=org).order_by("name"))
    contacts: dict = {}
    for c in PayerContact.objects.filter(organization=org).order_by("name"):
        contacts.setdefault(c.payer_id, []).append(c)
    for p in payers:
        p.contact_list = contacts.get(p.pk, [])
    return payers
