from django.apps import AppConfig


class NppesConfig(AppConfig):
    name = "screening.nppes"
    label = "nppes"
    verbose_name = "NPPES registry"
    default_auto_field = "django.db.models.BigAutoField"
