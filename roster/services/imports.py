"""CSV bulk import jobs: create a job from an upload, run it (inline or in a worker), read it.

A job runs all-or-nothing: `roster.importer` checks every row first; only a clean file is
written, in one transaction. Small files run inline; larger ones (more lines than
settings.IMPORT_INLINE_MAX_ROWS, default 500) go to the `roster.import.run` Celery task,
which reports progress on the job row as it goes.

When the organization lets documents follow an import (`import_documents_can_follow`), a
missing document is not an error: after the write, in the same transaction, each becomes an
inbox item and each provider with an e-mail address gets one upload link (`_request_documents`).
"""

from __future__ import annotations

import csv
import io
import zipfile
from contextlib import contextmanager
from datetime import timedelta
from time import monotonic

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.utils import timezone

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.csvsafe import safe_row
from credex.errors import InvalidInput, NotFound
from credex.jobs import QueueUnavailable, job_publish
from credex.models import ApiKey, Membership
from credex.writes import check_writes
from roster import hooks as roster_hooks
from roster import importer
from roster.models import ImportJob, ImportStatus

ERROR_CSV_COLUMNS = ["row", "column", "value", "reason"]
RUNNING = (ImportStatus.QUEUED, ImportStatus.VALIDATING, ImportStatus.IMPORTING)


def inline_max_rows() -> int:
    return int(getattr(settings, "IMPORT_INLINE_MAX_ROWS", 500))


def max_upload_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 50 * 1024 * 1024))


def max_zip_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_ZIP_BYTES", 500 * 1024 * 1024))


# --- reads ----------------------------------------------------------------------------------


def import_job_list(*, org):
    """The organization's import jobs, newest first."""
    return ImportJob.objects.filter(organization=org).select_related("created_by__user")


def import_job_get(*, org, job_id) -> ImportJob:
    """One job of the organization; NotFound (404) for anything else."""
    job = import_job_list(org=org).filter(pk=job_id).first()
    if job is None:
        raise NotFound("No such import.")
    return job


def import_errors_csv(*, org, actor, job: ImportJob) -> str:
    """The job's errors as CSV (every cell neutralized against formulas); audited download."""
    require(actor, cap.VIEW_ROSTER)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(ERROR_CSV_COLUMNS)
    for e in job.errors:
        writer.writerow(
            safe_row(e.get(c, "") if e.get(c) is not None else "" for c in ERROR_CSV_COLUMNS)
        )
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action="roster.import.errors_downloaded",
        target=job,
        data={"errors": len(job.errors)},
    )
    return buffer.getvalue()


# --- writes ---------------------------------------------------------------------------------


def _count_lines(raw: bytes) -> int:
    lines = raw.count(b"\n")
    return lines + (0 if raw.endswith(b"\n") else 1) - 1  # minus the header


def import_job_create(
    *,
    org,
    actor,
    csv_file,
    documents_zip=None,
    run: str = "auto",
) -> ImportJob:
    """Take an upload: store it, then run it inline or queue it (run = auto/inline/queue)."""
    require(actor, cap.CHANGE_ROSTER)
    check_writes(org)  # read-only for billing: nothing is stored (credex/writes.py)
    errors = {}
    if csv_file is None:
        errors["file"] = "Choose the CSV file to import."
    elif csv_file.size > max_upload_bytes():
        errors["file"] = f"The CSV is larger than {max_upload_bytes() // 2**20} MB; split it."
    elif not csv_file.size:
        errors["file"] = "The CSV file is empty."
    if documents_zip is not None:
        if documents_zip.size > max_zip_bytes():
            errors["documents"] = f"The ZIP is larger than {max_zip_bytes() // 2**20} MB."
        else:
            problem = _archive_problem(documents_zip)
            if problem:
                errors["documents"] = problem
    if errors:
        raise InvalidInput("The upload needs attention.", details=errors)
    raw = csv_file.read()
    estimate = max(_count_lines(raw), 0)
    with transaction.atomic():
        job = ImportJob(
            organization=org,
            created_by=actor if isinstance(actor, Membership) else None,
            started_by_key=actor.pk if isinstance(actor, ApiKey) else None,
            original_name=(getattr(csv_file, "name", "") or "import.csv")[-255:],
            total_rows=estimate,
        )
        job.file.save("roster.csv", ContentFile(raw), save=False)
        if documents_zip is not None:
            documents_zip.seek(0)
            job.documents_zip.save("documents.zip", documents_zip, save=False)
        job.save(force_insert=True)
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.import.started",
            target=job,
            data={
                "file": job.original_name,
                "documents": getattr(documents_zip, "name", "") if documents_zip else "",
                "rows": estimate,
            },
        )
        queue = run == "queue" or (run == "auto" and estimate > inline_max_rows())
        if queue:
            try:
                import_job_publish(job)  # QueueUnavailable rolls the job back
            except QueueUnavailable:
                job.file.delete(save=False)
                if job.documents_zip:
                    job.documents_zip.delete(save=False)
                raise
            return job
    return import_run(org=org, actor=actor, job=job)


