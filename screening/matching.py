"""The matching engine: explainable rules over an in-memory index of one dataset version.

Rules, strongest first (a record matched by several keeps the strongest kind and the union
of the fields that matched):

- ``npi``: the provider's NPI equals the record's;
- ``name_dob``: normalized first + last name equal and the dates of birth equal;
- ``business``: an organization's legal, DBA or former name (or an organization name NPPES
  lists under other names) equals the record's BUSNAME / Name as business keys ("&" read as
  AND, designators and punctuation dropped); a BUSNAME that fills LEIE's 30-character width
  may have been cut, so it also matches as the start of our name;
- ``name_state``: names equal, one side has no date of birth, and the record's state is
  one of the provider's (home or practice) states;
- ``possible``: a name-only match (no date of birth to compare and no state in common), or
  a similar name (rapidfuzz token-sort ratio >= SCREENING_FUZZY_MIN_SCORE, 90 by default)
  found within blocks of records that share the start of a last name's Soundex code (its
  letter and first two digits) and the first initial, backed by the same date of birth or
  the same state.

A date of birth on both sides that differs rules a name out (it is a different person);
an NPI match stands regardless and says so in its notes.

The index of a version is built once per process and reused by every organization's run
(`index_for`); it holds only keys and row ids. Record details are read from the database
for the few rows that matched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.utils import timezone
from rapidfuzz import fuzz, process

from screening.models import KIND_STRENGTH, DatasetVersion, HitKind, Source
from screening.normalize import (
    LEIE_BUSNAME_WIDTH,
    MIN_PREFIX_KEY,
    BusinessName,
    NameKey,
    business_prefix_key,
    soundex,
)

_STRENGTH = {kind: rank for rank, kind in enumerate(KIND_STRENGTH)}


def fuzzy_min_score() -> int:
    return int(getattr(settings, "SCREENING_FUZZY_MIN_SCORE", 90))


class IndexedRecord(NamedTuple):
    """A record's keys as read from the database (the index keeps these tuples)."""

    row_id: int
    record_key: str
    record_hash: str
    npi: str
    dob: date | None
    state: str
    first: str
    lasts_text: str  # last-name keys joined by "|"
    business: str
    # LEIE only: the BUSNAME as published when it fills the 30-character width (it may
    # have been cut), else "".
    cut_busname: str = ""

    @property
    def lasts(self) -> tuple[str, ...]:
        return tuple(self.lasts_text.split("|")) if self.lasts_text else ()


@dataclass
class SourceIndex:
    """Keys of one dataset version's current (not reinstated, not ended) records.

    Built once per process per version and kept lean, since it is built at full scale (a
    quarter of a million records) before the first organization is screened: the records
    stay the database's tuples.
    """

    source: str
    version_id: object
    built_on: date
    records: list = field(default_factory=list)
    by_npi: dict[str, list[int]] = field(default_factory=dict)
    by_name: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    by_business: dict[str, list[int]] = field(default_factory=dict)
    # business_prefix_key of a cut BUSNAME -> positions (matched as the start of our name)
    by_business_prefix: dict[str, list[int]] = field(default_factory=dict)
    # block key -> (record positions, the name's two tokens sorted, for the fuzzy scorer)
    blocks: dict[str, tuple[list[int], list[str]]] = field(default_factory=dict)

    def add_all(self, rows) -> None:
        records = self.records
        by_npi, by_name, by_business, blocks = (
            self.by_npi,
            self.by_name,
            self.by_business,
            self.blocks,
        )
        for row in rows:
            position = len(records)
            records.append(row)
            npi, first, lasts_text, business = row[3], row[6], row[7], row[8]
            lasts = lasts_text.split("|") if lasts_text else ()
            if npi and npi.strip("0"):  # 0000000000 is "no NPI": it never matches
                by_npi.setdefault(npi, []).append(position)
            if business:
                by_business.setdefault(business, []).append(position)
                if row[9]:
                    prefix = business_prefix_key(row[9])
                    if len(prefix) >= MIN_PREFIX_KEY:
                        self.by_business_prefix.setdefault(prefix, []).append(position)
            if not (first and lasts):
                continue
            initial = first[0]
            for last in lasts:
                by_name.setdefault((last, first), []).append(position)
                # Tokens in sorted order, so the plain ratio is the token-sort ratio.
                text = first + " " + last if first <= last else last + " " + first
                key = soundex(last)[:3] + initial
                block = blocks.get(key)
                if block is None:
                    block = blocks[key] = ([], [])
                block[0].append(position)
                block[1].append(text)


def query_block_keys(last: str, first: str) -> tuple[str, ...]:
    """The block a name looks in (same formula as SourceIndex.add_all): the last name's
    Soundex letter and first two digits, and the first initial. Three characters of Soundex
    keep JOHNSON and JOHNSTON (J525, J523) or MCDONALD and MACDONALD together."""
    if not last or not first:
        return ()
    return (soundex(last)[:3] + first[0],)


