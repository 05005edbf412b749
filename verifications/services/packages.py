"""Credential packages: request a build (queued for the worker), build it (render, merge,
store with a checksum), record downloads. (Payer contacts are the enrollment app's.)

A build runs in the task's transaction; its progress is published in the cache so the page
can show it before the row commits (the same mechanism as screening runs).
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from audit.services import Actor, audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict
from credex.jobs import job_publish
from credex.models import Membership
from credex.writes import check_writes
from verifications.models import CredentialPackage, PackageStatus
from verifications.selectors.packages import package_content, progress_key

logger = logging.getLogger(__name__)

PROGRESS_TTL = 3600
BUILD_ACTOR = Actor.system("credential package builder")


def package_request(*, org, actor, provider) -> CredentialPackage:
    """Queue a credential package build for a provider; the worker builds it."""
    require(actor, cap.CHANGE_ROSTER)
    if provider.organization_id != org.pk:
        raise Conflict("The provider is not on this roster.")
    with transaction.atomic():
        package = CredentialPackage.objects.create(
            organization=org,
            provider=provider,
            requested_by=actor if isinstance(actor, Membership) else None,
        )
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="verifications.package.requested",
            target=package,
            data={"provider": str(provider.pk)},
        )
        package_publish(package)  # QueueUnavailable rolls the package and its audit back
    return package


def package_publish(package: CredentialPackage) -> None:
    """Publish a queued package's build (at request, and again by the job reconciler)."""
    from verifications.jobs.packages import build_package

    job_publish(build_package, org_id=str(package.organization_id), package_id=str(package.pk))


def _publish(package_id, phase: str, processed: int = 0, total: int = 0) -> None:
    cache.set(
        progress_key(package_id),
        {"phase": phase, "processed": processed, "total": total},
        PROGRESS_TTL,
    )


def package_build(*, org, package_id) -> CredentialPackage | None:
    """Build a queued package: render, merge, store with its sha256; ready or failed.

    Idempotent: a package already ready or failed is returned as it is (a re-delivered task
    builds nothing twice).
    """
    package = (
        CredentialPackage.objects.select_for_update()
        .select_related("provider")
        .filter(organization=org, pk=package_id)
        .first()
    )
    if package is None or package.status in (PackageStatus.READY, PackageStatus.FAILED):
        return package
    # Read-only for billing (credex/writes.py): the package stays queued and is built once
    # writes are restored (credex.jobs.jobs_resume).
    check_writes(org, fresh=True)
    _publish(package.pk, "collecting the provider file")
    try:
        with transaction.atomic():
            _build_into(org, package)
    except Exception as exc:
        logger.exception("package %s failed", package.pk)
        _fail(org, package, f"{type(exc).__name__}: {exc}")
    finally:
        cache.delete(progress_key(package.pk))
    return package


def _build_into(org, package: CredentialPackage) -> None:
    from verifications.packages import build_package_pdf

    content = package_content(org=org, provider=package.provider)
    built = build_package_pdf(
        content,
        package_id=package.pk,
        progress=lambda phase, n, total: _publish(package.pk, phase, n, total),
    )
    name = f"{package.pk}.pdf"
    package.file.save(name, ContentFile(built.pdf), save=False)
    try:
        package.status = PackageStatus.READY
        package.finished_at = timezone.now()
        package.size = len(built.pdf)
        package.sha256 = built.sha256
        package.page_count = built.page_count
        package.sections = built.sections
        package.missing = built.missing
        package.error = ""
        package.save()
        audit_record(
            org=org,
            actor=BUILD_ACTOR,
            action="verifications.package.built",
            target=package,
            data={
                "provider": str(package.provider_id),
                "sha256": built.sha256,
                "pages": built.page_count,
                "size": len(built.pdf),
                "missing": len(built.missing),
                "documents_excluded": len(built.excluded),
            },
        )
    except BaseException:
        package.file.delete(save=False)
        raise


def _fail(org, package: CredentialPackage, error: str) -> None:
    package.status = PackageStatus.FAILED
    package.finished_at = timezone.now()
    package.error = error[:2000]
    package.file = ""
    package.save(update_fields=["status", "finished_at", "error", "file"])
    audit_record(
        org=org,
        actor=BUILD_ACTOR,
        action="verifications.package.failed",
        target=package,
        data={"provider": str(package.provider_id), "error": package.error[:300]},
    )


def package_fail(*, org, package_id, error: str) -> None:
    """Mark a package failed after its task died (called outside the rolled-back task)."""
    package = CredentialPackage.objects.filter(
        organization=org, pk=package_id, status__in=[PackageStatus.QUEUED, PackageStatus.BUILDING]
    ).first()
    if package is not None:
        with transaction.atomic():
            _fail(org, package, error)
    cache.delete(progress_key(package_id))


def package_download(*, org, actor, package: CredentialPackage, via: str = "web"):
    """Open a ready package's file for a member or API key; the download is audited."""
    require(actor, cap.VIEW_ROSTER)
    if package.status != PackageStatus.READY or not package.file:
        raise Conflict("This package is not ready to download.")
    opened = package.file.open("rb")
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action="verifications.package.downloaded",
        target=package,
        data={"provider": str(package.provider_id), "sha256": package.sha256, "via": via},
    )
    return opened
