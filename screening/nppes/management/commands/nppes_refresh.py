"""python manage.py nppes_refresh --org SLUG [--npi NPI]: refresh now, in this process."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from credex.models import Organization
from credex.tenancy import tenant_context


class Command(BaseCommand):
    help = "Check an organization's providers (or one, by NPI) against NPPES now; prints counts."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--npi", help="only the provider with this NPI")

    def handle(self, *args, org, npi=None, **options):
        from roster.models import Provider
        from screening.nppes.services import nppes_refresh

        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with slug {org!r}.")
        with tenant_context(organization):
            provider_ids = None
            if npi:
                provider = Provider.objects.filter(organization=organization, npi=npi).first()
                if provider is None:
                    raise CommandError(f"No provider with NPI {npi} in {org}.")
                provider_ids = [provider.pk]
            run = nppes_refresh(
                org=organization,
                provider_ids=provider_ids,
                trigger="command",
                on_progress=self._progress if options["verbosity"] > 1 else None,
            )
        c = run.counts
        if run.status != "done":
            raise CommandError(f"Refresh {run.status}: {c.get('reason', '')}")
        self.stdout.write(
            f"{c['checked']} checked in {c['seconds']} s: {c['match']} match, "
            f"{c['mismatch']} with differences, {c['deactivated']} deactivated, "
            f"{c['not_found']} not found, {c['error']} errors; "
            f"{c['mismatches_opened']} mismatches opened, {c['mismatches_resolved']} resolved."
        )

    def _progress(self, done: int, total: int) -> None:
        sys.stderr.write(f"\r{done}/{total}")
        if done == total:
            sys.stderr.write("\n")
