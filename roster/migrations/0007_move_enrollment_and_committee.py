"""Payers, enrollments and contracts moved to the enrollment app, committee reviews to the
committee app. State only: the tables keep their roster_* names (the models set db_table), so
their rows, RLS policies and same-organization constraints stay exactly where they are. The
inbox's contract reference now names enrollment.PayerContract (same table, same column)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("roster", "0006_member_references_protect"),
        ("enrollment", "0001_initial"),
        ("committee", "0001_initial"),
        ("verifications", "0007_payercontact_payer_in_enrollment"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="inboxitem",
                    name="contract",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="inbox_items",
                        to="enrollment.payercontract",
                    ),
                ),
                migrations.DeleteModel(name="CommitteeReview"),
                migrations.DeleteModel(name="Enrollment"),
                migrations.DeleteModel(name="PayerContract"),
                migrations.DeleteModel(name="Payer"),
            ],
            database_operations=[],
        ),
    ]
