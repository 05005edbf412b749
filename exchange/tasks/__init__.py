"""Exchange tasks, one module per area (imported here so Celery's autodiscovery finds them)."""

from exchange.tasks import aftertrade, listings, membership, pricing, purchases, releases  # noqa: F401
