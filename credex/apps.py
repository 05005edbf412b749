from django.apps import AppConfig


class CredexConfig(AppConfig):
    name = "credex"
    verbose_name = "CredEx core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from credex import checks, signals  # noqa: F401  (registers checks and auth signals)
