"""System checks: the app role must not bypass row-level security; e-mail must be delivered."""

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


# Backends that never deliver: they print (console), write (file) or keep (locmem) every message,
# upload-link, share-link, invitation and password-reset tokens included, or drop it (dummy).
NON_DELIVERING_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}


@register(Tags.security)
def check_email_backend(app_configs=None, **kwargs):
    """Refuse a development e-mail backend outside DEBUG and the embedded development stack."""
    from django.conf import settings

    # EMBEDDED (no DATABASE_URL) is `make run` and the test session: the console backend is
    # how a developer reads the links there.
    if settings.DEBUG or getattr(settings, "EMBEDDED", False):
        return []
    if settings.EMAIL_BACKEND not in NON_DELIVERING_EMAIL_BACKENDS:
        return []
    return [
        Error(
            f"EMAIL_BACKEND is {settings.EMAIL_BACKEND} with DEBUG off: e-mails (with their "
            "upload-link, share-link, invitation and password-reset tokens) would be printed, "
            "stored or dropped instead of delivered.",
            hint="Set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and "
            "EMAIL_HOST/EMAIL_PORT/EMAIL_HOST_USER/EMAIL_HOST_PASSWORD/EMAIL_USE_TLS "
            "(see docs/production.md).",
            id="credex.E002",
        )
    ]
