"""Per-area additions to the API permission matrix (tests/test_permission_matrix.py).

Each module defines:
- BODIES: {(route name, METHOD): valid JSON body} for its write endpoints;
- READS_BY_POST: POST routes that only read (allowed, change no row);
- ids(tenant, base) -> dict: real org A ids its routes name (base = ids built so far);
- snapshot(org) -> dict: its tables' state that an API write could change.
"""

from tests.matrix_parts import (
    billing,
    coordinator,
    exchange_aftertrade,
    exchange_listings,
    exchange_membership,
    exchange_pricing,
    exchange_purchases,
    exchange_receipts,
    exchange_releases,
    extraction,
    packages,
    packets,
    queue,
    sam,
)

PARTS = [
    billing,
    coordinator,
    queue,
    packets,
    extraction,
    packages,
    sam,
    exchange_aftertrade,
    exchange_listings,
    exchange_membership,
    exchange_pricing,
    exchange_purchases,
    exchange_receipts,
    exchange_releases,
]
