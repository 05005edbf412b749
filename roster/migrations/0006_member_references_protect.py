# Members are removed, not deleted: PROTECT on the references to credex.Membership.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("credex", "0006_membership_removed"),
        ("roster", "0005_import_documents_follow"),
    ]

    operations = [
        migrations.AlterField(
            model_name="committeereview",
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
            model_name="committeereview",
            name="ready_marked_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
        migrations.AlterField(
            model_name="document",
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
            model_name="document",
            name="uploaded_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
        migrations.AlterField(
            model_name="importjob",
            name="created_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
        migrations.AlterField(
            model_name="inboxitem",
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
            model_name="provider",
            name="coordinator",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
        migrations.AlterField(
            model_name="uploadlink",
            name="created_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
    ]
