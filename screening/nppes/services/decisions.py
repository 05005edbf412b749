"""Coordinators' decisions on mismatches: accept (into the roster) or dismiss.

Accepting goes through the roster's own services (provider_update with source="NPPES",
credential_create / credential_update) and records `nppes.mismatch.accepted` with source
NPPES in the same transaction: the provider's history says the value came from NPPES, when
NPPES answered, and who took it. What each field's acceptance does:
- name: first/middle/last/suffix from NPPES (NPPES's capitals softened); the old name is kept
  in former_names (exclusion screening matches former names);
- credential: the provider type the NPPES credential names (M.D. -> MD, PA-C -> PA ...);
- primary / secondary taxonomies: the codes (they must be in the NUCC set);
- practice location: the address fields, ZIP+4 written 12345-6789;
- licenses: each NPPES license the roster lacks is added as a pending state license marked
  self-reported; a lone same-state roster license with another number takes NPPES's number;
  nothing is deleted;
- status (deactivated NPI): the provider becomes inactive;
- authorized official (organizations): the new official becomes the acknowledged one (kept on
  the provider's NPPES check; the roster has no field for it), so the next refresh compares
  with them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record, audit_record_many
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, InvalidInput
from credex.models import Membership
from roster.models import Credential, CredentialKind, CredentialStatus, Provider
from roster.services import providers as roster
from screening.nppes.compare import credential_provider_types, norm_license, norm_name
from screening.nppes.models import MismatchField, MismatchStatus, NppesCheck, NppesMismatch
from screening.nppes.services.common import SOURCE, smart_title


def _locked_open(org, mismatch: NppesMismatch) -> NppesMismatch:
    row = (
        NppesMismatch.objects.select_for_update(of=("self",))
        .select_related("provider")
        .get(organization=org, pk=mismatch.pk)
    )
    if row.status != MismatchStatus.OPEN:
        raise Conflict(
            f"This difference is already {row.get_status_display().lower()}.",
            details={"status": row.status},
        )
    return row


def _decide(row: NppesMismatch, actor, status: str, note: str = "") -> None:
    row.status = status
    row.decided_by = actor if isinstance(actor, Membership) else None
    row.decided_by_label = audit_actor(actor).label
    row.decided_at = timezone.now()
    row.decision_note = (note or "")[:300]
    row.save(
        update_fields=["status", "decided_by", "decided_by_label", "decided_at", "decision_note"]
    )


def _take_name(org, actor, provider: Provider, value: dict) -> dict:
    if "organization" in value:
        raise InvalidInput(
            "NPPES lists this NPI as an organization, so there is no clinician name to take. "
            "Check the NPI, or dismiss."
        )
    changes = {}
    for ours, theirs in (
        ("first_name", "first"),
        ("middle_name", "middle"),
        ("last_name", "last"),
        ("suffix", "suffix"),
    ):
        new = value.get(theirs) or ""
        if norm_name(getattr(provider, ours)) != norm_name(new):
            changes[ours] = smart_title(new)
    if ("first_name" in changes or "last_name" in changes) and (
        provider.full_name not in provider.former_names
    ):
        changes["former_names"] = [*provider.former_names, provider.full_name]
    roster.provider_update(org=org, actor=actor, provider=provider, source=SOURCE, **changes)
    return {k: v for k, v in changes.items() if k != "former_names"}


def _take_credential(org, actor, provider: Provider, value: str) -> dict:
    known = roster.provider_types(org)
    types = [t for t in credential_provider_types(value) if t in known]
    if not types:
        raise InvalidInput(
            f"“{value}” does not name a provider type of this roster. Change the type by hand, "
            "or dismiss."
        )
    roster.provider_update(
        org=org, actor=actor, provider=provider, source=SOURCE, provider_type=types[0]
    )
    return {"provider_type": types[0]}


def _take_secondary(org, actor, provider: Provider, value: list) -> dict:
    check = NppesCheck.objects.filter(organization=org, provider=provider).first()
    nppes_primary = ""
    for t in (check.record if check else {}).get("taxonomies") or []:
        if t.get("primary"):
            nppes_primary = t.get("code", "")
            break
    keep = {provider.primary_taxonomy_id or "", nppes_primary}
    codes = [c for c in provider.taxonomy_codes if c in keep]
    codes += [c for c in value if c not in keep]
    roster.provider_update(
        org=org, actor=actor, provider=provider, source=SOURCE, taxonomy_codes=codes
    )
    return {"taxonomies": codes}


def _take_address(org, actor, provider: Provider, value: dict) -> dict:
    changes = {
        "address_line1": value.get("line1", ""),
        "address_line2": value.get("line2", ""),
        "city": smart_title(value.get("city", "")),
        "state": value.get("state", ""),
        "postal_code": value.get("zip", ""),
    }
    roster.provider_update(org=org, actor=actor, provider=provider, source=SOURCE, **changes)
    return {"line1": changes["address_line1"], "city": changes["city"], "zip": value.get("zip")}


def _take_licenses(org, actor, provider: Provider, value: list) -> dict:
    """Add each NPPES license the roster lacks; a lone same-state roster license matching
    nothing on NPPES takes NPPES's number. Nothing is deleted."""
    ours = list(
        Credential.objects.filter(
            organization=org, provider=provider, kind=CredentialKind.STATE_LICENSE
        ).order_by("created_at")
    )
    theirs = {(d["state"], norm_license(d["number"])) for d in value}
    matched = {(c.state, norm_license(c.number)) for c in ours}
    spare = defaultdict(list)
    for c in ours:
        if (c.state, norm_license(c.number)) not in theirs:
            spare[c.state].append(c)
    added, updated = [], []
    for d in value:
        if (d["state"], norm_license(d["number"])) in matched:
            continue
        if len(spare.get(d["state"], [])) == 1:
            credential = spare.pop(d["state"])[0]
            roster.credential_update(
                source=SOURCE,
                org=org,
                actor=actor,
                credential=credential,
                number=d["number"],
            )
            updated.append({"state": d["state"], "number": d["number"]})
            continue
        roster.credential_create(
            source=SOURCE,
            org=org,
            actor=actor,
            provider=provider,
            kind=CredentialKind.STATE_LICENSE,
            number=d["number"],
            state=d["state"],
            status=CredentialStatus.PENDING,
            details={"source": "NPPES (self-reported; verify with the board)"},
        )
        added.append({"state": d["state"], "number": d["number"]})
    return {"licenses_added": added, "licenses_updated": updated}


