"""Celery tasks: packages (stub)."""

__all__: list = []
