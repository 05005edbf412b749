"""Celery task: read one uploaded document into an extraction suggestion."""

from __future__ import annotations

from celery import shared_task

from credex.celery import TenantTask

__all__ = ["extraction_run_task"]


@shared_task(bind=True, base=TenantTask, name="verifications.extraction.run")
def extraction_run_task(self, *, org_id: str, document_id: str) -> dict:
    """Acknowledged late and retried (TenantTask); a redelivery finds the suggestion the first
    delivery made and writes nothing more."""
    from credex.models import Organization
    from roster.models import Document
    from verifications.services.extraction import extraction_run

    org = Organization.objects.get(pk=org_id)
    document = Document.objects.select_related("provider").filter(pk=document_id).first()
    if document is None:  # deleted before the worker got to it
        return {"document": document_id, "status": "missing"}
    suggestion = extraction_run(org=org, document=document)
    return {"document": document_id, "suggestion": str(suggestion.pk), "status": suggestion.status}
