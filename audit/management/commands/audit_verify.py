"""Recompute the audit hash chains; exit non-zero naming the first broken event."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from audit import chain
from audit.selectors import verify_chain
from credex.models import Organization
from credex.tenancy import tenant_context


class Command(BaseCommand):
    help = "Verify the audit log's hash chain for one organization (--org) or all of them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--org", help="organization slug (default: every organization and the platform chain)"
        )

    def handle(self, *args, org=None, **options):
        if org:
            orgs = list(Organization.objects.filter(slug=org))
            if not orgs:
                raise CommandError(f"No organization with slug {org!r}.")
        else:
            orgs = list(Organization.objects.order_by("slug"))
        broken = False
        for organization in orgs:
            with tenant_context(organization):
                broken |= self._check(organization.slug, lambda o=organization: verify_chain(org=o))
        if not org:
            broken |= self._check("(platform)", lambda: verify_chain(org=None))
        if broken:
            raise CommandError("Audit chain verification FAILED.", returncode=1)

    def _check(self, label, run) -> bool:
        try:
            count, head = run()
        except chain.ChainBroken as exc:
            self.stderr.write(
                f"{label}: BROKEN at seq {exc.event['seq']} (event {exc.event['id']}, "
                f"{exc.event['action']} at {exc.event['created_at']}): {exc.reason}"
            )
            return True
        self.stdout.write(f"{label}: OK, {count} events, head {head}")
        return False
