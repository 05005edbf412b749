"""Celery tasks of the verifications app, one module per area."""
