"""Inbox items raised by downstream apps (roster.hooks.inbox_items_due): the release_expiry
kind, the raising app's row id and the page the item opens."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("roster", "0007_move_enrollment_and_committee"),
    ]

    operations = [
        migrations.AddField(
            model_name="inboxitem",
            name="link",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="inboxitem",
            name="subject_id",
            field=models.UUIDField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="inboxitem",
            name="kind",
            field=models.CharField(
                choices=[
                    ("credential_expiry", "Credential expiring"),
                    ("recredentialing", "Re-credentialing due"),
                    ("caqh", "CAQH re-attestation due"),
                    ("contract_renewal", "Payer contract renewal"),
                    ("enrollment_follow_up", "Enrollment follow-up"),
                    ("document_requested", "Document requested"),
                    ("release_expiry", "Clinician release expiring"),
                ],
                max_length=30,
            ),
        ),
    ]
