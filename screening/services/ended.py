"""Has a confirmed exclusion ended? Looked up in the active version of its list.

- LEIE: the record carries a reinstatement date (a REIN supplement was applied), or the
  record is no longer in the full file (UPDATED.csv holds current exclusions only);
- SAM: the record's termination date has passed, or the record left the extract.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from django.db import connection

from screening.loaders import TABLES, record_snapshots
from screening.models import DatasetVersion, ScreeningHit, Source


def find_ended(
    hits: list[ScreeningHit], versions: dict[str, DatasetVersion], *, today: date
) -> Iterator[tuple[ScreeningHit, date, dict, str]]:
    """(hit, ended on, record snapshot, note) for each confirmed hit whose exclusion ended."""
    by_source: dict[str, list[ScreeningHit]] = {}
    for hit in hits:
        by_source.setdefault(hit.source, []).append(hit)
    for source, group in by_source.items():
        version = versions[source]
        ended_column = "reindate" if source == Source.LEIE else "termination_date"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT ON (record_key) record_key, id, {ended_column} "
                f"FROM {TABLES[source]} WHERE version_id = %s AND record_key = ANY(%s) "
                "ORDER BY record_key, id",
                [version.pk, [h.source_record_key for h in group]],
            )
            current = {key: (row_id, ended) for key, row_id, ended in cursor.fetchall()}
        snapshots = record_snapshots(source, [row_id for row_id, _ in current.values()])
        label = "OIG LEIE" if source == Source.LEIE else "SAM.gov"
        for hit in group:
            found = current.get(hit.source_record_key)
            if found is None:
                note = (
                    f"The record is no longer on the {label} list as of "
                    f"{version.as_of:%Y-%m-%d} (dataset {version.short_id})."
                )
                yield hit, version.as_of, {**hit.record_snapshot, "_status": "not listed"}, note
                continue
            row_id, ended = found
            if ended is None or (source == Source.SAM and ended >= today):
                continue
            if source == Source.LEIE:
                note = f"{label}: reinstated {ended:%Y-%m-%d}."
            else:
                note = f"{label}: the exclusion ended {ended:%Y-%m-%d} (its termination date)."
            yield hit, ended, snapshots.get(row_id, hit.record_snapshot), note
