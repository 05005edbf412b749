"""Row-level security and same-organization foreign keys on the screening tenant tables.

The reference tables (DatasetVersion, LeieRecord, SamRecord) are global: no organization,
no RLS; the application role loads them (grants come from credex.dbsetup.apply_grants).
"""

from django.db import migrations

from credex.db import EnableRLS, SameOrgForeignKey

TENANT_MODELS = ["ScreeningRun", "ScreeningHit", "ScreeningResult"]

SAME_ORG = [
    ("ScreeningRun", "provider", "roster.Provider"),
    ("ScreeningRun", "requested_by", "credex.Membership"),
    ("ScreeningHit", "provider", "roster.Provider"),
    ("ScreeningHit", "run", "screening.ScreeningRun"),
    ("ScreeningHit", "related_hit", "screening.ScreeningHit"),
    ("ScreeningHit", "reviewed_by", "credex.Membership"),
    ("ScreeningResult", "run", "screening.ScreeningRun"),
    ("ScreeningResult", "provider", "roster.Provider"),
]


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial"), ("roster", "0002_tenancy_and_nucc")]

    operations = [
        *[EnableRLS(f"screening.{name}") for name in TENANT_MODELS],
        *[SameOrgForeignKey(f"screening.{m}", f, to) for m, f, to in SAME_ORG],
    ]