_INDEX_SQL = {
    Source.LEIE: (
        "SELECT id, record_key, record_hash, npi, dob, state, norm_first, norm_lasts, "
        f"norm_business, CASE WHEN length(busname) >= {LEIE_BUSNAME_WIDTH} THEN busname "
        "ELSE '' END FROM screening_leierecord WHERE version_id = %s AND reindate IS NULL"
    ),
    Source.SAM: (
        "SELECT id, record_key, record_hash, npi, NULL::date, state_province, norm_first, "
        "norm_lasts, norm_business, '' FROM screening_samrecord WHERE version_id = %s "
        "AND (termination_date IS NULL OR termination_date >= %s)"
    ),
}


def build_index(version: DatasetVersion, *, today: date | None = None) -> SourceIndex:
    """Read a version's current records and index their keys."""
    today = today or timezone.localdate()
    index = SourceIndex(source=version.source, version_id=version.pk, built_on=today)
    params = [version.pk] if version.source == Source.LEIE else [version.pk, today]
    with connection.cursor() as cursor:
        cursor.execute(_INDEX_SQL[version.source], params)
        rows = cursor.fetchall()
    index.add_all(IndexedRecord._make(row) for row in rows)
    return index


_cache: dict[tuple, SourceIndex] = {}
_cache_lock = threading.Lock()


def index_for(version: DatasetVersion) -> SourceIndex:
    """The process-wide index of a version (built on first use, and again each new day)."""
    key = (version.pk, timezone.localdate())
    index = _cache.get(key)
    if index is not None:
        return index
    with _cache_lock:
        index = _cache.get(key)
        if index is None:
            index = build_index(version)
            # Keep only the newest index per source.
            for old in [k for k, v in _cache.items() if v.source == version.source]:
                del _cache[old]
            _cache[key] = index
    return index


def clear_index_cache() -> None:
    with _cache_lock:
        _cache.clear()


# --- subjects and matches --------------------------------------------------------------


@dataclass
class Subject:
    """Who is screened: a provider's keys. `dob` is called only when a name matched."""

    id: object
    npi: str
    names: list[NameKey]
    states: frozenset[str]
    dob: Callable[[], date | None] = lambda: None
    business_names: tuple[BusinessName, ...] = ()  # organizations: legal, DBA, former names

    @cached_property
    def queries(self) -> list[tuple[NameKey, str, str, tuple[str, ...]]]:
        """(name, last-name key, sorted tokens, block keys) per name variant: computed once
        and used against every list."""
        out = []
        for name in self.names:
            first = name.first
            for last in name.lasts:
                text = first + " " + last if first <= last else last + " " + first
                out.append((name, last, text, query_block_keys(last, first)))
        return out


@dataclass
class Match:
    position: int
    record: IndexedRecord
    kind: str
    score: int
    matched_fields: list[str]
    explanation: dict


def _offer(found: dict[int, Match], position, record, kind, score, fields, explanation) -> None:
    current = found.get(position)
    if current is None:
        found[position] = Match(position, record, kind, score, list(fields), dict(explanation))
        return
    for name in fields:
        if name not in current.matched_fields:
            current.matched_fields.append(name)
    if _STRENGTH[kind] < _STRENGTH[current.kind]:
        notes = current.explanation.get("notes", [])
        current.kind, current.score = kind, score
        current.explanation = {**explanation, "notes": notes + explanation.get("notes", [])}
    elif kind == current.kind and score > current.score:
        current.score = score


def _name_explanation(name: NameKey, last: str, record: IndexedRecord) -> dict:
    explanation = {"name_used": name.label}
    if last != name.last or (record.lasts and last != record.lasts[0]):
        explanation["last_name_part"] = last  # one part of a hyphenated / double name
    return explanation


