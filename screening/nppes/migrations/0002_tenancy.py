from django.db import migrations

from credex.db import EnableRLS, SameOrgForeignKey

TENANT_MODELS = ["NppesCheck", "NppesMismatch", "NppesRun"]

SAME_ORG = [
    ("NppesCheck", "provider", "roster.Provider"),
    ("NppesMismatch", "provider", "roster.Provider"),
    ("NppesMismatch", "decided_by", "credex.Membership"),
    ("NppesRun", "provider", "roster.Provider"),
    ("NppesRun", "requested_by", "credex.Membership"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("nppes", "0001_initial"),
        ("roster", "0002_tenancy_and_nucc"),
        ("credex", "0002_tenancy_rls"),
    ]

    operations = [
        *[EnableRLS(f"nppes.{name}") for name in TENANT_MODELS],
        *[SameOrgForeignKey(f"nppes.{m}", f, to) for m, f, to in SAME_ORG],
    ]
