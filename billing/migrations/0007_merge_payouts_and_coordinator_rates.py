# Joins the payouts (Connect, schedule) and coordinator-rates branches of billing.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0006_coordinator_rates'),
        ('billing', '0006_payouts_connect_schedule'),
    ]

    operations = [
    ]