def import_job_publish(job: ImportJob) -> None:
    """Publish the task of a queued job (at creation, and again by the job reconciler)."""
    from roster.jobs.imports import import_run_task

    kwargs = {"org_id": str(job.organization_id), "job_id": str(job.pk)}
    if job.started_by_key:
        kwargs["api_key_id"] = str(job.started_by_key)
    job_publish(import_run_task, **kwargs)


def _archive_problem(upload) -> str:
    """Why the documents ZIP cannot be used ("" if it can), from its directory alone."""
    try:
        importer.inspect_archive(upload)
    except importer.ArchiveRefused as exc:
        return exc.message
    finally:
        upload.seek(0)
    return ""


def import_run(*, org, actor, job: ImportJob, report_progress: bool = False) -> ImportJob:
    """Check every row; write everything or nothing. The job records the outcome.

    A job queued before its organization became read-only (credex/writes.py) writes nothing
    after it: WritesPaused here, or right before the write phase (a pause committed while the
    file was being checked), and the job stays open until writes are restored."""
    require(actor, cap.CHANGE_ROSTER)
    check_writes(org, fresh=True)
    progress = JobProgress(job) if report_progress else None
    try:
        return _run(org, actor, job, progress)
    finally:
        if progress:
            progress.close()


def _run(org, actor, job, progress) -> ImportJob:
    who = audit_actor(actor)
    with job.file.open("rb") as fh:
        raw = fh.read()
    with _documents(job) as documents:
        if isinstance(documents, str):
            return _reject(org, who, job, [importer.error(None, "", "", documents)], total=0)
        if progress:
            progress.update(status=ImportStatus.VALIDATING, processed=0)
        try:
            header, records = importer.read_csv(raw)
        except importer.ImportRejected as exc:
            return _reject(org, who, job, exc.errors, total=0)
        job.total_rows = len(records)
        if progress:
            progress.update(total=len(records))
        plan, errors = importer.check(
            org,
            header,
            records,
            documents,
            progress=progress.rows if progress else None,
            documents_can_follow=org.import_documents_can_follow,
        )
        check_writes(org, fresh=True)  # checking took a while: still writable?
        if errors:
            return _reject(org, who, job, errors, total=len(records))
        if progress:
            progress.update(status=ImportStatus.IMPORTING, processed=0)
        try:
            with transaction.atomic():
                result = importer.write(
                    org=org,
                    actor=actor,
                    audit_actor=who,
                    plan=plan,
                    job=job,
                    documents=documents,
                    progress=progress.rows if progress else None,
                )
                requested = _request_documents(org, actor, plan, job)
        except (IntegrityError, DatabaseError) as exc:
            return _fail(org, who, job, exc)
        except importer.ArchiveRefused as exc:
            # Checked entries are read again to be stored; one that fails now rolls back.
            return _mark_failed(org, who, job, exc.message, detail="archive")
    job.status = ImportStatus.DONE
    job.processed_rows = job.total_rows
    job.created_count = result.created
    job.updated_count = result.updated
    job.documents_requested = requested["documents_requested"]
    job.upload_links_sent = requested["upload_links"]
    job.errors = []
    job.finished_at = timezone.now()
    job.save()
    audit_record(
        org=org,
        actor=who,
        action="roster.import.completed",
        target=job,
        data={"rows": job.total_rows, **result.as_dict(), **requested},
    )
    if result.created or result.updated:
        _screen_imported(org)
        roster_hooks.provider_seats_changed.run(org=org)  # billing's seat count
    return job


