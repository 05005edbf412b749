"""Credential packages through a real Celery worker (real commits, the shared Redis broker):
the request commits, the worker builds the PDF, the row ends ready with its file."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from tests.conftest import own_queue_worker
from tests.factories import make_provider, pdf_bytes
from tests.test_packages import upload
from tests.waiting import wait_for
from verifications.models import PackageStatus

pytestmark = pytest.mark.external


# --- a real worker ----------------------------------------------------------------------------
def test_a_requested_package_is_built_by_a_real_worker(package_worker, committed_tenant):
    from verifications.services.packages import package_request

    tenant = committed_tenant
    provider = make_provider(tenant.org, seed=int(uuid.uuid4().int % 10_000_000))
    owner = tenant.membership(tenant.owner)
    with tenant_context(tenant.org):
        upload(tenant.org, owner, provider, "cv", pdf_bytes(3), "cv.pdf")
    with tenant_context(tenant.org):
        package = package_request(org=tenant.org, actor=owner, provider=provider)

    def finished():
        with tenant_context(tenant.org):
            package.refresh_from_db()
        return package.status in (PackageStatus.READY, PackageStatus.FAILED)

    wait_for(finished, what="the package build")
    assert package.status == PackageStatus.READY, package.error
    assert package.page_count >= 4
    with package.file.open("rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == package.sha256
    with tenant_context(tenant.org):
        built = AuditEvent.objects.get(
            action="verifications.package.built", target_id=str(package.pk)
        )
    assert built.actor_kind == "system" and built.data["pages"] == package.page_count


@pytest.fixture
def package_worker(committed_db):
    """A real worker on a queue of this test's own (the shared broker's other workers must
    not take these tasks)."""
    with own_queue_worker(concurrency=1) as queue:
        yield queue
