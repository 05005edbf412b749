"""The operator's starting prices per verification type and the exchange settings row.

NPDB is not here: its results are never tradable. Existing rows are left as the operator set
them (a re-run or a reverse-then-forward does not overwrite a price)."""

from django.db import migrations

DEFAULT_PRICES_CENTS = {
    "state_board": 2500,
    "dea": 2000,
    "board": 3000,
    "education": 4500,
    "employer": 4000,
    "facility": 4000,
    "malpractice_carrier": 3000,
    "nppes": 500,
    "oig": 500,
    "sam": 500,
}


def seed(apps, schema_editor):
    # Migrations run as the schema owner (credex.dbsetup): write through its connection.
    db = schema_editor.connection.alias
    DefaultPrice = apps.get_model("exchange", "DefaultPrice")
    ExchangeSettings = apps.get_model("exchange", "ExchangeSettings")
    for source, cents in DEFAULT_PRICES_CENTS.items():
        DefaultPrice.objects.using(db).get_or_create(source=source, defaults={"price_cents": cents})
    ExchangeSettings.objects.using(db).get_or_create(pk=1)


def unseed(apps, schema_editor):
    DefaultPrice = apps.get_model("exchange", "DefaultPrice")
    DefaultPrice.objects.using(schema_editor.connection.alias).filter(
        source__in=DEFAULT_PRICES_CENTS
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("exchange", "0003_releases_request")]

    operations = [migrations.RunPython(seed, unseed)]
