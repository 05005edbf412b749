"""The hash chain: canonical form of an event and verification of a sequence of events.

Kept free of Django so an auditor can re-verify an export offline:
`python -m audit.chain export.jsonl`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

GENESIS = "0" * 64
CANONICAL_FIELDS = (
    "organization",
    "seq",
    "actor_kind",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "source",
    "data",
    "ip",
    "user_agent",
    "created_at",
)
# An exported event (the CSV's column order, the JSON Lines' keys): its id, the chained fields
# with the time right after the sequence number, and the two hashes.
_LEADING = ("organization", "seq", "created_at")
EXPORT_FIELDS = (
    "id",
    *_LEADING,
    *(name for name in CANONICAL_FIELDS if name not in _LEADING),
    "prev_hash",
    "hash",
)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(event: dict) -> str:
    """Deterministic JSON of the chained fields (sorted keys, no whitespace)."""
    body = {name: event.get(name) for name in CANONICAL_FIELDS}
    if isinstance(body["created_at"], datetime):
        body["created_at"] = iso(body["created_at"])
    if body["organization"] is not None:
        body["organization"] = str(body["organization"])
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def compute_hash(prev_hash: str, event: dict) -> str:
    return hashlib.sha256((prev_hash + canonical(event)).encode("utf-8")).hexdigest()


class ChainBroken(Exception):
    def __init__(self, event: dict, reason: str):
        self.event = event
        self.reason = reason
        super().__init__(f"event seq={event.get('seq')} id={event.get('id')}: {reason}")


def verify(
    events: Iterable[dict], *, expect_start: int = 1, prev_hash: str = GENESIS
) -> tuple[int, str]:
    """Walk events in seq order; return (count, head hash) or raise ChainBroken."""
    expected = expect_start
    count = 0
    for event in events:
        if event["seq"] != expected:
            raise ChainBroken(event, f"sequence gap: expected {expected}, found {event['seq']}")
        if event["prev_hash"] != prev_hash:
            raise ChainBroken(event, "prev_hash does not match the previous event's hash")
        if compute_hash(prev_hash, event) != event["hash"]:
            raise ChainBroken(event, "hash does not match the event's content")
        prev_hash = event["hash"]
        expected += 1
        count += 1
    return count, prev_hash


def _main(path: str) -> int:
    events, head = [], None
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if "chain_head" in row:
                head = row["chain_head"]
            else:
                events.append(row)
    try:
        count, last = verify(events)
    except ChainBroken as exc:
        print(f"BROKEN: {exc}")
        return 1
    if head and head["hash"] != last:
        print(f"BROKEN: export ends at {last} but the chain head is {head['hash']}")
        return 1
    print(f"OK: {count} events, head {last}")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1]))
