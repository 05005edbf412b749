"""Celery tasks: credential packages (thin: they call verifications.services.packages).

`verifications.package.build` (TenantTask, org_id + package_id) builds one queued package.
A task that dies is marked failed by `on_failure`, outside its rolled-back transaction.
"""

from __future__ import annotations

from celery import shared_task

from credex.celery import TenantTask

__all__ = ["build_package"]


class PackageTask(TenantTask):
    abstract = True

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        org_id, package_id = kwargs.get("org_id"), kwargs.get("package_id")
        if not (org_id and package_id):
            return
        from credex.models import Organization
        from credex.tenancy import tenant_context
        from verifications.services.packages import package_fail

        org = Organization.objects.filter(pk=org_id).first()
        if org is None:
            return
        with tenant_context(org):
            package_fail(org=org, package_id=package_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(bind=True, base=PackageTask, name="verifications.package.build")
def build_package(self, *, org_id: str, package_id: str) -> dict:
    """Build one queued credential package."""
    from credex.jobs import job_row_or_retry
    from credex.models import Organization
    from verifications.models import CredentialPackage
    from verifications.services.packages import package_build

    if job_row_or_retry(self, CredentialPackage, package_id) is None:
        return {"status": "missing"}
    org = Organization.objects.get(pk=org_id)
    package = package_build(org=org, package_id=package_id)
    if package is None:
        return {"status": "missing"}
    return {"status": package.status, "pages": package.page_count}
