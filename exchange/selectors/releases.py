"""Clinician releases: is there a current one covering this verification type?"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from exchange.models import ClinicianRelease


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
