"""Permission-matrix part: the on-demand SAM.gov check of one provider.

The matrix runs without SAM_API_KEY (no test talks to the internet), so an allowed caller
gets 409 "not configured" and nothing is asked or recorded; the check itself is covered
against a loopback server in tests/test_sam_api.py. It names the roster provider (ids
`provider_id`, from the matrix's roster_ids).
"""

from __future__ import annotations

BODIES: dict = {("api_screening_provider_sam_check", "POST"): {}}
READS_BY_POST: set = set()


def ids(tenant, base: dict) -> dict:
    return {}


def snapshot(org) -> dict:
    from credex.tenancy import tenant_context
    from verifications.models import Verification

    with tenant_context(org):
        return {
            "sam_verifications": sorted(Verification.objects.filter(source="sam").values_list("id"))
        }
