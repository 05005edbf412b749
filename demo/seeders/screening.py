"""Demo data: small synthetic LEIE and SAM files with a few deliberate matches against the
demo rosters, loaded and screened. Idempotent: the files are the same for the same roster,
a file already active is not loaded again, and an organization already screened is not
screened again."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from django.utils import timezone

from credex.models import Organization
from credex.tenancy import tenant_context
from roster.models import Provider
from roster.services.providers import provider_dob
from screening import synthetic
from screening.loaders import load_dataset
from screening.models import RunTrigger, ScreeningRun, Source

DEMO_SLUGS = ("riverbend", "lakeside")


def _deliberate_rows(rng, providers) -> tuple[list, list]:
    """Matches against the demo roster: exact NPI, name + DOB, name + state, a similar name
    (possible) on the LEIE; a name + state on SAM. Fewer providers, fewer matches."""
    leie, sam = [], []
    for i, p in enumerate(providers[:5]):
        state = p.state or (p.practice_states[0] if p.practice_states else "")
        if i == 0 and p.npi:
            leie.append(synthetic.leie_row(rng, last="ZORVANDEL", first="ALARIC", npi=p.npi))
        elif i == 1:
            dob = provider_dob(p)
            if dob:
                leie.append(synthetic.leie_row(rng, last=p.last_name, first=p.first_name, dob=dob))
            else:
                sam.append(
                    synthetic.sam_row(
                        rng,
                        last=p.last_name,
                        first=p.first_name,
                        state=state or "TX",
                        number=900001,
                    )
                )
        elif i == 2 and state:
            row = synthetic.leie_row(rng, last=p.last_name, first=p.first_name, state=state)
            row[8] = ""  # no date of birth on the record
            leie.append(row)
        elif i == 3 and len(p.last_name) > 3:
            # A misspelt last name with the same date of birth (or state): "possible".
            misspelt = (p.last_name[:-1] + ("E" if p.last_name[-1].upper() != "E" else "A")).upper()
            dob = provider_dob(p)
            row = synthetic.leie_row(
                rng, last=misspelt, first=p.first_name.upper(), dob=dob, state=state or None
            )
            if not dob:
                row[8] = ""
            leie.append(row)
        elif i == 4 and state:
            sam.append(
                synthetic.sam_row(
                    rng,
                    last=p.last_name.upper(),
                    first=p.first_name.upper(),
                    state=state,
                    number=900002,
                )
            )
    return leie, sam


def seed_demo_screening(*, leie_rows: int = 400, sam_rows: int = 300) -> dict:
    """Load synthetic lists with deliberate matches and screen the demo organizations."""
    rng = random.Random(2026)  # noqa: S311 - synthetic demo data, not security
    orgs = list(Organization.objects.filter(slug__in=DEMO_SLUGS).order_by("slug"))
    extra_leie, extra_sam = [], []
    for org in orgs:
        with tenant_context(org):
            providers = list(
                Provider.objects.filter(organization=org).order_by("last_name", "first_name", "id")[
                    :5
                ]
            )
            leie, sam = _deliberate_rows(rng, providers)
        extra_leie += leie
        extra_sam += sam
    leie = [synthetic.leie_row(rng) for _ in range(leie_rows)] + extra_leie
    sam = [synthetic.sam_row(rng, number=n) for n in range(sam_rows)] + extra_sam
    sam.append(synthetic.sam_row(rng, firm="RIVERSIDE DEMO SUPPLY LLC", number=900003))
    as_of = timezone.localdate().replace(day=1)
    with tempfile.TemporaryDirectory() as tmp:
        leie_file = synthetic.write_leie(Path(tmp) / "UPDATED.csv", leie)
        sam_file = synthetic.write_sam(Path(tmp) / "SAM_Exclusions_Public_Extract_V2_demo.csv", sam)
        loaded = {
            Source.LEIE: load_dataset(
                source=Source.LEIE, origin=str(leie_file), as_of=as_of, loaded_by="seed_demo"
            ).created,
            Source.SAM: load_dataset(
                source=Source.SAM, origin=str(sam_file), as_of=as_of, loaded_by="seed_demo"
            ).created,
        }
    from screening.services.runs import screening_run_now

    screened = []
    for org in orgs:
        with tenant_context(org):
            if ScreeningRun.objects.filter(organization=org).exists():
                continue
            run = screening_run_now(org=org, trigger=RunTrigger.SCHEDULE)
            screened.append((org.slug, run.counts.get("new_total", 0)))
    return {"loaded": loaded, "screened": screened}
