"""Clinician releases: is there a current one covering this verification type? And the reads
of the releases pages, the API and the expiry inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from credex.errors import NotFound
from exchange.models import ClinicianRelease, ReleaseRequest

# A release within this many days of its expiry is "expiring" (and raises an inbox item).
EXPIRING_DAYS = 30
STATUSES = ("current", "expiring", "expired", "revoked")


def releases_current(*, org, provider, on: date | None = None):
    """The provider's releases in force on `on` (today): signed, not expired, not revoked."""
    on = on or timezone.localdate()
    return ClinicianRelease.objects.filter(
        organization=org,
        provider=provider,
        signed_on__lte=on,
        expires_on__gte=on,
        revoked_at__isnull=True,
    ).order_by("-expires_on")


def release_current(*, org, provider, source: str, on: date | None = None):
    """A release in force that covers `source` (a VerificationSource value), or None."""
    for release in releases_current(org=org, provider=provider, on=on):
        if release.covers(source):
            return release
    return None


def release_status(release: ClinicianRelease, today: date | None = None) -> str:
    """current, expiring (within EXPIRING_DAYS), expired or revoked."""
    today = today or timezone.localdate()
    if release.revoked_at:
        return "revoked"
    if release.expires_on < today:
        return "expired"
    if release.expires_on <= today + timedelta(days=EXPIRING_DAYS):
        return "expiring"
    return "current"


def _status_q(status: str, today: date) -> Q:
    soon = today + timedelta(days=EXPIRING_DAYS)
    live = Q(revoked_at__isnull=True)
    return {
        "revoked": Q(revoked_at__isnull=False),
        "expired": live & Q(expires_on__lt=today),
        "expiring": live & Q(expires_on__gte=today, expires_on__lte=soon),
        "current": live & Q(expires_on__gt=soon),
    }[status]


def release_list(
    *, org, status: str = "", provider_id=None, today: date | None = None
) -> QuerySet[ClinicianRelease]:
    """The organization's releases (optionally one status, one provider), soonest expiry first."""
    today = today or timezone.localdate()
    qs = ClinicianRelease.objects.filter(organization=org).select_related("provider")
    if status:
        qs = qs.filter(_status_q(status, today))
    if provider_id:
        qs = qs.filter(provider_id=provider_id)
    return qs.order_by("expires_on", "provider__last_name", "id")


def release_counts(*, org, provider_id=None, today: date | None = None) -> dict[str, int]:
    """How many releases each status holds (the filter's counts)."""
    from django.db.models import Count

    today = today or timezone.localdate()
    qs = ClinicianRelease.objects.filter(organization=org)
    if provider_id:
        qs = qs.filter(provider_id=provider_id)
    row = qs.aggregate(
        all=Count("id"), **{s: Count("id", filter=_status_q(s, today)) for s in STATUSES}
    )
    return row


def release_get(*, org, release_id) -> ClinicianRelease:
    """One release of the organization (another's, or none: NotFound)."""
    release = (
        ClinicianRelease.objects.filter(organization=org, pk=release_id)
        .select_related("provider", "recorded_by__user", "revoked_by__user")
        .first()
    )
    if release is None:
        raise NotFound("No such release.")
    return release


def release_requests_pending(*, org, provider_id=None) -> QuerySet[ReleaseRequest]:
    """E-signature requests not yet signed whose link still works."""
    qs = ReleaseRequest.objects.filter(
        organization=org,
        release__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("provider")
    if provider_id:
        qs = qs.filter(provider_id=provider_id)
    return qs.order_by("-created_at")


# --- the expiry inbox ----------------------------------------------------------------------
@dataclass(frozen=True)
class ReleaseDue:
    release_id: object
    provider_id: object
    due_date: date


def _covers_scope(newer: ClinicianRelease, older: ClinicianRelease) -> bool:
    if newer.scope_all:
        return True
    if older.scope_all:
        return False
    return set(older.scope_sources) <= set(newer.scope_sources)


def _renewal(release: ClinicianRelease, others: list[ClinicianRelease]):
    """The newest not-revoked release of the same provider that expires later and covers at
    least the same scope (a renewal), or None."""
    later = [
        o
        for o in others
        if o.pk != release.pk
        and o.provider_id == release.provider_id
        and o.expires_on > release.expires_on
        and _covers_scope(o, release)
    ]
    return max(later, key=lambda o: o.expires_on) if later else None


def _live_of_providers(org, provider_ids) -> list[ClinicianRelease]:
    return list(
        ClinicianRelease.objects.filter(
            organization=org, provider_id__in=provider_ids, revoked_at__isnull=True
        )
    )


def releases_due(*, org, due_by: date) -> list[ReleaseDue]:
    """Releases expiring on or before `due_by` that nothing renewed yet (not revoked, provider
    still on the active roster)."""
    from roster.models import ProviderStatus

    candidates = list(
        ClinicianRelease.objects.filter(
            organization=org,
            revoked_at__isnull=True,
            expires_on__lte=due_by,
            provider__status__in=(ProviderStatus.APPLICANT, ProviderStatus.ACTIVE),
        )
    )
    if not candidates:
        return []
    others = _live_of_providers(org, {r.provider_id for r in candidates})
    return [
        ReleaseDue(r.pk, r.provider_id, r.expires_on)
        for r in candidates
        if _renewal(r, others) is None
    ]


def releases_due_now(*, org, ids) -> list[ReleaseDue]:
    """For releases an inbox item names: the date each is due now (a renewal's expiry when one
    was recorded); revoked or deleted releases are left out (no longer applies)."""
    releases = list(
        ClinicianRelease.objects.filter(organization=org, pk__in=ids, revoked_at__isnull=True)
    )
    if not releases:
        return []
    others = _live_of_providers(org, {r.provider_id for r in releases})
    out = []
    for release in releases:
        renewal = _renewal(release, others)
        due = renewal.expires_on if renewal else release.expires_on
        out.append(ReleaseDue(release.pk, release.provider_id, due))
    return out
