# Members are removed, not deleted: PROTECT on the references to credex.Membership.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("credex", "0006_membership_removed"),
        ("screening", "0005_dataset_files_and_record_file"),
    ]

    operations = [
        migrations.AlterField(
            model_name="screeninghit",
            name="reviewed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
        migrations.AlterField(
            model_name="screeningrun",
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
