"""Celery tasks: extraction (stub)."""

__all__: list = []
