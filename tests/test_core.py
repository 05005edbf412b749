"""Settings, health endpoint, the application-role check."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connections

from credex.checks import app_role_problems


def _settings_in_subprocess(env: dict, expr: str):
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='credex.settings';"
        f"from django.conf import settings; print({expr})"
    )
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "DJANGO_SECRET_KEY",
            "DJANGO_DEBUG",
            "DJANGO_ALLOWED_HOSTS",
            "DATABASE_OWNER_URL",
            "FIELD_ENCRYPTION_KEYS",
        }
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


PROD = {
    "DATABASE_URL": "postgresql://app:pw@db.internal:5432/credex",
    "DATABASE_OWNER_URL": "postgresql://owner:pw@db.internal:5432/credex",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "DJANGO_SECRET_KEY": "s" * 50,
    "DJANGO_ALLOWED_HOSTS": "credex.example",
    "FIELD_ENCRYPTION_KEYS": "HvVDtkuoykhKxsvGcNypDnpKyzzHNUd1PJQ1vnKkAjg=",
}


def test_production_settings_use_secure_cookies_and_the_two_roles():
    result = _settings_in_subprocess(
        PROD,
        "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
        "settings.DEBUG, settings.DATABASES['default']['USER'], "
        "settings.DATABASES['owner']['USER']",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True True False app owner"


@pytest.mark.parametrize(
    "missing", ["DJANGO_SECRET_KEY", "REDIS_URL", "DJANGO_ALLOWED_HOSTS", "FIELD_ENCRYPTION_KEYS"]
)
def test_production_settings_refuse_to_start_without_required_values(missing):
    env = {k: v for k, v in PROD.items() if k != missing}
    result = _settings_in_subprocess(env, "settings.DEBUG")
    assert result.returncode != 0
    assert missing in result.stderr


def test_a_malformed_encryption_key_fails_loudly():
    result = _settings_in_subprocess(
        {**PROD, "FIELD_ENCRYPTION_KEYS": "not-a-key"}, "settings.DEBUG"
    )
    assert result.returncode != 0 and "not a Fernet key" in result.stderr


def test_a_malformed_boolean_fails_loudly():
    result = _settings_in_subprocess({**PROD, "DJANGO_DEBUG": "maybe"}, "settings.DEBUG")
    assert result.returncode != 0 and "DJANGO_DEBUG='maybe' is not a boolean" in result.stderr


def test_healthz_reports_database_and_broker_without_secrets(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body == {"status": "ok", "components": {"database": "ok", "redis": "ok"}}
    assert "postgres" not in response.content.decode()


@pytest.mark.django_db(databases=["default", "owner"])
def test_the_role_check_flags_a_superuser_connection_and_passes_the_app_role():
    assert app_role_problems("default") == []
    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        owner_is_superuser = cursor.fetchone()[0]
    assert ("superuser" in app_role_problems("owner")) == owner_is_superuser


def test_the_system_check_reports_e001_for_a_superuser_app_connection(monkeypatch, db):
    from credex import checks

    assert checks.check_app_role(databases=["default"]) == []
    monkeypatch.setattr(checks, "app_role_problems", lambda alias="default": ["superuser"])
    errors = checks.check_app_role(databases=["default"])
    assert [e.id for e in errors] == ["credex.E001"]
