"""python manage.py nppes_lookup NPI [--org SLUG] [--json]: one audited NPPES lookup."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from credex.errors import InvalidInput
from credex.models import Organization
from credex.tenancy import tenant_context


class Command(BaseCommand):
    help = "Look up one NPI in NPPES and print the normalized values (audited)."

    def add_arguments(self, parser):
        parser.add_argument("npi")
        parser.add_argument("--org", help="record the call in this organization's audit log")
        parser.add_argument("--json", action="store_true", help="print the values as JSON")

    def handle(self, *args, npi, org=None, **options):
        from screening.nppes.services import nppes_lookup

        organization = None
        if org:
            organization = Organization.objects.filter(slug=org).first()
            if organization is None:
                raise CommandError(f"No organization with slug {org!r}.")
        try:
            if organization:
                with tenant_context(organization):
                    result = nppes_lookup(org=organization, actor=None, npi=npi, purpose="command")
            else:
                result = nppes_lookup(org=None, actor=None, npi=npi, purpose="command")
        except InvalidInput as exc:
            raise CommandError(exc.message)
        if options["json"]:
            body = {"npi": result.npi, "outcome": result.outcome, "error": result.error,
                    "prefill": result.prefill}  # fmt: skip
            self.stdout.write(json.dumps(body, indent=2, default=str))
            return
        if result.outcome != "found":
            message = result.error.get("message") or "NPPES has no record of this NPI."
            raise CommandError(f"{result.outcome}: {message}")
        p = result.prefill
        name = p["organization_name"] or " ".join(
            x for x in (p["first_name"], p["middle_name"], p["last_name"]) if x
        )
        self.stdout.write(f"{p['npi']}  {name}  {p['credential_text']}")
        for t in p["taxonomies"]:
            primary = " (primary)" if t["primary"] else ""
            license_text = f"  license {t['state']} {t['license']}" if t["license"] else ""
            self.stdout.write(f"  {t['code']} {t['desc']}{primary}{license_text}")
        self.stdout.write(
            f"  {p['address_line1']}, {p['city']}, {p['state']} {p['postal_code']}"
            + ("  DEACTIVATED" if p["deactivated"] else "")
        )