def _request_documents(org, actor, plan, job) -> dict:
    """The documents a file left out (the organization lets them follow): per provider, one
    inbox item per document and one upload link e-mailed to the provider when the file or the
    roster has an address. In the import's transaction; counts for the completion event."""
    from roster.importer.format import DOCUMENT_FOR_KIND
    from roster.models import Credential, Provider
    from roster.services.documents.links import upload_link_create
    from roster.services.inbox import inbox_items_request_documents

    wanted = {p.npi: p for p in plan.providers if p.follow}
    counts = {"documents_requested": 0, "upload_links": 0}
    if not wanted:
        return counts
    providers = Provider.objects.filter(organization=org, npi__in=list(wanted))
    credentials = {}
    for c in Credential.objects.filter(organization=org, provider__npi__in=list(wanted)):
        credentials.setdefault((c.provider_id, DOCUMENT_FOR_KIND.get(c.kind, "")), c)
    due = timezone.localdate() + timedelta(days=settings.UPLOAD_LINK_MAX_AGE_DAYS)
    for provider in providers:
        kinds = list(dict.fromkeys(f.document_kind for f in wanted[provider.npi].follow))
        requests = [
            {
                "document_kind": kind,
                "credential": credentials.get((provider.pk, kind)),
                "row": next(f.row for f in wanted[provider.npi].follow if f.document_kind == kind),
            }
            for kind in kinds
        ]
        inbox_items_request_documents(
            org=org, actor=actor, provider=provider, requests=requests, due=due, job=job
        )
        counts["documents_requested"] += len(requests)
        if provider.email:
            upload_link_create(
                org=org,
                actor=actor,
                provider=provider,
                kinds=kinds,
                message=f"{org.name} added you to its roster without these documents. "
                "Please upload them here.",
            )
            counts["upload_links"] += 1
    return counts


def _screen_imported(org) -> None:
    """New hires and renamed providers from a file are screened like single edits: one
    organization run after commit (roster.hooks.roster_imported; screening's receiver leaves
    a run already in progress to finish)."""
    roster_hooks.roster_imported.run(org=org)


@contextmanager
def _documents(job):
    """The job's ZIP as a DocumentArchive, None without one, or the sentence refusing it."""
    if not job.documents_zip:
        yield None
        return
    with job.documents_zip.open("rb") as fh:
        try:
            # Checked at upload; checked again here for a job stored before that check.
            importer.inspect_archive(fh)
            zf = zipfile.ZipFile(fh)
        except importer.ArchiveRefused as exc:
            yield exc.message
            return
        with zf:
            yield importer.DocumentArchive(zf)


def _reject(org, who, job, errors, *, total) -> ImportJob:
    job.status = ImportStatus.REJECTED
    job.errors = errors
    job.total_rows = total
    job.processed_rows = total
    job.finished_at = timezone.now()
    job.save()
    audit_record(
        org=org,
        actor=who,
        action="roster.import.rejected",
        target=job,
        data={"rows": total, "errors": len(errors)},
    )
    return job


def _fail(org, who, job, exc) -> ImportJob:
    reason = (
        "Another change to the roster collided with this import (e.g. the same NPI was added "
        "meanwhile). Nothing was written; run the import again."
        if isinstance(exc, IntegrityError)
        else "The database refused the import. Nothing was written; run it again."
    )
    return _mark_failed(org, who, job, reason, detail=type(exc).__name__)


def _mark_failed(org, who, job, reason, *, detail="") -> ImportJob:
    job.status = ImportStatus.FAILED
    job.errors = [importer.error(None, "", "", reason)]
    job.finished_at = timezone.now()
    job.save()
    audit_record(
        org=org, actor=who, action="roster.import.failed", target=job, data={"error": detail}
    )
    return job


def import_job_fail(*, org, job: ImportJob, reason: str) -> ImportJob:
    """Record that a queued job could not run (its actor is gone, the worker crashed)."""
    from audit.services import Actor

    return _mark_failed(org, Actor.system("roster.import.run"), job, reason)


class JobProgress:
    """Writes a running job's progress through a connection of its own.

    The import writes in one transaction that commits at the end, so progress written in it
    would stay invisible to the page polling the job. This connection commits each update at
    once. The import's own transaction must not touch the job row until the end (it would
    hold the row lock this connection waits for); `_run` saves the job only after the last
    update.
    """

    MIN_INTERVAL = 0.25  # seconds between row-count updates

    def __init__(self, job: ImportJob):
        self.job = job
        # A second wrapper for the "default" settings, not the thread's shared connection.
        self.connection = connections.create_connection("default")
        self._last = 0.0

    def rows(self, processed: int) -> None:
        now = monotonic()
        if now - self._last >= self.MIN_INTERVAL:
            self.update(processed=processed)

    def update(self, *, status=None, processed=None, total=None) -> None:
        sets, params = [], []
        for column, value in (
            ("status", status),
            ("processed_rows", processed),
            ("total_rows", total),
        ):
            if value is not None:
                sets.append(f"{column} = %s")
                params.append(str(value) if column == "status" else value)
                setattr(self.job, column, value)
        if not sets:
            return
        self._last = monotonic()
        with self.connection.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                "SELECT set_config('app.current_org', %s, true)", [str(self.job.organization_id)]
            )
            cursor.execute(
                f"UPDATE roster_importjob SET {', '.join(sets)} "
                "WHERE id = %s AND organization_id = %s",
                [*params, self.job.pk, self.job.organization_id],
            )
            cursor.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()
