"""Demo data for the verifications area (synthetic): a PSV log from 45 to 110 days ago for
most active providers' licenses, DEA/CDS, board certifications and malpractice, with a few
discrepancies and corrections; a couple of board requests by e-mail/fax (one overdue); and
three re-verification packets in progress (started the production way).

Idempotent: does nothing when the organization already has a demo PSV log. Fast: the log is
written with two bulk inserts (originals, then corrections) and their audit events in one
batch, the same events verification_record writes one by one.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record_many
from credex import capabilities as cap
from credex.models import Membership
from roster.models import Credential, CredentialStatus, Provider, ProviderStatus
from verifications.models import (
    RequestStatus,
    Verification,
    VerificationMethod,
    VerificationRequest,
    VerificationResult,
    VerifierKind,
)
from verifications.services.packets import packet_start
from verifications.services.records import _audit_data
from verifications.sources import SOURCE_FOR_KIND, source_for

from .direct import verifications_rows_write

DEMO_REF = "demo:"
METHODS = {
    "state_board": [VerificationMethod.WEB] * 8 + [VerificationMethod.EMAIL],
    "dea": [VerificationMethod.WEB],
    "board": [VerificationMethod.WEB] * 4 + [VerificationMethod.PHONE],
    "malpractice_carrier": [
        VerificationMethod.EMAIL,
        VerificationMethod.FAX,
        VerificationMethod.WEB,
    ],
}
DISCREPANCIES = [
    "The board lists an expiry date one month earlier than the roster.",
    "Public board order (probation, 2025) shown on the license lookup.",
    "Carrier confirms coverage, but the per-claim limit is lower than on file.",
    "Registration address at the source differs from the practice address.",
]


def _members(org) -> list[Membership]:
    return list(
        Membership.objects.filter(
            organization=org, role__in=cap.roles_with(cap.CHANGE_ROSTER)
        ).select_related("user")
    )


def seed_demo_verifications(org, actor: Membership, *, seed: int = 20261122) -> dict:
    """The demo PSV log, two board requests and three packets (once per organization)."""
    if Verification.objects.filter(organization=org, reference__startswith=DEMO_REF).exists():
        return {}
    rng = random.Random(f"{seed}:{org.slug}")  # noqa: S311 - synthetic demo data
    now = timezone.now()
    members = _members(org) or [actor]
    credentials = list(
        Credential.objects.filter(
            organization=org,
            kind__in=list(SOURCE_FOR_KIND),
            status=CredentialStatus.ACTIVE,
            # Applicants too: the committee demo takes files whose every element is verified.
            provider__status__in=(ProviderStatus.ACTIVE, ProviderStatus.APPLICANT),
        ).select_related("provider")
    )
    rng.shuffle(credentials)
    cut = int(len(credentials) * 0.85)
    logged, unverified = credentials[:cut], credentials[cut:]
    with transaction.atomic():
        originals = [_record(org, c, rng, members, now) for c in logged]
        corrections = [_correction(org, v, rng, members, now) for v in originals[:4]]
        verifications_rows_write(verifications=originals, corrections=corrections)
        _audit(org, originals, corrections)
        requests = _board_requests(org, unverified, members, now)
    packets = _packets(org, actor, rng)
    return {
        "verifications": len(originals),
        "corrections": len(corrections),
        "requests": requests,
        "packets": packets,
    }


def _record(org, credential: Credential, rng, members, now) -> Verification:
    source = SOURCE_FOR_KIND[credential.kind]
    member = rng.choice(members)
    # 45-110 days ago: inside the 120-day window today, and before the demo committee's
    # decisions (the oldest is 41 days ago), so those approvals rest on current verifications.
    days_ago = rng.randint(45, 110)
    discrepancy = rng.random() < 0.04
    state = credential.state if source == "state_board" else ""
    method = rng.choice(METHODS.get(source, [VerificationMethod.WEB]))
    return Verification(
        id=uuid.uuid4(),
        organization_id=org.pk,
        provider_id=credential.provider_id,
        credential=credential,
        source=source,
        source_state=state,
        source_name=source_for(credential)["source_name"],
        method=method,
        result=VerificationResult.DISCREPANCY if discrepancy else VerificationResult.VERIFIED,
        verifier_kind=VerifierKind.MEMBER,
        verifier_user=member.user,
        verifier_label=member.user.email,
        verified_at=now - timedelta(days=days_ago, minutes=rng.randint(0, 600)),
        details=rng.choice(DISCREPANCIES)
        if discrepancy
        else "Active and in good standing at the source; no public actions.",
        reference=f"{DEMO_REF}{rng.randint(100000, 999999)}",
        data={"status": "active", "expiry_date": str(credential.expiry_date or "")},
        created_at=now - timedelta(days=days_ago),
    )


def _correction(org, old: Verification, rng, members, now) -> Verification:
    member = rng.choice(members)
    return Verification(
        id=uuid.uuid4(),
        organization_id=org.pk,
        provider_id=old.provider_id,
        credential_id=old.credential_id,
        source=old.source,
        source_state=old.source_state,
        source_name=old.source_name,
        method=old.method,
        result=old.result,
        verifier_kind=VerifierKind.MEMBER,
        verifier_user=member.user,
        verifier_label=member.user.email,
        verified_at=old.verified_at + timedelta(days=1),
        details=old.details,
        reference=old.reference,
        data=old.data,
        supersedes=old,
        correction_reason="The verification date was entered a day early; corrected from "
        "the saved source page.",
        created_at=min(now, old.created_at + timedelta(days=2)),
    )


def _audit(org, originals, corrections) -> None:
    users = {}
    events = []
    for v in [*originals, *corrections]:
        user = users.setdefault(v.verifier_user_id, v.verifier_user)
        events.append(
            {
                "action": "verifications.verification.corrected"
                if v.supersedes_id
                else "verifications.verification.recorded",
                "target": v,
                "source": v.source,
                "data": {**_audit_data(v, []), "demo": True},
                "actor": audit_actor_for(user),
            }
        )
    by_actor: dict = {}
    for event in events:
        by_actor.setdefault(event.pop("actor"), []).append(event)
    for actor, batch in by_actor.items():
        audit_record_many(org=org, actor=actor, events=batch)


def audit_actor_for(user):
    from audit.services import Actor

    return Actor.member(user)


def _board_requests(org, unverified, members, now) -> int:
    """Two state boards that answer only by e-mail or fax: one awaiting a reply, one overdue."""
    licenses = [c for c in unverified if c.kind == "state_license"][:2]
    plans = [
        (VerificationMethod.EMAIL, "verifications@board.example", 12, 5),
        (VerificationMethod.FAX, "+1 555 0100 200", 24, -3),
    ]
    made = []
    for credential, (method, sent_to, asked_days_ago, due_in) in zip(licenses, plans, strict=False):
        member = members[len(made) % len(members)]
        made.append(
            VerificationRequest(
                organization=org,
                provider_id=credential.provider_id,
                credential=credential,
                source="state_board",
                source_state=credential.state,
                status=RequestStatus.REQUESTED,
                method=method,
                sent_to=sent_to,
                requested_at=now - timedelta(days=asked_days_ago),
                due_date=(now + timedelta(days=due_in)).date(),
                follow_up_count=1 if due_in < 0 else 0,
                last_follow_up_at=now - timedelta(days=4) if due_in < 0 else None,
                note="This board verifies by written request only.",
                assigned_to=member,
                created_by=member,
            )
        )
    verifications_rows_write(requests=made)
    return len(made)


def _packets(org, actor: Membership, rng) -> int:
    """Three providers due soonest get a packet, started the production way (the checks are
    not requested here: the demo's NPPES refresh and screening run complete those steps)."""
    due = list(
        Provider.objects.filter(
            organization=org,
            status=ProviderStatus.ACTIVE,
            recredentialing_due_date__isnull=False,
            reverification_packets__isnull=True,
        ).order_by("recredentialing_due_date")[:3]
    )
    for provider in due:
        packet_start(org=org, actor=actor, provider=provider, run_checks=False)
    return len(due)


DEMO_RENEWAL = "demo-renewal-"


def seed_demo_extractions(org, actor: Membership) -> int:
    """Three renewed licences "uploaded" for providers (two text PDFs, one scanned image),
    through the real upload service: their extraction runs on the worker and waits for review
    on the extraction page. Once per organization."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from roster.models import Document
    from roster.services.documents import document_upload
    from verifications.extraction.samples import render

    if Document.objects.filter(organization=org, original_name__startswith=DEMO_RENEWAL).exists():
        return 0
    licences = list(
        Credential.objects.filter(
            organization=org,
            kind="state_license",
            status=CredentialStatus.ACTIVE,
            provider__status=ProviderStatus.ACTIVE,
            expiry_date__isnull=False,
        )
        .exclude(number="")
        .select_related("provider")
        .order_by("expiry_date")[:3]
    )
    for index, licence in enumerate(licences):
        provider = licence.provider
        issued = min(timezone.localdate(), licence.expiry_date - timedelta(days=30))
        renewed = licence.expiry_date.replace(year=licence.expiry_date.year + 2)
        rows = [
            ("title", source_for(licence)["source_name"].upper() or "STATE LICENSING BOARD"),
            ("text", "This is to certify that the person named below is licensed to practice."),
            ("stack", "Licensee", f"{provider.first_name} {provider.last_name}"),
            ("pairs", [("License Number", licence.number), ("State", licence.state)]),
            (
                "pairs",
                [
                    ("Issue Date", issued.strftime("%m/%d/%Y")),
                    ("Expiration Date", renewed.strftime("%m/%d/%Y")),
                ],
            ),
        ]
        medium = "image" if index == 2 else "text_pdf"
        try:
            data, content_type = render(rows, medium, random.Random(index))  # noqa: S311
        except OSError:  # no DejaVu fonts on this machine to draw the "scan": a text PDF then
            data, content_type = render(rows, "text_pdf", random.Random(index))  # noqa: S311
        suffix = (
            "png" if content_type == "image/png" else "jpg" if "jpeg" in content_type else "pdf"
        )
        document_upload(
            org=org,
            actor=actor,
            provider=provider,
            kind="license",
            credential=licence,
            file=SimpleUploadedFile(f"{DEMO_RENEWAL}{index}.{suffix}", data, content_type),
        )
    return len(licences)


def seed_demo_payer_contacts(org, actor: Membership) -> int:
    """One credentialing contact per demo payer (synthetic addresses), once."""
    from django.utils.text import slugify

    from enrollment.models import PayerContact
    from enrollment.selectors import payers_with_contacts
    from enrollment.services import payer_contact_add

    created = 0
    for payer in payers_with_contacts(org=org):
        domain = slugify(payer.name)[:40] or "payer"
        email = f"credentialing@{domain}.example"
        if PayerContact.objects.filter(organization=org, payer=payer, email=email).exists():
            continue
        payer_contact_add(
            org=org,
            actor=actor,
            payer=payer,
            name="Provider network credentialing",
            email=email,
            title="Credentialing desk",
        )
        created += 1
    return created
