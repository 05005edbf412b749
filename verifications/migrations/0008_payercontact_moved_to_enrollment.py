"""Payer contacts moved to the enrollment app (same table, verifications_payercontact; enrollment
0002 adds the model to its state). State only: the share's foreign key now names
enrollment.PayerContact; in the database the column, its foreign key, its same-organization
constraint and every row are unchanged."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0002_payercontact"),
        ("verifications", "0007_payercontact_payer_in_enrollment"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="packageshare",
                    name="contact",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="shares",
                        to="enrollment.payercontact",
                    ),
                ),
                migrations.DeleteModel(name="PayerContact"),
            ],
            database_operations=[],
        ),
    ]
