"""Lookup by NPI, to pre-fill a new provider (audited)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import InvalidInput
from roster.validation import npi_problem
from screening.nppes.client import NppesClient
from screening.nppes.compare import (
    credential_provider_types,
)
from screening.nppes.parse import NppesRecord, format_postal
from screening.nppes.services.common import (
    SOURCE,
    SYSTEM,
    request_summary,
    smart_title,
)

# --- lookup (pre-fill a new provider) ---------------------------------------------------------


def prefill_from(record: NppesRecord) -> dict:
    """Roster-shaped values from an NPPES record (for the new-provider form)."""
    types = credential_provider_types(record.credential)
    primary = record.primary_taxonomy
    states = [lic.state for lic in record.licenses if lic.state]
    if record.location.state:
        states.append(record.location.state)
    return {
        "npi": record.npi,
        "is_organization": record.is_organization,
        "organization_name": record.organization_name,
        "first_name": smart_title(record.first_name),
        "middle_name": smart_title(record.middle_name),
        "last_name": smart_title(record.last_name),
        "suffix": record.name_suffix,
        "credential_text": record.credential,
        "provider_type": types[0] if types else "",
        "primary_taxonomy": primary.code if primary else "",
        # The other codes, as the provider form lists them (the primary is primary_taxonomy).
        "taxonomy_codes": record.secondary_codes,
        "taxonomies": [
            {
                "code": t.code,
                "desc": t.desc,
                "primary": t.primary,
                "state": t.state,
                "license": t.license,
            }
            for t in record.taxonomies
        ],
        "address_line1": record.location.line1,
        "address_line2": record.location.line2,
        "city": smart_title(record.location.city),
        "state": record.location.state,
        "postal_code": format_postal(record.location.postal_code),
        "phone": record.location.phone,
        "practice_states": list(dict.fromkeys(states)),
        "licenses": [
            {"state": lic.state, "number": lic.number, "taxonomy": lic.taxonomy}
            for lic in record.licenses
        ],
        "nppes_status": record.status,  # not "status": that is the roster's own field
        "deactivated": record.deactivated,
        "last_updated": record.last_updated.isoformat() if record.last_updated else None,
    }


@dataclass
class Lookup:
    npi: str
    outcome: str  # found / not_found / error
    fetched_at: datetime | None
    record: NppesRecord | None = None
    error: dict = field(default_factory=dict)
    prefill: dict = field(default_factory=dict)
    http_status: int | None = None
    attempts: int = 0


def nppes_lookup(
    *, org, actor, npi: str, client: NppesClient | None = None, purpose: str = "prefill"
) -> Lookup:
    """Ask NPPES about one NPI (to pre-fill a new provider); the call is audited.

    `actor=None` is platform code (the nppes_lookup command): a system actor, and with
    `org=None` the event goes to the platform chain.
    """
    if actor is not None:
        require(actor, cap.VIEW_ROSTER)
    npi = (npi or "").strip().replace(" ", "")
    problem = npi_problem(npi)
    if problem:
        raise InvalidInput(problem, details={"npi": problem})
    own = client is None
    client = client or NppesClient()
    try:
        result = client.fetch(npi)
    finally:
        if own:
            client.close()
    with transaction.atomic():
        audit_record(
            org=org,
            actor=audit_actor(actor) if actor is not None else SYSTEM,
            action="nppes.lookup",
            target_type="npi",
            target_id=npi,
            source=SOURCE,
            data={**request_summary(npi), "purpose": purpose, "result": result.summary()},
        )
    return Lookup(
        npi=npi,
        outcome=result.outcome,
        fetched_at=result.fetched_at,
        record=result.record,
        error=result.error_detail(),
        prefill=prefill_from(result.record) if result.record else {},
        http_status=result.http_status,
        attempts=result.attempts,
    )
