"""Billing's tenancy rules and its reference data.

- Billing accounts, invoices and their lines, charges, payouts, dunning notices and seat syncs
  are tenant data under the standard organization policy. Billing accounts are also read on the
  platform path: a Stripe webhook names a customer, not an organization.
- Stripe events (processed once each) have the organization they concern, or none (e.g. a
  Connect account event not yet matched): the organization reads its own, the platform path
  reads and writes any.
- Plans and membership tiers are global reference data, seeded here: the Practices plan
  ($99/month + $15 per provider seat, or $1,188/year + $12 per seat per month billed yearly)
  and the exchange membership's yearly fee tiers by clinicians managed.
"""

from django.db import migrations

from credex.db import PLATFORM_PATH_SQL, EnableRLS, SameOrgForeignKey

OWN = "organization_id = credex_current_org()"

STRIPE_EVENT_RULES = f"""
ALTER TABLE billing_stripeevent ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_stripeevent FORCE ROW LEVEL SECURITY;
CREATE POLICY stripe_event_read ON billing_stripeevent FOR SELECT
    USING ({OWN} OR {PLATFORM_PATH_SQL});
CREATE POLICY stripe_event_insert ON billing_stripeevent FOR INSERT
    WITH CHECK ({OWN} OR {PLATFORM_PATH_SQL});
CREATE POLICY stripe_event_update ON billing_stripeevent FOR UPDATE
    USING ({OWN} OR {PLATFORM_PATH_SQL}) WITH CHECK ({OWN} OR {PLATFORM_PATH_SQL});
"""
STRIPE_EVENT_UNDO = """
DROP POLICY IF EXISTS stripe_event_update ON billing_stripeevent;
DROP POLICY IF EXISTS stripe_event_insert ON billing_stripeevent;
DROP POLICY IF EXISTS stripe_event_read ON billing_stripeevent;
ALTER TABLE billing_stripeevent DISABLE ROW LEVEL SECURITY;
"""

PLANS = [
    # code, interval, name, base_cents, seat_cents, description
    (
        "practices",
        "month",
        "Practices",
        9900,
        1500,
        "$99 a month plus $15 per provider seat a month.",
    ),
    (
        "practices",
        "year",
        "Practices (yearly)",
        118800,
        14400,
        "$1,188 a year plus $12 per provider seat a month, billed yearly ($144 a seat a year).",
    ),
]

TIERS = [
    # name, min, max, annual fee
    ("Up to 10 clinicians", 1, 10, 50000),
    ("11 to 50 clinicians", 11, 50, 150000),
    ("51 to 200 clinicians", 51, 200, 400000),
    ("More than 200 clinicians", 201, None, 900000),
]


def seed(apps, schema_editor):
    db = schema_editor.connection.alias  # the owner's connection: migrations run as the owner
    Plan = apps.get_model("billing", "Plan").objects.using(db)
    MembershipTier = apps.get_model("billing", "MembershipTier").objects.using(db)
    for code, interval, name, base, seat, description in PLANS:
        Plan.get_or_create(
            code=code,
            interval=interval,
            version=1,
            defaults={
                "name": name,
                "base_cents": base,
                "seat_cents": seat,
                "trial_days": 14,
                "description": description,
            },
        )
    for name, low, high, fee in TIERS:
        MembershipTier.get_or_create(
            version=1,
            min_clinicians=low,
            defaults={"name": name, "max_clinicians": high, "annual_fee_cents": fee},
        )


def unseed(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("billing", "Plan").objects.using(db).filter(version=1).delete()
    apps.get_model("billing", "MembershipTier").objects.using(db).filter(version=1).delete()


TENANT = ["BillingAccount", "Invoice", "InvoiceLine", "Charge", "Payout", "DunningNotice", "SeatSync"]

SAME_ORG = [
    ("InvoiceLine", "invoice", "billing.Invoice"),
    ("Charge", "invoice", "billing.Invoice"),
    ("DunningNotice", "invoice", "billing.Invoice"),
    ("Payout", "requested_by", "credex.Membership"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_billing_accounts"),
    ]

    operations = [
        *[
            EnableRLS(
                f"billing.{m}", read_also=PLATFORM_PATH_SQL if m == "BillingAccount" else None
            )
            for m in TENANT
        ],
        migrations.RunSQL(STRIPE_EVENT_RULES, STRIPE_EVENT_UNDO),
        *[SameOrgForeignKey(f"billing.{m}", f, to) for m, f, to in SAME_ORG],
        migrations.RunPython(seed, unseed),
    ]
