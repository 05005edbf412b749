"""Reads of re-verification packets: the worklist, one packet with its steps, who is due,
and the bulk job's progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone

from credex.services import get_or_404
from roster.models import Provider, ProviderStatus
from verifications.models import PacketStatus, PacketStep, ReverificationPacket, StepStatus

# The "due" filter of the list: re-credentialing due within N days (overdue included).
DUE_FILTERS = {"overdue": 0, "30": 30, "90": 90, "120": 120}


def packet_list(*, org, status: str = "", due: str = "", q: str = "") -> QuerySet:
    """Packets, in progress first then newest, with their step counts; filters from the URL."""
    qs = (
        ReverificationPacket.objects.filter(organization=org)
        .select_related("provider", "started_by__user")
        .annotate(
            steps_total=Count("steps"),
            steps_done=Count("steps", filter=Q(steps__status__in=["done", "skipped"])),
            # "Needs attention" on the list: failed steps and steps whose record was a
            # discrepancy or "unable to verify".
            steps_failed=Count(
                "steps", filter=Q(steps__status__in=["failed", StepStatus.NEEDS_ATTENTION])
            ),
        )
    )
    if status in PacketStatus.values:
        qs = qs.filter(status=status)
    if due in DUE_FILTERS:
        today = timezone.localdate()
        limit = today if due == "overdue" else today + timedelta(days=DUE_FILTERS[due])
        qs = qs.filter(provider__recredentialing_due_date__lte=limit)
        if due == "overdue":
            qs = qs.filter(provider__recredentialing_due_date__lt=today)
    if q:
        qs = qs.filter(
            Q(provider__last_name__icontains=q)
            | Q(provider__first_name__icontains=q)
            | Q(provider__npi=q)
        )
    in_progress_first = Case(
        When(status=PacketStatus.IN_PROGRESS, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return qs.annotate(_order=in_progress_first).order_by("_order", "-started_at", "pk")


def packet_counts(*, org) -> dict:
    """{status: count} over the organization's packets, every status present."""
    counts = dict.fromkeys(PacketStatus.values, 0)
    rows = (
        ReverificationPacket.objects.filter(organization=org)
        .values("status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["status"]] = row["n"]
    counts["all"] = sum(counts.values())
    return counts


def packet_get(*, org, packet_id) -> ReverificationPacket:
    """One packet of the organization (404 otherwise)."""
    qs = ReverificationPacket.objects.filter(organization=org).select_related(
        "provider", "started_by__user", "upload_link"
    )
    return get_or_404(qs, pk=packet_id)


def packet_steps(*, org, packet: ReverificationPacket) -> list[PacketStep]:
    """A packet's steps in a fixed order: checks, verifications, documents."""
    order = {"nppes": 0, "oig": 1, "sam": 2, "verification": 3, "documents": 4}
    steps = PacketStep.objects.filter(organization=org, packet=packet).select_related(
        "request", "verification"
    )
    steps = sorted(steps, key=lambda s: (order.get(s.kind, 9), s.label))
    for step in steps:
        step.record_url = step_record_url(org=org, provider_id=packet.provider_id, step=step)
    return steps


def step_record_url(*, org, provider_id, step: PacketStep) -> str:
    """Where the record behind a step is read: the provider's screening history (OIG/SAM),
    NPPES panel, or PSV log on the provider file."""
    slug = {"org_slug": org.slug, "provider_id": provider_id}
    if step.kind in ("oig", "sam"):
        return reverse("screening_provider_history", kwargs=slug)
    if step.kind == "nppes":
        return reverse("nppes_provider", kwargs=slug)
    if step.kind == "verification":
        return reverse("provider_detail", kwargs=slug) + "#provider-psv"
    return reverse("provider_documents", kwargs=slug)


def provider_current_packet(*, org, provider) -> ReverificationPacket | None:
    """The provider's packet in progress, else its latest packet (None if never)."""
    qs = ReverificationPacket.objects.filter(organization=org, provider=provider)
    return qs.filter(status=PacketStatus.IN_PROGRESS).first() or qs.order_by("-started_at").first()


def providers_due(*, org, days: int) -> QuerySet[Provider]:
    """Providers (not terminated or inactive) whose re-credentialing is due within `days`
    (overdue included) and who have no packet in progress."""
    in_progress = ReverificationPacket.objects.filter(
        organization=org, provider=OuterRef("pk"), status=PacketStatus.IN_PROGRESS
    )
    limit = timezone.localdate() + timedelta(days=days)
    return (
        Provider.objects.filter(
            organization=org,
            status__in=[ProviderStatus.ACTIVE, ProviderStatus.APPLICANT],
            recredentialing_due_date__isnull=False,
            recredentialing_due_date__lte=limit,
        )
        .annotate(has_packet=Exists(in_progress))
        .filter(has_packet=False)
    )


@dataclass
class BulkProgress:
    status: str  # queued, running, done, failed, unknown
    processed: int
    total: int
    started: int
    skipped: int
    error: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def percent(self) -> int:
        return int(self.processed * 100 / self.total) if self.total else 0


def bulk_progress(*, org, bulk_key: str) -> BulkProgress:
    """The bulk job's live state (published in the cache by the job)."""
    from verifications.services.packets import bulk_progress_key

    state = cache.get(bulk_progress_key(org.pk, bulk_key)) or {}
    return BulkProgress(
        status=state.get("status", "unknown"),
        processed=state.get("processed", 0),
        total=state.get("total", 0),
        started=state.get("started", 0),
        skipped=state.get("skipped", 0),
        error=state.get("error", ""),
    )


def step_counts(steps) -> dict:
    """{status: n} of a list of steps."""
    counts = dict.fromkeys(StepStatus.values, 0)
    for step in steps:
        counts[step.status] += 1
    return counts
