"""The test session stops the embedded servers it started, and leaves alone those it found."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_EXTERNAL = {"DATABASE_URL", "REDIS_URL", "DATABASE_OWNER_URL", "CREDEX_PG_SOCKET_DIR"}

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="only the embedded default starts servers"
)


@pytest.fixture
def data_dir():
    # pgserver runs Postgres as an unprivileged user when the suite runs as root, so the
    # folder must be reachable for it (pytest's tmp_path is private to root).
    folder = Path(tempfile.mkdtemp(prefix="credex-session-"))
    folder.chmod(0o755)
    yield folder / "data"
    _stop_servers(folder / "data")
    shutil.rmtree(folder, ignore_errors=True)


def _env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _EXTERNAL}
    env["CREDEX_DATA_DIR"] = str(data_dir)
    return env


def _alive(pidfile: Path) -> bool:
    try:
        pid = int(pidfile.read_text().split("\n", 1)[0].strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def _run_one_test(data_dir: Path) -> subprocess.CompletedProcess:
    # A real, quick database test of the suite, in a session of its own.
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "tests/test_core.py::test_healthz_reports_database_and_broker_without_secrets",
        ],
        cwd=ROOT,
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=240,
    )


def _start_servers(data_dir: Path) -> None:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='credex.settings'; django.setup()"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(data_dir),
        check=True,
        capture_output=True,
        timeout=240,
    )


def _stop_servers(data_dir: Path) -> None:
    code = "from credex import embedded; embedded.stop_redis(); embedded.stop_postgres()"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(data_dir), timeout=120)


def test_a_test_session_stops_the_servers_it_started(data_dir):
    result = _run_one_test(data_dir)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert (data_dir / "postgres").is_dir(), "the session should have started its own Postgres"
    assert not _alive(data_dir / "postgres" / "postmaster.pid")
    assert not _alive(data_dir / "redis" / "redis.pid")


def test_a_test_session_leaves_running_the_servers_it_found(data_dir):
    _start_servers(data_dir)  # as `make run` would have
    assert _alive(data_dir / "postgres" / "postmaster.pid")
    result = _run_one_test(data_dir)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert _alive(data_dir / "postgres" / "postmaster.pid")
    assert _alive(data_dir / "redis" / "redis.pid")
