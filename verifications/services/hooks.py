"""Verifications' receivers of the roster's and screening's hook points (registered in
VerificationsConfig.ready()). Each runs inside the upstream caller's transaction: it writes
verifications' own rows through its services, audits there, and enqueues slow work on commit.
"""

from __future__ import annotations

from screening.services.sam_check import SOURCE_NAME, VIA
from verifications.models import (
    Verification,
    VerificationMethod,
    VerificationResult,
    VerificationSource,
)
from verifications.services import extraction, packets
from verifications.services.automatic import (
    nppes_verifications_record,
    screening_verifications_after_run,
)
from verifications.services.records import verification_record

# SamCheck.outcome -> the PSV result it records.
SAM_RESULTS = {
    "clean": VerificationResult.VERIFIED,
    "hit": VerificationResult.DISCREPANCY,
    "incomplete": VerificationResult.UNABLE,
}


def document_received(*, org, document) -> None:
    """roster.document_received: read credential fields for review, mark packet steps."""
    extraction.extraction_document_received(org=org, document=document)
    packets.packet_document_received(org=org, document=document)


def documents_imported(*, org, documents) -> None:
    """roster.documents_imported: imported licences and certificates are read like uploads
    (a suggestion per document waits for review, enqueued on commit)."""
    for document in documents:
        extraction.extraction_document_received(org=org, document=document)


def run_screened(*, org, run, versions, label, now) -> dict:
    """screening.run_screened: the run's PSV records (now, or by a job after commit)."""
    return screening_verifications_after_run(
        org=org, run=run, versions=versions, label=label, now=now
    )


def nppes_checked(*, org, run, evaluated, label, now) -> dict:
    """screening.nppes_checked: one PSV record per NPPES check of the chunk."""
    return nppes_verifications_record(org=org, run=run, evaluated=evaluated, label=label, now=now)


def sam_api_checked(*, org, actor, provider, check, details, data) -> Verification:
    """screening.sam_api_checked: the on-demand SAM.gov check as one PSV verification."""
    return verification_record(
        org=org,
        actor=actor,
        provider=provider,
        source=VerificationSource.SAM,
        method=VerificationMethod.API,
        result=SAM_RESULTS[check.outcome],
        source_name=SOURCE_NAME,
        verified_at=check.checked_at,
        details=details,
        reference="SAM.gov Exclusions API v4",
        data=data,
    )


def sam_api_check_last(*, org, provider) -> Verification | None:
    """screening.sam_api_check_last: the provider's newest SAM.gov API verification."""
    return (
        Verification.objects.filter(
            organization=org, provider=provider, source=VerificationSource.SAM, data__via=VIA
        )
        .order_by("-verified_at")
        .first()
    )


def writes_resumed(*, org, paused_at=None) -> None:
    """Writes restored (credex/org_hooks.py): the extraction of a document received shortly
    before the organization became read-only was skipped; queue it again (idempotent)."""
    extraction.extraction_resume(org=org, paused_at=paused_at)
