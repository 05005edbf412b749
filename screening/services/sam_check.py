"""Check one provider against SAM.gov now, through the Exclusions API v4 (not the extract).

`sam_check_provider` asks the API by NPI (when the provider has one) and by name (first and
last, individuals), judges what comes back, and records the answer the way the screening
records its checks: one immutable PSV `Verification` (source SAM, method API) — verified when
nothing matches, a discrepancy when an exclusion in force matches the NPI or the name,
"unable to verify" when the name search had more records than we read — plus a
`screening.sam.api_checked` audit event with the request and result summary, in one
transaction. When the API fails (not configured, rate limit, HTTP error, timeout, unreadable
answer) nothing is recorded as a verification: the failed call is audited and the caller
gets a clear error (409 / 502 / 503, never a 500).

A match here is not a screening hit: hits belong to a loaded list version. The verification
says "possible match on SAM.gov, review it", with the records' details in its data; the
next screening run against the SAM extract raises the hit for review as usual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, DomainError, NotFound
from roster.validation import npi_problem
from screening import hooks as screening_hooks
from screening.normalize import first_name_key, last_name_keys
from screening.sam_api import SamApiClient, SamApiError, SamExclusion, SamSearch, safe_params

VIA = "sam_api_v4"
SOURCE_NAME = "SAM.gov exclusions (API v4)"
# Characters the API refuses in parameter values (open.gsa.gov), and quotes / slashes.
_UNSAFE = re.compile(r"[&|{}^\\\"/]")


class SamNotConfigured(Conflict):
    code = "sam_api_not_configured"


class SamUnavailable(DomainError):
    """SAM.gov did not give a usable answer (HTTP error, timeout, unreadable)."""

    code = "sam_unavailable"
    status = 502


class SamRateLimited(DomainError):
    code = "sam_rate_limited"
    status = 503


@dataclass
class SamMatch:
    record: SamExclusion
    matched_by: list[str]  # "npi", "name"
    in_force: bool

    def as_json(self) -> dict:
        return {**self.record.as_json(), "matched_by": self.matched_by, "in_force": self.in_force}


@dataclass
class SamCheck:
    outcome: str  # clean / hit / incomplete
    checked_at: datetime
    searches: list[SamSearch] = field(default_factory=list)
    matches: list[SamMatch] = field(default_factory=list)
    verification: object | None = None

    @property
    def in_force(self) -> list[SamMatch]:
        return [m for m in self.matches if m.in_force]


def _queries(provider) -> list[tuple[str, dict]]:
    queries = []
    npi = (provider.npi or "").strip()
    if npi and not npi_problem(npi):
        queries.append(("npi", {"npi": npi}))
    first = _UNSAFE.sub(" ", provider.first_name or "").strip()
    last = _UNSAFE.sub(" ", provider.last_name or "").strip()
    if first and last:
        queries.append(
            ("name", {"exclusionName": f"{first} {last}", "classification": "Individual"})
        )
    return queries


def _judge(provider, searches: dict[str, SamSearch], today) -> list[SamMatch]:
    first = first_name_key(provider.first_name)
    lasts = set(last_name_keys(provider.last_name))
    found: dict[tuple, SamMatch] = {}
    for search in searches.values():
        for record in search.records:
            reasons = []
            if provider.npi and record.npi == provider.npi:
                reasons.append("npi")
            if (
                record.classification.lower() != "firm"
                and first
                and first_name_key(record.first) == first
                and lasts & set(last_name_keys(record.last))
            ):
                reasons.append("name")
            if not reasons:
                continue  # the name search returns every record holding both words
            match = found.setdefault(record.identity, SamMatch(record, [], record.is_active(today)))
            match.matched_by = sorted(set(match.matched_by) | set(reasons))
    return sorted(found.values(), key=lambda m: (not m.in_force, "npi" not in m.matched_by))


def _details(check: SamCheck, searches: dict[str, SamSearch]) -> str:
    asked = " and ".join(
        f"NPI {s.params['npi']}" if by == "npi" else f"name “{s.params['exclusionName']}”"
        for by, s in searches.items()
    )
    if check.outcome == "hit":
        n = len(check.in_force)
        return (
            f"Possible match on SAM.gov exclusions (API v4, by {asked}): {n} exclusion"
            f"{'s' if n != 1 else ''} in force. Review before relying on this provider."
        )
    if check.outcome == "incomplete":
        return (
            f"SAM.gov (API v4, by {asked}) holds more records for this name than were read; "
            "check the name on SAM.gov by hand."
        )
    ended = len(check.matches)
    tail = f" ({ended} ended exclusion{'s' if ended != 1 else ''} on record)" if ended else ""
    return f"Not excluded on SAM.gov (API v4, by {asked}){tail}."


def _result_summary(check: SamCheck) -> dict:
    return {
        "outcome": check.outcome,
        "searches": [s.summary() for s in check.searches],
        "matches": len(check.matches),
        "in_force": len(check.in_force),
    }


def sam_check_provider(*, org, actor, provider, client: SamApiClient | None = None) -> SamCheck:
    """Ask the SAM.gov Exclusions API about one provider now and record the answer."""
    require(actor, cap.CHANGE_ROSTER)
    if provider.organization_id != org.pk:
        raise NotFound("Not found.")
    own = client is None
    client = client or SamApiClient()
    queries = _queries(provider)
    try:
        if not client.configured:
            raise SamNotConfigured(
                "The SAM.gov API is not configured on this installation (SAM_API_KEY); the "
                "monthly screening against the SAM extract still runs."
            )
        if not queries:
            raise Conflict("This provider has neither an NPI nor a first and last name to ask.")
        searches: dict[str, SamSearch] = {}
        try:
            for by, params in queries:
                searches[by] = client.search(**params)
        except SamApiError as exc:
            _audit_failure(org, actor, provider, queries, exc)
            raise _domain_error(exc)
    finally:
        if own:
            client.close()
    now = timezone.now()
    check = SamCheck(outcome="clean", checked_at=now, searches=list(searches.values()))
    check.matches = _judge(provider, searches, timezone.localdate())
    if check.in_force:
        check.outcome = "hit"
    elif any(s.truncated for s in searches.values()):
        check.outcome = "incomplete"
    return _record(org, actor, provider, check, searches)


def _record(org, actor, provider, check: SamCheck, searches) -> SamCheck:
    """The PSV record (verifications answers screening.hooks.sam_api_checked) and the audit
    event naming it, in one transaction."""
    with transaction.atomic():
        answers = screening_hooks.sam_api_checked.collect(
            org=org,
            actor=actor,
            provider=provider,
            check=check,
            details=_details(check, searches),
            data={
                "via": VIA,
                "outcome": check.outcome,
                "as_of": check.checked_at.isoformat(),
                "searches": {by: s.summary() for by, s in searches.items()},
                "matches": [m.as_json() for m in check.matches],
            },
        )
        check.verification = next((a for a in answers if a is not None), None)
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="screening.sam.api_checked",
            target=provider,
            source="SAM",
            data={
                "request": [safe_params(s.params) for s in check.searches],
                "result": _result_summary(check),
                "verification": str(check.verification.pk) if check.verification else None,
            },
        )
    return check


def _audit_failure(org, actor, provider, queries, exc: SamApiError) -> None:
    with transaction.atomic():
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="screening.sam.api_checked",
            target=provider,
            source="SAM",
            data={
                "request": [safe_params(params) for _, params in queries],
                "result": {"outcome": "error", "error": exc.as_json()},
            },
        )


def _domain_error(exc: SamApiError) -> DomainError:
    details = {"kind": exc.kind, "http_status": exc.http_status}
    if exc.kind == "rate_limited":
        if exc.retry_after is not None:
            details["retry_after_seconds"] = exc.retry_after
        return SamRateLimited(exc.message, details=details)
    if exc.kind == "not_configured":
        return SamNotConfigured(exc.message, details=details)
    return SamUnavailable(exc.message, details=details)
