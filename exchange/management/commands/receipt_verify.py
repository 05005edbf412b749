"""Check an exchange receipt file: `python manage.py receipt_verify FILE.json [--org SLUG]`.

Exit 0 when it verifies, 1 when it does not, 2 when the file is no receipt (unreadable,
not JSON, too large, wrong shape). With --org, the organization that bought the record also
has the record's current content re-hashed against the receipt."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from credex.errors import InvalidInput

MAX_FILE_BYTES = 256 * 1024


def _read(path: str) -> dict:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.", returncode=2)
    if len(raw) > MAX_FILE_BYTES:
        raise CommandError(
            f"{path} is larger than {MAX_FILE_BYTES // 1024} KB: not a receipt.", returncode=2
        )
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise CommandError(f"{path} is not a JSON receipt.", returncode=2)


class Command(BaseCommand):
    help = "Verify an exchange receipt (signature, key id, and with --org the purchased record)."
    # A verifier answers about the file it was given; the project's checks are not its subject.
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="The receipt JSON (payload, signature, key_id).")
        parser.add_argument("--org", help="Slug of the organization holding the record.")

    def handle(self, *args, file, org=None, **options):
        from credex.models import Organization
        from credex.tenancy import tenant_context
        from exchange.services.receipts import receipt_verify

        document = _read(file)
        organization = None
        if org:
            organization = Organization.objects.filter(slug=org).first()
            if organization is None:
                raise CommandError(f"No organization with the slug {org!r}.", returncode=2)
        try:
            if organization is None:
                result = receipt_verify(document=document)
            else:
                with tenant_context(organization):
                    result = receipt_verify(document=document, org=organization)
        except InvalidInput as exc:
            raise CommandError(exc.message, returncode=2)
        self._print(result)
        if not result["valid"]:
            raise CommandError("The receipt does NOT verify.", returncode=1)

    def _print(self, result: dict) -> None:
        def line(label: str, ok: bool | None, text: str = "") -> None:
            mark = {True: "ok  ", False: "FAIL", None: "--  "}[ok]
            self.stdout.write(f"[{mark}] {label}{': ' + text if text else ''}")

        line("key id", None, result["key_id"])
        line("signature", result["signature_valid"])
        if result["record_checked"]:
            line("record content", result["record_matches"])
            line("record current (not superseded)", not result["record_superseded"])
        else:
            line("record", None, result.get("record_note") or "not checked (use --org)")
        for problem in result["problems"]:
            self.stdout.write(f"  - {problem}")
        if result["valid"]:
            self.stdout.write(self.style.SUCCESS("The receipt verifies."))
