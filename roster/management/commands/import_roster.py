"""Import providers and credentials from a CSV (and a documents ZIP) into one organization.

    python manage.py import_roster --org SLUG FILE.csv [--documents DOCS.zip] [--as EMAIL]

Exit 0 when every row was written; exit 1 with every row error printed (nothing written).
Runs in this process whatever the file's size (no worker needed). Without --as the import
acts as the organization's first owner, so the audit log names a person.
"""

from __future__ import annotations

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError

from credex.errors import DomainError
from credex.models import Membership, Organization, Role
from credex.tenancy import tenant_context
from roster.models import ImportStatus
from roster.services.imports import import_job_create


class Command(BaseCommand):
    help = "Import providers and their credentials from a CSV file (all rows or none)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file (UTF-8, the import template's header)")
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--documents", help="a ZIP with the files named in document_file")
        parser.add_argument("--as", dest="as_email", help="e-mail of the member the import acts as")

    def handle(self, *args, file, org, documents=None, as_email=None, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with slug {org!r}.")
        csv_upload = _upload(file)
        zip_upload = _upload(documents) if documents else None
        with tenant_context(organization):
            actor = _actor(organization, as_email)
            self.stdout.write(f"Importing {file} into {organization.slug} as {actor.user.email}.")
            try:
                job = import_job_create(
                    org=organization,
                    actor=actor,
                    csv_file=csv_upload,
                    documents_zip=zip_upload,
                    run="inline",
                )
            except DomainError as exc:
                details = "; ".join(f"{k}: {v}" for k, v in exc.details.items())
                raise CommandError(f"{exc.message} {details}".strip(), returncode=1)
        if job.status == ImportStatus.DONE:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported {job.total_rows} rows: {job.created_count} providers added, "
                    f"{job.updated_count} updated (job {job.pk})."
                )
            )
            return
        for e in job.errors:
            where = f"row {e['row']}" if e["row"] else "file"
            column = f", column {e['column']}" if e["column"] else ""
            value = f", value {e['value']!r}" if e["value"] else ""
            self.stderr.write(f"{where}{column}{value}: {e['reason']}")
        raise CommandError(
            f"Nothing was imported: {len(job.errors)} error(s) (job {job.pk}).", returncode=1
        )


def _upload(path: str) -> SimpleUploadedFile:
    p = Path(path)
    if not p.is_file():
        raise CommandError(f"No such file: {path}")
    return SimpleUploadedFile(p.name, p.read_bytes())


def _actor(org, email: str | None) -> Membership:
    members = Membership.objects.filter(organization=org).select_related("user")
    if email:
        actor = members.filter(user__email__iexact=email).first()
        if actor is None:
            raise CommandError(f"{email} is not a member of {org.slug}.")
    else:
        actor = members.filter(role=Role.OWNER).order_by("created_at").first()
        if actor is None:
            raise CommandError(f"{org.slug} has no owner; pass --as EMAIL.")
    actor.organization = org
    return actor
