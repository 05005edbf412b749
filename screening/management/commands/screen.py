"""Screen an organization (or one provider) against the active exclusion lists, now.

    manage.py screen --org riverbend
    manage.py screen --org riverbend --provider 1234567893

Prints the counts of new hits by kind.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from credex.errors import DomainError
from credex.models import Organization
from credex.tenancy import tenant_context
from roster.models import Provider
from screening.models import HitKind, RunStatus, RunTrigger
from screening.services import screening_run_now


class Command(BaseCommand):
    help = "Screen an organization's providers (or one, by NPI) against OIG LEIE and SAM."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--provider", help="screen only the provider with this NPI")

    def handle(self, *args, **options):
        org = Organization.objects.filter(slug=options["org"]).first()
        if org is None:
            raise CommandError(f"No organization with the slug {options['org']!r}.")
        with tenant_context(org):
            provider = None
            if options["provider"]:
                provider = Provider.objects.filter(npi=options["provider"]).first()
                if provider is None:
                    raise CommandError(f"No provider with NPI {options['provider']} in {org}.")
            try:
                run = screening_run_now(org=org, provider=provider, trigger=RunTrigger.COMMAND)
            except DomainError as exc:
                raise CommandError(exc.message)
        if run.status != RunStatus.DONE:
            raise CommandError(f"Screening {run.get_status_display().lower()}: {run.error}")
        versions = ", ".join(
            f"{v.get_source_display()} as of {v.as_of:%Y-%m-%d} ({v.row_count:,} records)"
            for v in (run.leie_version, run.sam_version)
            if v is not None
        )
        new = run.counts.get("new", {})
        self.stdout.write(
            f"Screened {run.providers_total:,} provider{'s' if run.providers_total != 1 else ''} "
            f"of {org.slug} against {versions} in {run.duration_ms:,} ms."
        )
        self.stdout.write("New hits by kind:")
        for kind in HitKind:
            self.stdout.write(f"  {kind.label:<32} {new.get(kind.value, 0):>6}")
        self.stdout.write(f"  {'Total':<32} {run.counts.get('new_total', 0):>6}")
        open_providers = run.counts.get("providers_with_open_hits", 0)
        self.stdout.write(
            f"Matches seen (new and already known): {run.counts.get('matches', 0):,}; providers "
            f"with a match to review or confirmed: {open_providers:,}."
        )
