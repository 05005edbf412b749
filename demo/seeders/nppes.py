"""Demo data for the NPPES screens: synthetic registry answers, no network."""

from __future__ import annotations

import time
from datetime import date

from django.utils import timezone

from credex.tenancy import tenant_context
from roster.models import Provider, TaxonomyCode
from screening.nppes.client import FetchResult
from screening.nppes.models import NppesCheck
from screening.nppes.parse import parse_answer
from screening.nppes.services.refresh import nppes_refresh, state_licenses

DEMO_TWEAKS = ["name", "taxonomy", "address", "license", "deactivated", "credential"]
CREDENTIAL_TEXT = {"MD": "M.D.", "DO": "D.O.", "NP": "APRN, FNP-C", "PA": "PA-C"}


def _taxonomies(provider: Provider, held: list) -> list[dict]:
    primary = provider.primary_taxonomy_id or "207R00000X"
    codes = [primary, *[c for c in provider.taxonomy_codes if c != primary]]
    names = dict(TaxonomyCode.objects.filter(code__in=codes).values_list("code", "classification"))
    return [
        {
            "code": code,
            "desc": names.get(code, ""),
            "primary": i == 0,
            "state": held[0][0] if held else "",
            "license": held[0][1] if held else "",
        }
        for i, code in enumerate(codes)
    ]


def _tweak(provider: Provider, tweak: str, basic: dict, address: dict, taxonomies: list):
    state = provider.state or (provider.practice_states or ["NY"])[0]
    if tweak == "name":
        basic["last_name"] = f"{provider.last_name.upper()}-WHITFIELD"
    elif tweak == "taxonomy":
        taxonomies.append(
            {"code": "207RC0000X", "desc": "Cardiovascular Disease", "primary": False}
        )
    elif tweak == "address":
        zip5 = "".join(ch for ch in provider.postal_code if ch.isdigit())[:5] or "12207"
        address.update(
            address_1="2200 RIVERSIDE DR STE 310",
            address_2="",
            city=(provider.city or "Albany").upper(),
            state=state,
            postal_code=f"{zip5}4411",
        )
    elif tweak == "license":
        taxonomies.append(
            {
                "code": taxonomies[0]["code"],
                "primary": False,
                "state": "NJ" if state != "NJ" else "PA",
                "license": f"25MA0{provider.npi[-5:]}",
            }
        )
    elif tweak == "deactivated":
        basic.update(status="D", deactivation_date="2026-10-01", deactivation_reason_code="DT")
    elif tweak == "credential":
        basic["credential"] = "D.O." if provider.provider_type != "DO" else "M.D."


def synthetic_answer(provider: Provider, licenses, tweak: str = "") -> dict:
    """A registry answer (2022+ encoding) that agrees with the roster except for `tweak`."""
    held = [(s, n) for s, n in licenses if n][:1]
    basic = {
        "first_name": provider.first_name.upper(),
        "last_name": provider.last_name.upper(),
        "middle_name": provider.middle_name.upper() or None,
        "credential": CREDENTIAL_TEXT.get(provider.provider_type, provider.provider_type),
        "sex": "F" if len(provider.first_name) % 2 else "M",
        "enumeration_date": "2012-06-14",
        "last_updated": date.today().isoformat(),
        "status": "A",
        "name_suffix": provider.suffix or "--",
    }
    address = {
        "address_1": provider.address_line1.upper(),
        "address_2": provider.address_line2.upper(),
        "city": provider.city.upper(),
        "state": provider.state,
        "postal_code": "".join(ch for ch in provider.postal_code if ch.isdigit()),
    }
    taxonomies = _taxonomies(provider, held)
    _tweak(provider, tweak, basic, address, taxonomies)
    return {
        "result_count": 1,
        "results": [
            {
                "number": provider.npi,
                "enumeration_type": "NPI-1",
                "created_epoch": "1339632000000",
                "last_updated_epoch": str(int(time.time() * 1000)),
                "basic": basic,
                "addresses": [{**address, "address_purpose": "LOCATION"}],
                "taxonomies": taxonomies,
            }
        ],
    }


def _demo_result(provider: Provider, licenses, i: int, now) -> FetchResult:
    if i == len(DEMO_TWEAKS):
        return FetchResult(
            provider.npi,
            "error",
            error_kind="timeout",
            error_message="No answer within 10 s (ReadTimeout). Gave up after 4 attempts.",
            attempts=4,
            fetched_at=now,
        )
    tweak = DEMO_TWEAKS[i] if i < len(DEMO_TWEAKS) else ""
    answer = synthetic_answer(provider, licenses, tweak)
    record = parse_answer(answer, npi=provider.npi).record
    return FetchResult(
        provider.npi, "found", record=record, raw=answer, http_status=200, attempts=1,
        fetched_at=now,
    )  # fmt: skip


class _DemoClient:
    """Stands in for NppesClient in the refresh service: the synthetic answers, no network."""

    def __init__(self, results: dict[str, FetchResult]):
        self.results = results

    def fetch_many(self, npis):
        for npi in npis:
            yield self.results[npi]


def seed_demo_nppes(org) -> dict:
    """A few realistic open mismatches and one failed check for the demo roster; no network.

    Answers are synthesized from the organization's own providers (the recorded samples are
    real people and stay in tests) and go through the refresh service, as a registry's would.
    Idempotent: once checks exist, it does nothing.
    """
    with tenant_context(org):
        if NppesCheck.objects.filter(organization=org).exists():
            return {"skipped": True}
        providers = list(
            Provider.objects.filter(organization=org).exclude(npi="").order_by("last_name")[:12]
        )
        if not providers:
            return {"providers": 0}
        licenses = state_licenses(org, [p.pk for p in providers])
        now = timezone.now()
        # The credential-text change reads best on a physician (M.D. <-> D.O.).
        physicians = [p for p in providers if p.provider_type in ("MD", "DO")]
        slot = DEMO_TWEAKS.index("credential")
        if physicians and providers[slot] not in physicians:
            chosen = next((p for p in physicians if providers.index(p) > slot), physicians[0])
            i = providers.index(chosen)
            providers[slot], providers[i] = providers[i], providers[slot]
        results = {
            p.npi: _demo_result(p, licenses.get(p.pk, ()), i, now) for i, p in enumerate(providers)
        }
        run = nppes_refresh(
            org=org,
            provider_ids=[p.pk for p in providers],
            trigger="demo",
            client=_DemoClient(results),
        )
    return run.counts
