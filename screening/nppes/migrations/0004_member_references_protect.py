# Members are removed, not deleted: PROTECT on the references to credex.Membership.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("credex", "0006_membership_removed"),
        ("nppes", "0003_check_authorized_official_known"),
    ]

    operations = [
        migrations.AlterField(
            model_name="nppesmismatch",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
        migrations.AlterField(
            model_name="nppesrun",
            name="requested_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
    ]
