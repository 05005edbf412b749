"""Permission-matrix part: verifications (extraction)."""

BODIES: dict = {}
READS_BY_POST: set = set()


def ids(tenant, base: dict) -> dict:
    return {}


def snapshot(org) -> dict:
    return {}
