"""Committee reviews, moved from the roster app. State only: the table was created by
roster's migrations (0001, with RLS and same-organization constraints in 0002) and keeps its
roster_committeereview name; roster 0006 removes the model from roster's state."""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('credex', '0005_organization_import_documents_can_follow'),
        ('roster', '0005_import_documents_follow'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CommitteeReview',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('cycle', models.CharField(choices=[('initial', 'Initial credentialing'), ('recredentialing', 'Re-credentialing')], max_length=20)),
                        ('ready_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('meeting_date', models.DateField(blank=True, null=True)),
                        ('decision', models.CharField(blank=True, choices=[('approved', 'Approved'), ('approved_with_conditions', 'Approved with conditions'), ('denied', 'Denied'), ('deferred', 'Deferred')], max_length=30)),
                        ('decision_date', models.DateField(blank=True, null=True)),
                        ('conditions', models.TextField(blank=True)),
                        ('minutes', models.TextField(blank=True)),
                        ('notified_at', models.DateTimeField(blank=True, null=True)),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='credex.membership')),
                        ('organization', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='credex.organization')),
                        ('provider', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='committee_reviews', to='roster.provider')),
                        ('ready_marked_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='credex.membership')),
                    ],
                    options={
                        'db_table': 'roster_committeereview',
                        'ordering': ['-ready_at'],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
