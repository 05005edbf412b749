"""Committee reads: readiness of a provider file, the queue, the agenda, the notification
tracker and the decision history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from committee.models import CommitteeDecision, CommitteeReview
from credex.services import get_or_404
from roster.models import PROVIDER_TYPES, Credential, CredentialKind, Document, Provider
from roster.selectors.flags import provider_flags
from roster.services.requirements import provider_missing, requirements_for_type
from verifications.selectors.readiness import psv_gaps

NOTIFY_WITHIN_DAYS = 30  # NCQA: the provider hears the decision within 30 days
APPROVALS = (CommitteeDecision.APPROVED, CommitteeDecision.APPROVED_WITH_CONDITIONS)


def notify_due_date(review: CommitteeReview) -> date | None:
    """The date by which the provider must be told the decision."""
    if not review.decision_date:
        return None
    return review.decision_date + timedelta(days=NOTIFY_WITHIN_DAYS)


WAITING = "Already waiting for a committee decision."


@dataclass
class Readiness:
    """Whether a provider file can go to committee, and if not, why (one sentence each)."""

    reasons: list[str] = field(default_factory=list)  # what the file lacks
    required: list[str] = field(default_factory=list)  # kinds the provider type requires
    waiting: CommitteeReview | None = None  # a review already waiting for a decision

    @property
    def ready(self) -> bool:
        return not self.reasons and self.waiting is None

    @property
    def blocking(self) -> list[str]:
        """Everything that stops marking the file ready now."""
        return [*self.reasons, *([WAITING] if self.waiting else [])]


def provider_readiness(*, org, provider: Provider, today: date | None = None) -> Readiness:
    """Check the file against the organization's requirements for the provider's type.

    The rule is the provider file's own "what is missing" list (roster.services.requirements:
    every required credential on file, not expired, revoked or inactive, with its document
    when one is required, and a license for each practice state), plus: requirements must be
    set up for the type, the provider must not be flagged excluded, no other review may be
    waiting, and each required credential of a kind verified at a primary source must carry a
    current, verified record inside the organization's window (verifications.selectors.readiness).
    """
    today = today or timezone.localdate()
    required = requirements_for_type(org=org, provider_type=provider.provider_type)
    result = Readiness(required=[CredentialKind(k).label for k in required])
    if not required:
        type_name = PROVIDER_TYPES.get(provider.provider_type, provider.provider_type)
        result.reasons.append(
            f"No required credentials are set up for {type_name}: an admin chooses them in "
            "the organization's requirements before files of this type go to committee."
        )
    missing = provider_missing(
        provider=provider,
        required=required,
        credentials=Credential.objects.filter(organization=org, provider=provider),
        documents=Document.objects.filter(organization=org, provider=provider),
        today=today,
    )
    result.reasons.extend(m.message for m in missing)
    result.reasons.extend(
        gap.message for gap in psv_gaps(org=org, provider=provider, kinds=required, as_of=today)
    )
    if provider.excluded:
        result.reasons.append(
            "Flagged as excluded (OIG/SAM screening): resolve the exclusion before committee."
        )
    for flag in provider_flags(org=org, provider=provider, today=today):
        # the expired licence is already a missing item above; the exclusion just said
        if flag.kind == "possible_match":
            result.reasons.append(
                f"Open screening match: {flag.title.removesuffix('.')} before committee."
            )
        elif flag.kind == "npi_deactivated":
            result.reasons.append(
                f"NPI deactivated: {flag.title.removesuffix('.')}; resolve it with the "
                "provider before committee."
            )
    result.waiting = open_review_for(org=org, provider=provider)
    return result


def open_review_for(*, org, provider: Provider) -> CommitteeReview | None:
    """The provider's review still waiting for a decision, if any."""
    return (
        CommitteeReview.objects.filter(organization=org, provider=provider, decision="")
        .order_by("-ready_at")
        .first()
    )


def _file_summary_prefetch():
    return Prefetch(
        "provider__credentials",
        queryset=Credential.objects.order_by("kind", "expiry_date"),
    )


