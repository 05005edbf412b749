"""`make run`: the embedded stack with demo data, web server, Celery worker and beat.

Ctrl-C stops everything (children, Redis, Postgres); a second run reuses the data folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

BANNER = """
  CredEx is running at  {url}

  Demo logins (password for all: {password})
    owner        owner@riverbend.example
    admin        admin@riverbend.example
    coordinator  coordinator@riverbend.example
    auditor      auditor@riverbend.example
    independent coordinator (two organizations): ivy@independent.example

  API docs {url}/api/docs/   health {url}/healthz
  E-mails (invitations, password resets) are printed in this console.
  Ctrl-C stops everything.
"""


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credex.settings")
    port = os.environ.get("PORT", "8000")
    url = f"http://127.0.0.1:{port}"
    os.environ.setdefault("CREDEX_SITE_URL", url)
    started = time.monotonic()
    import django

    django.setup()  # starts (or finds) the embedded Postgres and Redis
    from django.core.management import call_command

    from credex import embedded

    print("Preparing the database (first run takes a moment)...", flush=True)
    call_command("db_bootstrap", verbosity=0)
    call_command("seed_demo")
    python = sys.executable
    os.environ["CREDEX_PG_SOCKET_DIR"] = embedded.postgres_socket_dir()
    children = [
        subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "credex.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
            ]
        ),
        subprocess.Popen(
            [
                python,
                "-m",
                "celery",
                "--quiet",
                "-A",
                "credex",
                "worker",
                "--loglevel",
                "warning",
                "--concurrency",
                "2",
            ]
        ),
        subprocess.Popen(
            [python, "-m", "celery", "--quiet", "-A", "credex", "beat", "--loglevel", "warning"]
        ),
    ]
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        _wait_for(url)
        from credex.management.commands.seed_demo import PASSWORD

        print(BANNER.format(url=url, password=PASSWORD), flush=True)
        print(f"  (ready in {time.monotonic() - started:.1f} s)", flush=True)
        while not stopping:
            if any(child.poll() is not None for child in children):
                print("A process of the stack exited; stopping.", file=sys.stderr)
                break
            time.sleep(0.5)
    finally:
        print("\nStopping web, worker, beat...", flush=True)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        from django.db import connections

        connections.close_all()
        from django.conf import settings

        if not os.environ.get("REDIS_URL"):
            embedded.stop_redis()
        if settings.EMBEDDED:
            embedded.stop_postgres()
        print("Stopped. Data kept in .data/ (make clean-data removes it).", flush=True)
    return 0


def _wait_for(url: str) -> None:
    import urllib.request

    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)  # noqa: S310 (loopback)
            return
        except Exception:
            time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
