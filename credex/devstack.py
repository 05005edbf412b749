"""`make run`: the embedded stack with demo data, web server, Celery worker and beat.

- A child that exits (a crash, a kill) is started again after a short backoff; the stack
  stops only when one child keeps crashing (MAX_CRASHES within CRASH_WINDOW seconds).
- Demo data is loaded only when the demo organizations are missing (a fresh database), or
  when asked: `make run SEED=1` (`python -m credex.devstack --seed`).
- Ctrl-C stops everything (children, Redis, Postgres). The children run in their own
  session, so the terminal's SIGINT reaches only this supervisor, which asks each child to
  stop gracefully: the web server lets the requests in flight finish for GRACEFUL_TIMEOUT
  seconds (above its request timeout) and says on the console what it waits for and what
  it cuts off. A second Ctrl-C stops at once.
- A second run reuses the data folder.
"""

from __future__ import annotations

import argparse
import collections
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

BANNER = """
  CredEx is running at  {url}

  Demo logins (password for all: {password})
    owner        owner@riverbend.example
    admin        admin@riverbend.example
    coordinator  coordinator@riverbend.example
    auditor      auditor@riverbend.example
    independent coordinator (two organizations): ivy@independent.example
    Lakeside Medical Group (exchange buyer): owner@lakeside.example, coordinator@lakeside.example
    exchange operator (platform staff, /operator/exchange/): operator@credex.example

  API docs {url}/api/docs/   health {url}/healthz
  E-mails (invitations, password resets) are printed in this console.
  Ctrl-C stops everything.
"""

# gunicorn: a worker silent for REQUEST_TIMEOUT seconds is restarted; on shutdown the
# requests in flight get GRACEFUL_TIMEOUT seconds, more than the slowest page may take.
REQUEST_TIMEOUT = 30
GRACEFUL_TIMEOUT = 40
# A child that crashes MAX_CRASHES times within CRASH_WINDOW seconds stops the stack.
MAX_CRASHES = 5
CRASH_WINDOW = 60.0
BACKOFF = (1.0, 2.0, 4.0, 8.0)  # seconds before the 1st, 2nd, 3rd, later restart


@dataclass
class Child:
    """One process of the stack, restarted when it exits on its own."""

    name: str
    argv: list[str]
    stop_timeout: float = 20.0  # after SIGTERM, before SIGKILL
    stopping_note: str = ""
    process: subprocess.Popen | None = None
    crashes: collections.deque = field(default_factory=collections.deque)
    restart_at: float | None = None


def _die_with_parent() -> None:
    """In the child, before exec: its own session, and SIGTERM if the supervisor dies."""
    os.setsid()
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class Supervisor:
    """Starts the children, restarts one that exits, and stops them all on request."""

    def __init__(
        self,
        children: list[Child],
        *,
        max_crashes: int = MAX_CRASHES,
        window: float = CRASH_WINDOW,
        backoff: tuple[float, ...] = BACKOFF,
        out=None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.children = children
        self.max_crashes = max_crashes
        self.window = window
        self.backoff = backoff
        self.out = out or sys.stderr
        self.clock = clock
        self.failure: str | None = None
        self.stop_requested = False
        self.force = False

    def say(self, message: str) -> None:
        print(message, file=self.out, flush=True)

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        child.process = subprocess.Popen(child.argv, preexec_fn=_die_with_parent)  # noqa: PLW1509
        child.restart_at = None

    def poll(self) -> bool:
        """One look at every child; False once the stack must stop (a crash loop)."""
        now = self.clock()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self._spawn(child)
                    self.say(f"{child.name}: restarted (pid {child.process.pid}).")
                continue
            code = child.process.poll()
            if code is None:
                continue
            child.crashes.append(now)
            while child.crashes and now - child.crashes[0] > self.window:
                child.crashes.popleft()
            count = len(child.crashes)
            if count >= self.max_crashes:
                self.failure = (
                    f"{child.name} exited {count} times within {self.window:.0f} s "
                    f"(last exit code {code}); it keeps crashing, so the stack stops. "
                    "Its output above says why."
                )
                return False
            delay = self.backoff[min(count - 1, len(self.backoff) - 1)]
            child.restart_at = now + delay
            self.say(
                f"{child.name} exited (code {code}); restarting in {delay:g} s "
                f"({count} of {self.max_crashes} crashes allowed within {self.window:.0f} s)."
            )
        return True

    def run(self, interval: float = 0.2) -> int:
        """Supervise until a stop is requested (0) or a child keeps crashing (1)."""
        while not self.stop_requested:
            if not self.poll():
                self.say(self.failure)
                return 1
            time.sleep(interval)
        return 0

    def request_stop(self, *_) -> None:
        """Signal handler: the first Ctrl-C stops gracefully, a second one at once."""
        if self.stop_requested:
            self.force = True
            self.say("Second Ctrl-C: stopping now.")
        self.stop_requested = True

    def stop(self) -> None:
        """SIGTERM to every running child, then wait for each (SIGKILL after its timeout)."""
        running = [c for c in self.children if c.process and c.process.poll() is None]
        if running:
            notes = ", ".join(
                c.name + (f" ({c.stopping_note})" if c.stopping_note else "") for c in running
            )
            self.say(f"\nStopping {notes}...")
        for child in running:
            child.process.send_signal(signal.SIGTERM)
        for child in running:
            deadline = self.clock() + child.stop_timeout
            while child.process.poll() is None and self.clock() < deadline and not self.force:
                time.sleep(0.1)
            if child.process.poll() is None:
                child.process.kill()
                child.process.wait()
                if not self.force:
                    self.say(f"{child.name}: still running after {child.stop_timeout:g} s; killed.")


def supervise(supervisor: Supervisor, *, on_ready: Callable[[], None] | None = None) -> int:
    """Run the children until Ctrl-C/SIGTERM or a crash loop; always stop them."""
    # SIGHUP: the terminal was closed; stop the children as gracefully as for Ctrl-C.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, supervisor.request_stop)
    supervisor.start()
    try:
        if on_ready:
            on_ready()
        return supervisor.run()
    finally:
        supervisor.stop()


def web_child(
    port: str | int,
    *,
    app: str = "credex.wsgi:application",
    workers: int = 2,
    graceful_timeout: int = GRACEFUL_TIMEOUT,
    request_timeout: int = REQUEST_TIMEOUT,
) -> Child:
    """gunicorn; its graceful timeout is above the request timeout, and the supervisor
    waits a little longer than that before it kills the master."""
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--config",
        "python:credex.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        "4",
        "--timeout",
        str(request_timeout),
        "--graceful-timeout",
        str(graceful_timeout),
        "--log-level",
        "warning",
    ]
    return Child(
        "web",
        argv,
        stop_timeout=graceful_timeout + 5,
        stopping_note=f"requests in flight get up to {graceful_timeout} s",
    )


