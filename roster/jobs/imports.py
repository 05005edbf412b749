"""Celery tasks for CSV import (owned by the import area)."""
