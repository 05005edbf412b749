"""Clinician releases: who revoked one and why, and the e-signature requests (the row behind
the signed release link; tenant data: the organization policy, same-organization keys)."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from credex.db import EnableRLS, SameOrgForeignKey

SAME_ORG = [
    ("ClinicianRelease", "revoked_by", "credex.Membership"),
    ("ReleaseRequest", "provider", "roster.Provider"),
    ("ReleaseRequest", "release", "exchange.ClinicianRelease"),
    ("ReleaseRequest", "created_by", "credex.Membership"),
    ("ReleaseRequest", "revoked_by", "credex.Membership"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("credex", "0007_user_is_exchange_operator"),
        ("exchange", "0002_tenancy_policies"),
        ("roster", "0007_move_enrollment_and_committee"),
    ]

    operations = [
        migrations.AddField(
            model_name="clinicianrelease",
            name="revoked_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="credex.membership",
            ),
        ),
        migrations.AddField(
            model_name="clinicianrelease",
            name="revoked_reason",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.CreateModel(
            name="ReleaseRequest",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("scope_all", models.BooleanField(default=True)),
                ("scope_sources", models.JSONField(blank=True, default=list)),
                ("release_expires_on", models.DateField()),
                ("email", models.EmailField(max_length=254)),
                ("expires_at", models.DateTimeField()),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="credex.membership",
                    ),
                ),
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
                    "provider",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="roster.provider",
                    ),
                ),
                (
                    "release",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="request",
                        to="exchange.clinicianrelease",
                    ),
                ),
                (
                    "revoked_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="credex.membership",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
            },
        ),
        EnableRLS("exchange.ReleaseRequest"),
        *[SameOrgForeignKey(f"exchange.{m}", f, to) for m, f, to in SAME_ORG],
    ]
