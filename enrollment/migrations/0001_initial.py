"""Payers, enrollments and contracts, moved from the roster app. State only: the tables were
created by roster's migrations (0001, with RLS and same-organization constraints in 0002) and
keep their roster_* names; roster 0006 removes the models from roster's state."""

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
                    name='Payer',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('name', models.CharField(max_length=200)),
                        ('payer_id', models.CharField(blank=True, max_length=40, verbose_name='payer ID')),
                        ('contact_name', models.CharField(blank=True, max_length=200)),
                        ('contact_email', models.EmailField(blank=True, max_length=254)),
                        ('contact_phone', models.CharField(blank=True, max_length=30)),
                        ('portal_url', models.URLField(blank=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('organization', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='credex.organization')),
                    ],
                    options={
                        'db_table': 'roster_payer',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='Enrollment',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('status', models.CharField(choices=[('requested', 'Requested'), ('in_preparation', 'In preparation'), ('submitted', 'Submitted'), ('in_follow_up', 'In follow-up'), ('resubmitted', 'Resubmitted'), ('approved', 'Approved'), ('denied', 'Denied'), ('withdrawn', 'Withdrawn')], default='requested', max_length=20)),
                        ('requested_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('submitted_on', models.DateField(blank=True, null=True)),
                        ('next_follow_up', models.DateField(blank=True, null=True)),
                        ('effective_date', models.DateField(blank=True, null=True)),
                        ('reference_number', models.CharField(blank=True, max_length=60)),
                        ('resubmissions', models.PositiveSmallIntegerField(default=0)),
                        ('notes', models.TextField(blank=True)),
                        ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('organization', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='credex.organization')),
                        ('provider', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='enrollments', to='roster.provider')),
                        ('payer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='enrollments', to='enrollment.payer')),
                    ],
                    options={
                        'db_table': 'roster_enrollment',
                        'ordering': ['-requested_at'],
                    },
                ),
                migrations.CreateModel(
                    name='PayerContract',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('effective_date', models.DateField()),
                        ('renewal_date', models.DateField(blank=True, null=True)),
                        ('fee_schedule_ref', models.CharField(blank=True, max_length=200, verbose_name='fee schedule reference')),
                        ('scope_of_services', models.TextField(blank=True)),
                        ('terms_notes', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('organization', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='credex.organization')),
                        ('payer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='contracts', to='enrollment.payer')),
                    ],
                    options={
                        'db_table': 'roster_payercontract',
                        'ordering': ['renewal_date'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='payer',
                    constraint=models.UniqueConstraint(fields=('organization', 'name'), name='payer_name_unique'),
                ),
                migrations.AddIndex(
                    model_name='enrollment',
                    index=models.Index(fields=['organization', 'status', 'next_follow_up'], name='enrollment_org_follow_idx'),
                ),
            ],
            database_operations=[],
        ),
    ]
