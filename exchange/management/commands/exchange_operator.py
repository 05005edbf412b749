"""`python manage.py exchange_operator EMAIL [--password ...]`: create the platform's exchange
operator, or flag an existing user as one (User.is_exchange_operator; never a membership).
Audited on the platform chain."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from credex.errors import DomainError


class Command(BaseCommand):
    help = "Create or flag an exchange operator (platform staff)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--password", default=None, help="set (or reset) the password")

    def handle(self, *args, email, password, **options):
        from exchange.services.membership import operator_flag

        try:
            user, created = operator_flag(email=email, password=password)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        verb = "Created" if created else "Flagged"
        self.stdout.write(f"{verb} exchange operator {user.email}")
