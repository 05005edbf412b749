"""A provider's flags: what a coordinator must see wherever the provider's name is listed.

Four kinds, strongest first:
- `excluded`: a confirmed OIG LEIE / SAM exclusion (Provider.excluded, set by screening);
- `possible_match`: screening hits not yet reviewed (an exact-NPI match says so);
- `npi_deactivated`: the last NPPES check found the NPI deactivated;
- `licence_expired`: a state licence still held whose expiry date has passed.

One selector for every list (providers, dashboard, inbox, PSV queue, enrollments, committee
queue) and the provider file's header: `provider_flags_attach` takes the providers of a page
and sets `provider.flags` on each in a fixed number of queries (two), however many rows there
are, so a list never pays a query per row. Screening sits above the roster and is never
imported here: it answers the `roster.hooks.provider_flags` hook with annotations for the one
Provider query and the flags they make (possible match, NPI deactivated).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from roster import hooks as roster_hooks
from roster.models import Credential, CredentialKind, CredentialStatus, Provider

# Licences still held: an inactive or revoked one is not an expired licence to chase.
_HELD = (CredentialStatus.ACTIVE, CredentialStatus.PENDING, CredentialStatus.EXPIRED)


@dataclass(frozen=True)
class Flag:
    kind: str  # excluded | possible_match | npi_deactivated | licence_expired
    label: str  # the badge text
    title: str  # the longer explanation (tooltip, readiness reason)
    icon: str = "warning"  # an icon name for {% icon %} (credex_ui)

    @property
    def css(self) -> str:
        return "badge-excluded" if self.kind == "excluded" else "badge-danger"


def _annotated(org, ids, sources):
    annotations = {}
    for source in sources:
        annotations.update(source.annotations)
    return (
        Provider.objects.filter(organization=org, pk__in=ids)
        .annotate(**annotations)
        .values("pk", "excluded", "excluded_at", "npi", *annotations)
    )


def _expired_licences(org, ids, today: date) -> dict:
    states = defaultdict(list)
    rows = (
        Credential.objects.filter(
            organization=org,
            provider_id__in=ids,
            kind=CredentialKind.STATE_LICENSE,
            status__in=_HELD,
            expiry_date__lt=today,
        )
        .order_by("state")
        .values_list("provider_id", "state", "expiry_date")
    )
    for provider_id, state, expiry in rows:
        states[provider_id].append((state, expiry))
    return states


def _flags(row: dict, expired: list, sources) -> list[Flag]:
    flags = []
    if row["excluded"]:
        since = f" since {row['excluded_at']:%-d %b %Y}" if row["excluded_at"] else ""
        flags.append(
            Flag(
                "excluded",
                "Excluded",
                f"Confirmed on an exclusion list (OIG LEIE / SAM){since}.",
                "no-entry",
            )
        )
    for source in sources:
        flags += source.flags(row)
    if expired:
        where = ", ".join(s for s, _ in expired if s)
        flags.append(
            Flag(
                "licence_expired",
                f"Licence expired{f' ({where})' if where else ''}",
                "; ".join(f"{s or 'State'} licence expired {e:%-d %b %Y}" for s, e in expired)
                + ".",
            )
        )
    return flags


def provider_flags_attach(*, org, providers: Iterable, today: date | None = None) -> None:
    """Set `.flags` (a list of Flag, strongest first) on every provider given (two queries)."""
    providers = [p for p in providers if p is not None]
    today = today or timezone.localdate()
    # Two queries even for an empty page (the nil UUID matches nothing): a page's query count
    # must not depend on what its rows happen to be.
    ids = {p.pk for p in providers} or {uuid.UUID(int=0)}
    sources = roster_hooks.provider_flags.collect(org=org)
    rows = {row["pk"]: row for row in _annotated(org, ids, sources)}
    expired = _expired_licences(org, ids, today)
    for provider in providers:
        row = rows.get(provider.pk)
        provider.flags = _flags(row, expired.get(provider.pk, []), sources) if row else []


def provider_flags(*, org, provider: Provider, today: date | None = None) -> list[Flag]:
    """One provider's flags (the file's header, committee readiness)."""
    provider_flags_attach(org=org, providers=[provider], today=today)
    return provider.flags
