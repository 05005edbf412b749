"""System checks: refuse to run the app as a role that bypasses row-level security."""

from __future__ import annotations

from django.core.checks import Error, Tags, register
from django.db import connections


def app_role_problems(alias: str = "default") -> list[str]:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    problems = []
    if row and row[0]:
        problems.append("superuser")
    if row and row[1]:
        problems.append("BYPASSRLS")
    return problems


@register(Tags.database, deploy=True)
def check_app_role(app_configs=None, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    try:
        problems = app_role_problems()
    except Exception:  # database unreachable: other checks say so
        return []
    if problems:
        return [
            Error(
                f"DATABASE_URL connects as a role with {' and '.join(problems)}: row-level "
                "security would not apply.",
                hint="Connect as the application role created by "
                "`manage.py db_bootstrap` (see docs/production.md).",
                id="credex.E001",
            )
        ]
    return []
