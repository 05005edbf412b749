from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "exchange"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from exchange.receivers import (
            aftertrade,
            listings,
            membership,
            pricing,
            purchases,
            releases,
        )

        for area in (membership, releases, listings, purchases, aftertrade, pricing):
            area.register()
