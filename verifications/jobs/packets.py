"""Celery tasks: packets (stub)."""

__all__: list = []
