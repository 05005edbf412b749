# Members are removed, not deleted: PROTECT on the references to credex.Membership.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("credex", "0006_membership_removed"),
        ("verifications", "0005_job_attempts"),
    ]

    operations = [
        migrations.AlterField(
            model_name="credentialpackage",
            name="requested_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
        migrations.AlterField(
            model_name="extractionsuggestion",
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
            model_name="packageshare",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
        migrations.AlterField(
            model_name="packageshare",
            name="revoked_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
        migrations.AlterField(
            model_name="reverificationpacket",
            name="started_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
        migrations.AlterField(
            model_name="verificationrequest",
            name="assigned_to",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
        migrations.AlterField(
            model_name="verificationrequest",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
    ]
