"""The bulk job: a packet for everyone due."""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.db import transaction

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import require
from credex.errors import DomainError, InvalidInput, NotFound
from credex.models import ApiKey, Membership
from credex.writes import check_writes
from verifications.services.packets.common import BULK_DUE_DAYS, BULK_TTL, _actor_audit
from verifications.services.packets.starting import packet_start


def bulk_progress_key(org_id, bulk_key: str) -> str:
    # The organization is part of the key: a job id from another organization reads nothing.
    return f"credex.packets.bulk:{org_id}:{bulk_key}"


def last_bulk_key(org_id) -> str:
    """The cache key naming the organization's latest bulk job (the packets page shows it)."""
    return f"credex.packets.bulk.last:{org_id}"


def _publish_bulk(org_id, bulk_key: str, **state) -> None:
    cache.set(bulk_progress_key(org_id, bulk_key), state, BULK_TTL)


def _actor_ref(actor) -> dict:
    if isinstance(actor, Membership):
        return {"actor_kind": "member", "actor_id": str(actor.pk)}
    if isinstance(actor, ApiKey):
        return {"actor_kind": "api_key", "actor_id": str(actor.pk)}
    raise InvalidInput("Unknown actor.")


def actor_from_ref(*, org, actor_kind: str, actor_id: str):
    """The member or API key a bulk job acts for (re-read in the worker)."""
    model = Membership if actor_kind == "member" else ApiKey
    actor = model.objects.filter(organization=org, pk=actor_id).first()
    if actor is None:
        raise NotFound("The member who started the job is no longer in the organization.")
    if isinstance(actor, Membership):
        actor.organization = org
    return actor


def packets_bulk_request(*, org, actor, days: int = BULK_DUE_DAYS) -> dict:
    """Queue one job that starts a packet for every provider due within `days` (no packet
    in progress). Returns {"job", "due"}; the progress is read with `bulk_progress`."""
    from verifications.selectors.packets import providers_due

    require(actor, cap.CHANGE_ROSTER)
    if not isinstance(days, int) or not 1 <= days <= 730:
        raise InvalidInput(
            "Choose from 1 to 730 days.", details={"days": "Choose from 1 to 730 days."}
        )
    due = providers_due(org=org, days=days).count()
    if not due:
        raise InvalidInput(
            f"No provider's re-credentialing is due within {days} days without a packet "
            "in progress.",
            details={"days": "nobody due"},
        )
    bulk_key = uuid.uuid4().hex
    with transaction.atomic():
        audit_record(
            org=org,
            actor=_actor_audit(actor),
            action="verifications.packet.bulk_requested",
            target_type="verifications.reverificationpacket",
            target_id=bulk_key,
            source="CredEx",
            data={"job": bulk_key, "days": days, "due": due},
        )
        _publish_bulk(
            org.pk, bulk_key, status="queued", processed=0, total=due, started=0, skipped=0
        )
        cache.set(last_bulk_key(org.pk), bulk_key, BULK_TTL)
        from verifications.jobs.packets import packets_bulk_start

        packets_bulk_start.enqueue_on_commit(
            org=org, bulk_key=bulk_key, days=days, **_actor_ref(actor)
        )
    return {"job": bulk_key, "due": due}


def packets_bulk_run(*, org, actor, bulk_key: str, days: int = BULK_DUE_DAYS) -> dict:
    """The bulk job's body: a packet per provider due, then one organization-wide NPPES
    refresh and one exclusion screening run that complete their check steps. Audited once
    with the counts (and once per packet). Not for a read-only organization (credex/writes.py)."""
    check_writes(org, fresh=True)
    from verifications.selectors.packets import providers_due

    providers = list(providers_due(org=org, days=days).order_by("recredentialing_due_date"))
    total = len(providers)
    started, skipped = [], []
    _publish_bulk(
        org.pk, bulk_key, status="running", processed=0, total=total, started=0, skipped=0
    )
    for position, provider in enumerate(providers, 1):
        try:
            packet = packet_start(
                org=org, actor=actor, provider=provider, bulk_key=bulk_key, run_checks=False
            )
            started.append(str(packet.pk))
        except DomainError as exc:
            skipped.append({"provider": str(provider.pk), "reason": exc.message})
        if position % 5 == 0 or position == total:
            _publish_bulk(
                org.pk,
                bulk_key,
                status="running",
                processed=position,
                total=total,
                started=len(started),
                skipped=len(skipped),
            )
    checks = _bulk_checks(org, actor) if started else {}
    with transaction.atomic():
        audit_record(
            org=org,
            actor=_actor_audit(actor),
            action="verifications.packet.bulk_completed",
            target_type="verifications.reverificationpacket",
            target_id=bulk_key,
            source="CredEx",
            data={
                "job": bulk_key,
                "days": days,
                "due": total,
                "started": len(started),
                "skipped": skipped[:50],
                **checks,
            },
        )
    state = {
        "status": "done",
        "processed": total,
        "total": total,
        "started": len(started),
        "skipped": len(skipped),
    }
    # Published when the job's transaction commits: the packets are visible by then.
    transaction.on_commit(lambda: _publish_bulk(org.pk, bulk_key, **state))
    return state


def _bulk_checks(org, actor) -> dict:
    from screening.models import RunTrigger
    from screening.nppes.services import nppes_refresh_request
    from screening.services import RunInProgress, screening_run_request

    out = {}
    try:
        with transaction.atomic():
            run = screening_run_request(org=org, actor=actor, trigger=RunTrigger.ON_DEMAND)
        out["screening_run"] = str(run.pk)
    except RunInProgress as exc:
        # The run in progress writes results (and PSV records) for every provider too.
        out["screening_run"] = exc.details.get("run", "in progress")
    with transaction.atomic():
        out["nppes_run"] = str(nppes_refresh_request(org=org, actor=actor).pk)
    return out


def bulk_job_failed(*, org_id, bulk_key: str, error: str) -> None:
    """Say on the progress bar that the job failed (its transaction rolled back)."""
    state = cache.get(bulk_progress_key(org_id, bulk_key)) or {}
    _publish_bulk(org_id, bulk_key, **{**state, "status": "failed", "error": error[:500]})
