"""Load an OIG LEIE or SAM exclusions file (a path or an http(s) URL) as the active version.

    manage.py load_exclusions --source leie UPDATED.csv
    manage.py load_exclusions --source leie https://oig.hhs.gov/exclusions/downloadables/UPDATED.csv
    manage.py load_exclusions --source leie 2611EXCL.csv        # supplement (from the name)
    manage.py load_exclusions --source sam SAM_Exclusions_Public_Extract_V2_26305.ZIP
    manage.py load_exclusions --source sam SAM_Exclusions_Public_Extract_16202.CSV  # V1 (2016)
    manage.py load_exclusions --source sam exclusions.csv --as-of 2026-11-01  # no date in the name

Platform staff run it (the lists are global). A malformed file is rejected with the line
that is wrong, and the version in use stays active. A supplement older than the active list
is refused (its changes are in the newer list, and the list's date must not go back); one
that applies none of its rows loads with a warning.
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from screening.loaders import DatasetError, load_dataset
from screening.models import DatasetKind, Source


class Command(BaseCommand):
    help = "Load an OIG LEIE or SAM exclusions file (path or URL) and make it the active version."

    def add_arguments(self, parser):
        parser.add_argument("--source", required=True, choices=Source.values)
        parser.add_argument("path_or_url")
        parser.add_argument(
            "--kind",
            choices=DatasetKind.values,
            help="full, exclusions or reinstatements (default: from the file name)",
        )
        parser.add_argument(
            "--as-of",
            help="the list's date, YYYY-MM-DD (default: from the file name, or the "
            "download's Last-Modified; LEIE falls back to today, while a SAM file whose name "
            "carries no date is refused without it)",
        )

    def handle(self, *args, **options):
        as_of = None
        if options["as_of"]:
            try:
                as_of = date.fromisoformat(options["as_of"])
            except ValueError:
                raise CommandError("--as-of takes a date like 2026-11-01.")
        try:
            result = load_dataset(
                source=options["source"],
                origin=options["path_or_url"],
                kind=options["kind"],
                as_of=as_of,
                loaded_by="load_exclusions",
            )
        except DatasetError as exc:
            raise CommandError(f"Not loaded: {exc.message} The version in use stays active.")
        v = result.version
        if not result.created:
            self.stdout.write(f"Already loaded: {v} is the version in use; nothing changed.")
            return
        detail = f"{v.row_count:,} records"
        if v.kind != DatasetKind.FULL:
            detail += f" ({v.applied:,} of {v.file_rows:,} rows applied: {v.get_kind_display()})"
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {v.get_source_display()} as of {v.as_of:%Y-%m-%d}: {detail} in "
                f"{result.seconds:.2f} s. Version {v.pk} (sha256 {v.sha256[:12]}) is now active."
            )
        )
        if len(v.files) > 1:
            self.stdout.write(
                "Files in this version: "
                + "; ".join(
                    f"{f['filename'] or '(no name)'} as of {f['as_of']} ({f['applied']:,} rows)"
                    for f in v.files
                )
            )
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))