def match_subject(
    index: SourceIndex, subject: Subject, *, cutoff: int | None = None
) -> list[Match]:
    """Every record of the index that matches the subject, with kind, score and fields."""
    found: dict[int, Match] = {}
    records = index.records
    if subject.npi and subject.npi.strip("0"):
        for position in index.by_npi.get(subject.npi, ()):
            _offer(found, position, records[position], HitKind.NPI, 100, ["npi"], {"notes": []})
    _business(index, subject, found)
    named: dict[int, tuple[NameKey, str]] = {}
    for name in subject.names:
        for last in name.lasts:
            for position in index.by_name.get((last, name.first), ()):
                named.setdefault(position, (name, last))
    dob_known = False
    dob = None
    if named:
        dob, dob_known = subject.dob(), True
    for position, (name, last) in named.items():
        record = records[position]
        fields = ["first_name", "last_name"]
        explanation = _name_explanation(name, last, record)
        if record.dob and dob:
            if record.dob == dob:
                _offer(
                    found, position, record, HitKind.NAME_DOB, 100, [*fields, "dob"], explanation
                )
            elif position in found:
                found[position].explanation.setdefault("notes", []).append(
                    "The name matches but the date of birth differs."
                )
            continue
        if record.state and record.state in subject.states:
            _offer(
                found, position, record, HitKind.NAME_STATE, 100, [*fields, "state"], explanation
            )
        else:
            where = "no state in common" if record.state else "the record names no state"
            explanation["notes"] = [f"Name only: no date of birth to compare and {where}."]
            _offer(found, position, record, HitKind.POSSIBLE, 100, fields, explanation)
    cutoff = fuzzy_min_score() if cutoff is None else cutoff
    _fuzzy(index, subject, found, named, dob if dob_known else None, dob_known, cutoff)
    if found:
        # Whether the dates of birth agree, for the reviewer (the values stay protected).
        dob = subject.dob()
        for match in found.values():
            if match.record.dob:
                match.explanation["dob"] = (
                    "same" if dob == match.record.dob else "different" if dob else "ours_missing"
                )
    return sorted(found.values(), key=lambda m: (_STRENGTH[m.kind], -m.score))


def _business(index: SourceIndex, subject: Subject, found: dict[int, Match]) -> None:
    """Business names: equal keys, or a name cut at LEIE's 30 characters that is the start
    of ours (compared with designators kept, since the cut may fall inside one)."""
    records = index.records
    for name in subject.business_names:
        for position in index.by_business.get(name.key, ()):
            _offer(
                found,
                position,
                records[position],
                HitKind.BUSINESS,
                100,
                ["business_name"],
                _business_explanation(name, records[position], cut=False),
            )
        if not index.by_business_prefix:
            continue
        for length in range(MIN_PREFIX_KEY, len(name.prefix) + 1):
            for position in index.by_business_prefix.get(name.prefix[:length], ()):
                if position in found and found[position].kind == HitKind.BUSINESS:
                    continue
                _offer(
                    found,
                    position,
                    records[position],
                    HitKind.BUSINESS,
                    100,
                    ["business_name"],
                    _business_explanation(name, records[position], cut=True),
                )


def _business_explanation(name: BusinessName, record: IndexedRecord, *, cut: bool) -> dict:
    theirs = record.cut_busname or ""
    notes = []
    if cut:
        notes.append(
            f"The list cuts business names at {LEIE_BUSNAME_WIDTH} characters: its "
            f"“{theirs}” is the start of our {name.label} “{name.text}”."
        )
    if name.ampersand:
        notes.append("“&” was read as “AND”, as the list spells it.")
    notes.append("Designators (INC, LLC, PC ...), punctuation and spacing are ignored.")
    explanation = {
        "name_used": name.label,
        "compared": {"ours": name.text, "theirs": theirs, "kind": "business_name"},
        "business_key": {"ours": name.prefix if cut else name.key, "theirs": record.business},
        "notes": notes,
    }
    if cut:
        explanation["prefix_match"] = True
    return explanation


def _fuzzy(index, subject, found, named, dob, dob_known, cutoff) -> None:
    """Similar names within blocks; a candidate already matched is not offered again."""
    candidates: dict[int, tuple[int, NameKey, str, str]] = {}
    blocks = index.blocks
    for name, last, query, keys in subject.queries:
        for key in keys:
            block = blocks.get(key)
            if block is None:
                continue
            positions, texts = block
            for text, score, i in process.extract(
                query, texts, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
            ):
                position = positions[i]
                if position in found or position in named:
                    continue
                score = int(round(score))
                best = candidates.get(position)
                if best is None or score > best[0]:
                    candidates[position] = (score, name, last, text)
    if not candidates:
        return
    if not dob_known:
        dob = subject.dob()
    for position, (score, name, last, text) in candidates.items():
        record = index.records[position]
        if record.dob and dob:
            if record.dob != dob:
                continue  # a different person
            fields = ["name_similar", "dob"]
        elif record.state and record.state in subject.states:
            fields = ["name_similar", "state"]
        else:
            # A similar name alone, with no date of birth or state to back it, is noise:
            # common names would flood the worklist.
            continue
        theirs = _natural(record, text)
        _offer(
            found,
            position,
            record,
            HitKind.POSSIBLE,
            score,
            fields,
            {
                "name_used": name.label,
                "compared": {"ours": f"{name.first} {last}", "theirs": theirs},
                "notes": [
                    f"The name “{name.first} {last}” is similar to “{theirs}” "
                    f"(score {score} of 100)."
                ],
            },
        )


def _natural(record: IndexedRecord, text: str) -> str:
    """The record's name as "FIRST LAST" from the sorted tokens it was compared as."""
    first = record.first
    a, _, b = text.partition(" ")
    return f"{first} {b if a == first else a}"