def committee_queue(*, org) -> QuerySet[CommitteeReview]:
    """Reviews marked ready and not yet decided, oldest first, with the file summarized."""
    return (
        CommitteeReview.objects.filter(organization=org, decision="")
        .select_related("provider", "ready_marked_by__user")
        .prefetch_related(_file_summary_prefetch())
        .annotate(
            document_count=Count("provider__documents", distinct=True),
        )
        .order_by("meeting_date", "ready_at")
    )


def committee_agenda(*, org, meeting_date: date) -> QuerySet[CommitteeReview]:
    """Everything scheduled for one meeting (decided items stay on it, for the minutes)."""
    return (
        CommitteeReview.objects.filter(organization=org, meeting_date=meeting_date)
        .select_related("provider", "decided_by__user")
        .prefetch_related(_file_summary_prefetch())
        .annotate(document_count=Count("provider__documents", distinct=True))
        .order_by("provider__last_name", "provider__first_name")
    )


def committee_meeting_dates(*, org, today: date | None = None) -> list[dict]:
    """Upcoming (and today's) meeting dates with how many files each has, soonest first."""
    today = today or timezone.localdate()
    return list(
        CommitteeReview.objects.filter(organization=org, meeting_date__gte=today)
        .values("meeting_date")
        .annotate(
            total=Count("id"),
            pending=Count("id", filter=Q(decision="")),
        )
        .order_by("meeting_date")
    )


def committee_notifications_pending(*, org) -> QuerySet[CommitteeReview]:
    """Decisions the provider has not been told about yet, the longest-waiting first."""
    return (
        CommitteeReview.objects.filter(organization=org, notified_at__isnull=True)
        .exclude(decision="")
        .select_related("provider", "decided_by__user")
        .order_by("decision_date", "provider__last_name")
    )


def committee_notifications_overdue(org, today: date | None = None) -> QuerySet[CommitteeReview]:
    """Decisions not notified within 30 days (for the dashboard)."""
    today = today or timezone.localdate()
    return committee_notifications_pending(org=org).filter(
        decision_date__lt=today - timedelta(days=NOTIFY_WITHIN_DAYS)
    )


def committee_recent_decisions(*, org, limit: int = 20) -> QuerySet[CommitteeReview]:
    """The latest decisions, newest first."""
    return (
        CommitteeReview.objects.filter(organization=org)
        .exclude(decision="")
        .select_related("provider", "decided_by__user")
        .order_by("-decision_date", "-ready_at")[:limit]
    )


def committee_reviews_for_provider(*, org, provider: Provider) -> QuerySet[CommitteeReview]:
    """A provider's committee history, newest first."""
    return (
        CommitteeReview.objects.filter(organization=org, provider=provider)
        .select_related("ready_marked_by__user", "decided_by__user")
        .order_by("-ready_at")
    )


REVIEW_STATES = {
    "pending": "Waiting for a decision",
    "decided": "Decided",
    "awaiting_notice": "Decided, provider not yet notified",
    "notified": "Provider notified",
}


def committee_review_list(
    *, org, state: str = "", provider_id=None, today: date | None = None
) -> QuerySet[CommitteeReview]:
    """Reviews for the API, filtered by state (see REVIEW_STATES) and provider."""
    qs = CommitteeReview.objects.filter(organization=org).select_related("provider")
    if state == "pending":
        qs = qs.filter(decision="")
    elif state == "decided":
        qs = qs.exclude(decision="")
    elif state == "awaiting_notice":
        qs = qs.exclude(decision="").filter(notified_at__isnull=True)
    elif state == "notified":
        qs = qs.filter(notified_at__isnull=False)
    if provider_id:
        qs = qs.filter(provider_id=provider_id)
    return qs


def committee_review_get(*, org, review_id) -> CommitteeReview:
    """One review of the organization, or 404."""
    return get_or_404(
        CommitteeReview.objects.filter(organization=org)
        .select_related("provider")
        .annotate(document_count=Count("provider__documents", distinct=True)),
        pk=review_id,
    )
