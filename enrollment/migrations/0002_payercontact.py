"""Payer contacts, moved from the verifications app. State only: the table was created by
verifications' migrations (0001, with RLS and same-organization constraints in 0002) and keeps
its verifications_payercontact name; verifications 0008 removes the model from its state."""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("credex", "0005_organization_import_documents_can_follow"),
        ("enrollment", "0001_initial"),
        ("verifications", "0007_payercontact_payer_in_enrollment"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PayerContact",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        ("name", models.CharField(max_length=200)),
                        ("email", models.EmailField(max_length=254)),
                        ("title", models.CharField(blank=True, max_length=200)),
                        ("phone", models.CharField(blank=True, max_length=30)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "organization",
                            models.ForeignKey(
                                editable=False,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="credex.organization",
                            ),
                        ),
                        (
                            "payer",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="contacts",
                                to="enrollment.payer",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "verifications_payercontact",
                        "ordering": ["name"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("organization", "payer", "email"),
                                name="payer_contact_email_unique",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
