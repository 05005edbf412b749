from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Synthetic demo data (`manage.py seed_demo`). Sits on top of every domain app: it may
    import any of them, and nothing imports it."""

    name = "demo"
    default_auto_field = "django.db.models.BigAutoField"
