"""Which credentials are due for re-verification."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from roster.models import Credential, CredentialStatus, Provider
from verifications.services.packets.common import CREDENTIAL_SOURCES, EXPIRING_WITHIN_DAYS


def credentials_due(*, org, provider: Provider, today: date | None = None) -> list[Credential]:
    """Active credentials of the re-verified kinds with no valid verification inside the
    organization's window, or expiring within EXPIRING_WITHIN_DAYS."""
    from verifications.selectors.records import valid_verifications

    today = today or timezone.localdate()
    credentials = list(
        Credential.objects.filter(
            organization=org,
            provider=provider,
            kind__in=list(CREDENTIAL_SOURCES),
            status=CredentialStatus.ACTIVE,
        ).order_by("kind", "state", "number")
    )
    verified = set(
        valid_verifications(org=org, decision_date=today)
        .filter(provider=provider, credential__isnull=False)
        .values_list("credential_id", flat=True)
    )
    horizon = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    return [
        c
        for c in credentials
        if c.pk not in verified or (c.expiry_date is not None and c.expiry_date <= horizon)
    ]


def _credential_label(credential: Credential) -> str:
    parts = [credential.get_kind_display()]
    if credential.state:
        parts.append(credential.state)
    if credential.number:
        parts.append(credential.number)
    return " ".join(parts)[:200]
