"""Payers moved to the enrollment app (same table, roster_payer): state only, the foreign key
and its same-organization constraint in the database are unchanged."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0001_initial"),
        ("verifications", "0006_member_references_protect"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="payercontact",
                    name="payer",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="contacts",
                        to="enrollment.payer",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
