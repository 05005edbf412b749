"""The independent coordinator's rate card (billing.CoordinatorRate).

The card belongs to a person, not to an organization: an independent coordinator has none of
their own (DESIGN.md). So the table is global, like the users it hangs from, and its
row-level security admits only the card's owner (`credex_current_user()`, the transaction-local
`app.current_user` every signed-in request sets), for reads and writes alike, forced for the
table owner too. A client organization named by an override row reads nothing of it.
"""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

OWNER = "owner_id = credex_current_user()"

RULES = f"""
ALTER TABLE billing_coordinatorrate ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_coordinatorrate FORCE ROW LEVEL SECURITY;
CREATE POLICY coordinator_rate_owner ON billing_coordinatorrate
    USING ({OWNER}) WITH CHECK ({OWNER});
"""
UNDO = """
DROP POLICY IF EXISTS coordinator_rate_owner ON billing_coordinatorrate;
ALTER TABLE billing_coordinatorrate NO FORCE ROW LEVEL SECURITY;
ALTER TABLE billing_coordinatorrate DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_billing_rules"),
        ("credex", "0008_organization_writes_paused"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CoordinatorRate",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "provider_month_cents",
                    models.PositiveIntegerField(
                        default=0, help_text="Per provider managed, per month."
                    ),
                ),
                (
                    "verification_cents",
                    models.PositiveIntegerField(
                        default=0, help_text="Per primary-source verification recorded."
                    ),
                ),
                (
                    "package_cents",
                    models.PositiveIntegerField(
                        default=0, help_text="Per credential package built."
                    ),
                ),
                (
                    "enrollment_cents",
                    models.PositiveIntegerField(
                        default=0, help_text="Per payer enrollment submitted (or resubmitted)."
                    ),
                ),
                (
                    "recredentialing_cents",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="Per re-credentialing completed (the committee's decision).",
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "client",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="credex.organization",
                    ),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["owner", "created_at"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("owner", "client"),
                        name="coordinator_rate_once",
                        nulls_distinct=False,
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("provider_month_cents__lte", 1000000),
                            ("verification_cents__lte", 1000000),
                            ("package_cents__lte", 1000000),
                            ("enrollment_cents__lte", 1000000),
                            ("recredentialing_cents__lte", 1000000),
                        ),
                        name="coordinator_rate_bounded",
                    ),
                ],
            },
        ),
        migrations.RunSQL(RULES, UNDO),
    ]
