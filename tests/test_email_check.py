"""credex.E002: a development e-mail backend (console, file, locmem, dummy) prints or keeps the
upload-link, share-link, invitation and password-reset tokens; outside DEBUG and the embedded
development stack the system check refuses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from tests.test_core import PROD

ROOT = Path(__file__).resolve().parent.parent
DEV_BACKENDS = [
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
]
SMTP = "django.core.mail.backends.smtp.EmailBackend"


def e002(**settings) -> list:
    with override_settings(**settings):
        return [m for m in run_checks(include_deployment_checks=True) if m.id == "credex.E002"]


@pytest.mark.parametrize("backend", DEV_BACKENDS)
def test_a_development_backend_is_an_error_in_production(backend):
    (error,) = e002(DEBUG=False, EMBEDDED=False, EMAIL_BACKEND=backend)
    assert error.is_serious()
    assert backend in error.msg and "smtp.EmailBackend" in error.hint


def test_check_deploy_refuses_the_console_backend_in_production():
    with override_settings(DEBUG=False, EMBEDDED=False, EMAIL_BACKEND=DEV_BACKENDS[0]):
        with pytest.raises(SystemCheckError, match="credex.E002"):
            call_command("check", "--deploy")
        with pytest.raises(SystemCheckError, match="credex.E002"):
            call_command("check")  # not only --deploy: runserver and db_bootstrap refuse too


def test_smtp_in_production_passes():
    assert e002(DEBUG=False, EMBEDDED=False, EMAIL_BACKEND=SMTP) == []


@pytest.mark.parametrize("backend", DEV_BACKENDS)
def test_debug_and_the_embedded_stack_may_print_e_mails(backend):
    assert e002(DEBUG=True, EMBEDDED=False, EMAIL_BACKEND=backend) == []
    # `make run`: no DATABASE_URL, DEBUG off, console backend by default
    assert e002(DEBUG=False, EMBEDDED=True, EMAIL_BACKEND=backend) == []


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    drop = {*PROD, "DJANGO_DEBUG", "EMAIL_BACKEND"}
    clean = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_without_an_email_backend_fail_check_and_db_bootstrap():
    """The default is the console backend: a production environment that forgets EMAIL_BACKEND
    is refused before db_bootstrap (compose's migrate step) touches the database."""
    check = _manage(PROD, "check", "--deploy")
    assert check.returncode != 0 and "credex.E002" in check.stderr
    bootstrap = _manage(PROD, "db_bootstrap")
    assert bootstrap.returncode != 0 and "credex.E002" in bootstrap.stderr
    assert "Database ready" not in bootstrap.stdout

    smtp = _manage({**PROD, "EMAIL_BACKEND": SMTP}, "check", "--deploy")
    assert "credex.E002" not in smtp.stderr
