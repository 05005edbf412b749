import csv
from pathlib import Path

from django.db import migrations

from credex.db import EnableRLS, SameOrgForeignKey

NUCC = Path(__file__).resolve().parent.parent / "data" / "nucc_taxonomy_251.csv"

TENANT_MODELS = [
    "CustomProviderType", "Provider", "Credential", "CredentialRequirement", "UploadLink",
    "Document", "InboxItem", "Payer", "Enrollment", "PayerContract", "CommitteeReview",
    "ImportJob",
]

SAME_ORG = [
    ("Provider", "coordinator", "credex.Membership"),
    ("Credential", "provider", "roster.Provider"),
    ("UploadLink", "provider", "roster.Provider"),
    ("UploadLink", "created_by", "credex.Membership"),
    ("Document", "provider", "roster.Provider"),
    ("Document", "credential", "roster.Credential"),
    ("Document", "uploaded_by", "credex.Membership"),
    ("Document", "upload_link", "roster.UploadLink"),
    ("Document", "reviewed_by", "credex.Membership"),
    ("InboxItem", "provider", "roster.Provider"),
    ("InboxItem", "credential", "roster.Credential"),
    ("InboxItem", "contract", "roster.PayerContract"),
    ("InboxItem", "assigned_to", "credex.Membership"),
    ("Enrollment", "provider", "roster.Provider"),
    ("Enrollment", "payer", "roster.Payer"),
    ("PayerContract", "payer", "roster.Payer"),
    ("CommitteeReview", "provider", "roster.Provider"),
    ("CommitteeReview", "ready_marked_by", "credex.Membership"),
    ("CommitteeReview", "decided_by", "credex.Membership"),
    ("ImportJob", "created_by", "credex.Membership"),
]


def load_nucc(apps, schema_editor):
    TaxonomyCode = apps.get_model("roster", "TaxonomyCode")
    with NUCC.open(encoding="utf-8", newline="") as fh:
        rows = [
            TaxonomyCode(
                code=r["Code"].strip(), grouping=r["Grouping"].strip(),
                classification=r["Classification"].strip(),
                specialization=r["Specialization"].strip(), definition=r["Definition"].strip(),
                display_name=r["Display Name"].strip(), section=r["Section"].strip(),
                version="25.1",
            )
            for r in csv.DictReader(fh)
        ]
    TaxonomyCode.objects.using(schema_editor.connection.alias).bulk_create(
        rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("roster", "0001_initial"), ("credex", "0002_tenancy_rls")]

    operations = [
        *[EnableRLS(f"roster.{name}") for name in TENANT_MODELS],
        *[SameOrgForeignKey(f"roster.{m}", f, to) for m, f, to in SAME_ORG],
        migrations.RunPython(load_nucc, migrations.RunPython.noop),
    ]
