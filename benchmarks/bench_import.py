"""CSV import speed: 10,000 valid rows, then 10,000 rows with one bad row, against a baseline.

Targets (issue 5): 10,000 valid rows written in under 10 s; 10,000 rows with one bad row
rejected, with nothing written, in under 5 s. The baseline is the per-row service path
(provider_create + credential_create for each row, one audit event each), measured on a
500-row slice in the same run and extrapolated to 10,000 rows.

Runs in a scratch database it creates and drops. Prints figures; asserts only that the bad
file wrote nothing and that the clean file wrote everything.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credex.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connections  # noqa: E402

from credex import dbsetup  # noqa: E402

ROWS = 10_000
BASELINE_SLICE = 500


def use_scratch_database() -> str:
    name = f"bench_import_{os.getpid()}"
    for alias in ("default", "owner"):
        settings.DATABASES[alias]["NAME"] = name
        connections[alias].settings_dict["NAME"] = name
    dbsetup.bootstrap(drop_first=True, verbosity=0)
    return name


def npi(seed: int) -> str:
    from roster.validation import npi_check_digit

    nine = f"1{seed % 100_000_000:08d}"
    return nine + str(npi_check_digit(nine))


def rows(first_seed: int, n: int) -> list[dict]:
    types = ["MD", "DO", "NP", "PA"]
    states = ["CA", "NV", "OR", "WA", "AZ"]
    out = []
    for i in range(n):
        seed = first_seed + i
        state = states[i % len(states)]
        out.append(
            {
                "npi": npi(seed),
                "first_name": f"First{i}",
                "middle_name": "Q",
                "last_name": f"Last{seed}",
                "provider_type": types[i % len(types)],
                "primary_taxonomy": "207R00000X",
                "taxonomy_codes": "207R00000X;208D00000X",
                "practice_states": f"{state};CA" if state != "CA" else "CA",
                "dob": f"19{60 + i % 30}-0{1 + i % 9}-1{i % 9}",
                "ssn": f"{100_000_000 + seed}",
                "email": f"p{seed}@clinic.example",
                "phone": "+1 555 0100",
                "hire_date": "03/15/2021",
                "status": "active",
                "caqh_id": str(10_000_000 + seed),
                "caqh_last_attested": "2025-11-01",
                "credential_kind": "state_license",
                "credential_number": f"L{seed}",
                "credential_state": state,
                "credential_issuer": f"{state} Medical Board",
                "credential_issue_date": "2024-01-01",
                "credential_expiry_date": f"2027-0{1 + i % 9}-15",
            }
        )
    return out


def to_csv(data: list[dict]) -> bytes:
    from roster.importer import COLUMN_NAMES

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMN_NAMES)
    for r in data:
        writer.writerow([r.get(c, "") for c in COLUMN_NAMES])
    return buffer.getvalue().encode()


def new_org(tag: str):
    from credex.models import Membership, User
    from credex.services import organization_create
    from credex.tenancy import tenant_context

    user = User.objects.create_user(email=f"owner-{tag}@bench.example", password="x" * 20)
    org = organization_create(name=f"Bench {tag}", owner=user)
    with tenant_context(org):
        member = Membership.objects.select_related("user").get(user=user)
    member.organization = org
    return org, member


def timed_import(org, actor, data: bytes):
    from credex.tenancy import tenant_context
    from roster.services.imports import import_job_create

    started = time.perf_counter()
    with tenant_context(org):
        job = import_job_create(
            org=org,
            actor=actor,
            csv_file=SimpleUploadedFile("bench.csv", data),
            run="inline",
        )
    return time.perf_counter() - started, job


def counts(org) -> dict:
    from audit.models import AuditEvent
    from credex.tenancy import tenant_context
    from roster.models import Credential, Provider

    with tenant_context(org):
        return {
            "providers": Provider.objects.count(),
            "credentials": Credential.objects.count(),
            "roster_events": AuditEvent.objects.filter(
                organization=org, action__startswith="roster.provider."
            ).count()
            + AuditEvent.objects.filter(
                organization=org, action__startswith="roster.credential."
            ).count(),
        }


def baseline(org, actor, data: list[dict]) -> float:
    """The per-row service path: what the import would cost without its bulk writes."""
    from credex.tenancy import tenant_context
    from roster.importer import parse_date, split_list
    from roster.services.providers import credential_create, provider_create

    started = time.perf_counter()
    with tenant_context(org):
        for r in data:
            provider = provider_create(
                org=org,
                actor=actor,
                npi=r["npi"],
                first_name=r["first_name"],
                middle_name=r["middle_name"],
                last_name=r["last_name"],
                provider_type=r["provider_type"],
                primary_taxonomy=r["primary_taxonomy"],
                taxonomy_codes=split_list(r["taxonomy_codes"]),
                practice_states=split_list(r["practice_states"]),
                dob=parse_date(r["dob"]),
                ssn=r["ssn"],
                email=r["email"],
                phone=r["phone"],
                hire_date=parse_date(r["hire_date"]),
                status=r["status"],
                caqh_id=r["caqh_id"],
                caqh_last_attested=parse_date(r["caqh_last_attested"]),
            )
            credential_create(
                org=org,
                actor=actor,
                provider=provider,
                kind=r["credential_kind"],
                number=r["credential_number"],
                state=r["credential_state"],
                issuer=r["credential_issuer"],
                issue_date=parse_date(r["credential_issue_date"]),
                expiry_date=date.fromisoformat(r["credential_expiry_date"]),
            )
    return time.perf_counter() - started


def main() -> int:
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-import-media-")
    name = use_scratch_database()
    try:
        print(f"CSV import benchmark ({ROWS:,} rows; scratch database {name})")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"Machine: {os.cpu_count()} cores, load average {load} at start "
            "(shared with other work: figures are noisy)."
        )

        org, actor = new_org("clean")
        data = rows(1, ROWS)
        seconds, job = timed_import(org, actor, to_csv(data))
        assert job.status == "done", job.errors[:5]
        got = counts(org)
        assert got == {"providers": ROWS, "credentials": ROWS, "roster_events": 2 * ROWS}, got
        print(
            f"valid file:     {seconds:6.2f} s  {ROWS / seconds:8,.0f} rows/s  "
            f"(target < 10 s; {ROWS:,} providers + {ROWS:,} credentials + "
            f"{2 * ROWS:,} audit events written)"
        )

        org_bad, actor_bad = new_org("bad")
        bad = rows(1, ROWS)
        bad[ROWS // 2]["credential_expiry_date"] = "2020-01-01"  # before its issue date
        bad_seconds, bad_job = timed_import(org_bad, actor_bad, to_csv(bad))
        assert bad_job.status == "rejected" and len(bad_job.errors) == 1, bad_job.errors[:5]
        got = counts(org_bad)
        assert got == {"providers": 0, "credentials": 0, "roster_events": 0}, got
        print(
            f"one bad row:    {bad_seconds:6.2f} s  rejected with 1 error, nothing written "
            "(target < 5 s)"
        )

        org_base, actor_base = new_org("baseline")
        base_seconds = baseline(org_base, actor_base, rows(1, BASELINE_SLICE))
        extrapolated = base_seconds * ROWS / BASELINE_SLICE
        print(
            f"baseline:       {base_seconds:6.2f} s for {BASELINE_SLICE} rows through "
            f"provider_create + credential_create -> {extrapolated:6.1f} s for {ROWS:,} "
            "(extrapolated)"
        )
        print(f"ratio:          bulk import is {extrapolated / seconds:4.1f}x faster than per-row")
        return 0
    finally:
        dbsetup.drop_database(name)


if __name__ == "__main__":
    sys.exit(main())