def _apply_to_roster(org, actor, row: NppesMismatch) -> dict:
    provider, value = row.provider, row.nppes_value
    match row.field:
        case MismatchField.NAME:
            return _take_name(org, actor, provider, value)
        case MismatchField.CREDENTIAL_TEXT:
            return _take_credential(org, actor, provider, value)
        case MismatchField.PRIMARY_TAXONOMY:
            roster.provider_update(
                org=org, actor=actor, provider=provider, source=SOURCE, primary_taxonomy=value
            )
            return {"primary_taxonomy": value}
        case MismatchField.SECONDARY_TAXONOMIES:
            return _take_secondary(org, actor, provider, value)
        case MismatchField.PRACTICE_ADDRESS:
            return _take_address(org, actor, provider, value)
        case MismatchField.LICENSES:
            return _take_licenses(org, actor, provider, value)
        case MismatchField.AUTHORIZED_OFFICIAL:
            NppesCheck.objects.filter(organization=org, provider=provider).update(
                authorized_official_known=value
            )
            return {"authorized_official": value}
        case MismatchField.STATUS:
            roster.provider_update(
                org=org, actor=actor, provider=provider, source=SOURCE, status="inactive"
            )
            return {"status": "inactive"}
    raise InvalidInput("This kind of difference cannot be taken over.")


def nppes_mismatch_accept(*, org, actor, mismatch: NppesMismatch) -> NppesMismatch:
    """Take NPPES's value into the roster (audited with source NPPES) and close the item."""
    require(actor, cap.CHANGE_ROSTER)
    with transaction.atomic():
        row = _locked_open(org, mismatch)
        check = NppesCheck.objects.filter(organization=org, provider=row.provider).first()
        applied = _apply_to_roster(org, actor, row)
        _decide(row, actor, MismatchStatus.ACCEPTED)
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="nppes.mismatch.accepted",
            target=row,
            source=SOURCE,
            data={
                "provider": str(row.provider_id),
                "field": row.field,
                "nppes_value": row.nppes_value,
                "previous_value": row.our_value,
                "applied": applied,
                "nppes_answered_at": check.record_fetched_at if check else None,
            },
        )
    return row


def nppes_mismatches_dismiss(
    *, org, actor, mismatches: Iterable[NppesMismatch], note: str = ""
) -> list[NppesMismatch]:
    """Dismiss the open ones among `mismatches`; each stays dismissed until NPPES changes
    that field again. Items no longer open are left as they are."""
    require(actor, cap.CHANGE_ROSTER)
    ids = [m.pk for m in mismatches]
    with transaction.atomic():
        rows = list(
            NppesMismatch.objects.select_for_update()
            .filter(organization=org, pk__in=ids, status=MismatchStatus.OPEN)
            .order_by("pk")
        )
        for row in rows:
            _decide(row, actor, MismatchStatus.DISMISSED, note)
        audit_record_many(
            org=org,
            actor=audit_actor(actor),
            events=[
                {
                    "action": "nppes.mismatch.dismissed",
                    "target": row,
                    "source": SOURCE,
                    "data": {
                        "provider": str(row.provider_id),
                        "field": row.field,
                        "nppes_value": row.nppes_value,
                        "note": row.decision_note,
                        "bulk": len(rows) > 1,
                    },
                }
                for row in rows
            ],
        )
    return rows


def nppes_mismatch_dismiss(*, org, actor, mismatch: NppesMismatch, note: str = "") -> NppesMismatch:
    """Dismiss one open item (409 when it is no longer open)."""
    require(actor, cap.CHANGE_ROSTER)
    with transaction.atomic():
        _locked_open(org, mismatch)
        (row,) = nppes_mismatches_dismiss(org=org, actor=actor, mismatches=[mismatch], note=note)
    return row