def stack_children(port: str | int) -> list[Child]:
    python = sys.executable
    celery = [python, "-m", "celery", "--quiet", "-A", "credex"]
    return [
        web_child(port),
        # Celery's warm shutdown finishes the running tasks; a task cut off by the kill is
        # delivered again (acks late).
        Child(
            "worker",
            [*celery, "worker", "--loglevel", "warning", "--concurrency", "2"],
            stop_timeout=30,
            stopping_note="running tasks get up to 30 s",
        ),
        Child("beat", [*celery, "beat", "--loglevel", "warning"], stop_timeout=10),
    ]


def seed_demo_command():
    """The `seed_demo` command, found by name as call_command finds it: the demo app sits on
    top of every other, so platform code does not import it."""
    from django.core.management import get_commands, load_command_class

    return load_command_class(get_commands()["seed_demo"], "seed_demo")


def demo_seed_needed(*, requested: bool = False) -> bool:
    """Seed when asked, or when the demo organizations are not in the database yet."""
    if requested:
        return True
    from credex.models import Organization

    slugs = {slug for _, slug, _ in seed_demo_command().orgs}
    return Organization.objects.filter(slug__in=slugs).count() < len(slugs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m credex.devstack")
    parser.add_argument(
        "--seed", action="store_true", help="(re)load the demo data even if it is there"
    )
    args = parser.parse_args(argv)
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
    if demo_seed_needed(requested=args.seed):
        call_command("seed_demo")
    else:
        print("Demo data found; not reloading it (make run SEED=1 reloads it).", flush=True)
    os.environ["CREDEX_PG_SOCKET_DIR"] = embedded.postgres_socket_dir()
    from django.db import connections

    connections.close_all()
    supervisor = Supervisor(stack_children(port))

    def ready():
        if not _wait_for(url, give_up=lambda: supervisor.stop_requested):
            if supervisor.stop_requested:
                return
            print(f"The web server does not answer at {url} yet; see the output above.")
        print(BANNER.format(url=url, password=seed_demo_command().password), flush=True)
        print(f"  (ready in {time.monotonic() - started:.1f} s)", flush=True)

    try:
        code = supervise(supervisor, on_ready=ready)
    finally:
        connections.close_all()
        from django.conf import settings

        if not os.environ.get("REDIS_URL"):
            embedded.stop_redis()
        if settings.EMBEDDED:
            embedded.stop_postgres()
        print("Stopped. Data kept in .data/ (make clean-data removes it).", flush=True)
    return code


def _wait_for(url: str, *, give_up: Callable[[], bool]) -> bool:
    """True once the web server answers (any status: /healthz says 503 if Redis is down)."""
    import urllib.error
    import urllib.request

    for _ in range(150):
        if give_up():
            return False
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)  # noqa: S310 (loopback)
            return True
        except urllib.error.HTTPError:
            return True
        except Exception:
            time.sleep(0.2)
    return False


if __name__ == "__main__":
    sys.exit(main())
