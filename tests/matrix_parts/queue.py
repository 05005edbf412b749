"""Permission-matrix part: verifications (queue)."""

BODIES: dict = {}
READS_BY_POST: set = set()


def ids(tenant, base: dict) -> dict:
    return {}


def snapshot(org) -> dict:
    return {}
