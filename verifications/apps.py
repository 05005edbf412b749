from django.apps import AppConfig


class VerificationsConfig(AppConfig):
    name = "verifications"
    default_auto_field = "django.db.models.BigAutoField"
