"""Create the database and application role if missing, migrate as the owner, apply grants."""

from __future__ import annotations

from django.core.checks import Tags
from django.core.management.base import BaseCommand

from credex import dbsetup


class Command(BaseCommand):
    help = (
        "Run as the schema owner (DATABASE_OWNER_URL): creates the database and the "
        "non-superuser, non-BYPASSRLS application role of DATABASE_URL, migrates, grants."
    )
    # Not the database checks (the app role may not exist yet); the security ones, so that the
    # step web and worker wait for refuses a console e-mail backend (credex.E002).
    requires_system_checks = [Tags.security]

    def handle(self, *args, **options):
        dbsetup.bootstrap(verbosity=options["verbosity"])
        self.stdout.write(self.style.SUCCESS("Database ready."))
