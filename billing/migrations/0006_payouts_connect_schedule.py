"""Connect onboarding and scheduled payouts (issue 13, item 4).

- BillingAccount.connect_state_at: the Stripe `created` of the Connect account state last
  applied, so an older `account.updated` arriving later does not undo a newer one.
- Payout.scheduled_for: the pay day of a scheduled payout, unique per organization (the daily
  run repeated on one day pays once). Payouts on request leave it null (nulls are distinct).

Both tables are already under RLS (0005); nothing new to enable.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0005_billing_rules'),
        ('credex', '0008_organization_writes_paused'),
    ]

    operations = [
        migrations.AddField(
            model_name='billingaccount',
            name='connect_state_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='payout',
            name='scheduled_for',
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name='payout',
            constraint=models.UniqueConstraint(fields=('organization', 'scheduled_for'), name='payout_scheduled_once'),
        ),
    ]
