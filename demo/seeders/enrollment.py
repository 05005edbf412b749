"""Demo payers, contracts and enrollment applications in varied states (synthetic), all
through the enrollment services (back-dated with their `on` argument)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from enrollment.models import Enrollment, EnrollmentStatus, Payer, PayerContract
from enrollment.services import (
    contract_create,
    enrollment_request,
    enrollment_transition,
    payer_create,
)
from roster.models import Provider

S = EnrollmentStatus

DEMO_PAYERS = [
    {
        "name": "Blue Horizon Health Plan",
        "payer_id": "BHHP1",
        "contact_name": "Provider Network Services",
        "contact_email": "network@bluehorizon.example",
        "contact_phone": "800-555-0140",
        "portal_url": "https://providers.bluehorizon.example",
    },
    {
        "name": "Cascade Medicare Advantage",
        "payer_id": "CMA22",
        "contact_name": "Dana Whitfield",
        "contact_email": "credentialing@cascade-ma.example",
        "contact_phone": "800-555-0177",
        "portal_url": "https://portal.cascade-ma.example",
    },
    {
        "name": "State Medicaid (Fee-for-Service)",
        "payer_id": "MCD01",
        "contact_name": "Provider Enrollment Unit",
        "contact_email": "enrollment@medicaid.example",
        "contact_phone": "800-555-0102",
        "portal_url": "https://medicaid.example/providers",
    },
    {
        "name": "Summit Commercial PPO",
        "payer_id": "SCP77",
        "contact_name": "Luis Ortega",
        "contact_email": "lortega@summitppo.example",
        "contact_phone": "800-555-0199",
        "portal_url": "",
    },
]

# (payer index, steps as (status, days ago)) per demo provider; varied on purpose so every
# worklist filter and the dashboard's overdue block have something to show.
_DEMO_PATHS = [
    (0, [(S.IN_PREPARATION, 80), (S.SUBMITTED, 75), (S.IN_FOLLOW_UP, 41)]),  # overdue
    (1, [(S.IN_PREPARATION, 20), (S.SUBMITTED, 12)]),
    (2, []),  # just requested
    (3, [(S.IN_PREPARATION, 3)]),
    (0, [(S.IN_PREPARATION, 120), (S.SUBMITTED, 100), (S.APPROVED, 30)]),
    (1, [(S.IN_PREPARATION, 90), (S.SUBMITTED, 80), (S.IN_FOLLOW_UP, 50), (S.RESUBMITTED, 45)]),
    (2, [(S.IN_PREPARATION, 70), (S.SUBMITTED, 60), (S.DENIED, 10)]),
    (3, [(S.IN_PREPARATION, 50), (S.SUBMITTED, 38)]),  # overdue by 8 days
    (0, [(S.WITHDRAWN, 5)]),
    (2, [(S.IN_PREPARATION, 25), (S.SUBMITTED, 24), (S.IN_FOLLOW_UP, 2)]),
]


def seed_demo_enrollment(org, actor) -> dict:
    """Demo payers, contracts and enrollments in varied states (idempotent: a re-run adds
    nothing once the payers exist). Needs providers on the roster; uses the first ten."""
    today = timezone.localdate()
    counts = {"payers": 0, "contracts": 0, "enrollments": 0}
    payers = []
    for spec in DEMO_PAYERS:
        payer = Payer.objects.filter(organization=org, name=spec["name"]).first()
        if payer is None:
            payer = payer_create(org=org, actor=actor, **spec)
            counts["payers"] += 1
        payers.append(payer)
    renewals = [today + timedelta(days=45), today + timedelta(days=200), None, today - timedelta(5)]
    for i, payer in enumerate(payers):
        if not PayerContract.objects.filter(organization=org, payer=payer).exists():
            renewal = renewals[i % len(renewals)]
            contract_create(
                org=org,
                actor=actor,
                payer=payer,
                effective_date=today - timedelta(days=365 + 30 * i),
                renewal_date=renewal,
                fee_schedule_ref=f"{payer.payer_id or 'FS'}-{today.year - 1}-A",
                scope_of_services="Professional services: office visits, consultations, "
                "procedures per the attached fee schedule.",
                terms_notes="Timely filing 90 days. Credentialing re-attestation every 36 months.",
            )
            counts["contracts"] += 1
    providers = list(Provider.objects.filter(organization=org).order_by("last_name")[:10])
    for provider, (payer_index, steps) in zip(providers, _DEMO_PATHS, strict=False):
        payer = payers[payer_index]
        if Enrollment.objects.filter(organization=org, provider=provider, payer=payer).exists():
            continue
        first = max((days for _, days in steps), default=2) + 5
        (enrollment,) = enrollment_request(
            org=org,
            actor=actor,
            provider=provider,
            payers=[payer],
            on=today - timedelta(days=first),
        )
        for status, days_ago in steps:
            on = today - timedelta(days=days_ago)
            enrollment_transition(
                org=org,
                actor=actor,
                enrollment=enrollment,
                to=status,
                on=on,
                effective_date=on + timedelta(days=14) if status == S.APPROVED else None,
                note="Demo data",
            )
        counts["enrollments"] += 1
    return counts
