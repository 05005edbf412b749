"""Members are removed, not deleted: removed_at/removed_by on Membership (a same-organization
reference), and PROTECT on the references that record who created or accepted something."""

import django.db.models.deletion
import django.db.models.manager
from django.conf import settings
from django.db import migrations, models

from credex.db import SameOrgForeignKey


class Migration(migrations.Migration):
    dependencies = [
        ("credex", "0005_organization_import_documents_can_follow"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="membership",
            options={"base_manager_name": "all_objects", "ordering": ["created_at"]},
        ),
        migrations.AlterModelManagers(
            name="membership",
            managers=[
                ("objects", django.db.models.manager.Manager()),
                ("all_objects", django.db.models.manager.Manager()),
            ],
        ),
        migrations.AddField(
            model_name="membership",
            name="removed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="membership",
            name="removed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
        SameOrgForeignKey("credex.Membership", "removed_by", "credex.Membership"),
        migrations.AlterField(
            model_name="apikey",
            name="created_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
        migrations.AlterField(
            model_name="invitation",
            name="accepted_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="invitation",
            name="invited_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
    ]
