"""Celery tasks for the expiry inbox (owned by the inbox area)."""
