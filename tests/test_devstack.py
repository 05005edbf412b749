"""`make run`'s supervisor (credex/devstack.py) with real child processes.

A killed child is started again, a crash loop stops the stack with a clear message, demo
seeding is decided against the real database, and Ctrl-C lets a slow request in flight on
the devstack's own gunicorn command finish (and says on the console what it waits for).
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from credex import devstack
from credex.gunicorn_conf import safe_path
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent
SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def test_a_killed_child_is_started_again_and_the_others_keep_running():
    out = io.StringIO()
    worker = devstack.Child("worker", SLEEPER)
    web = devstack.Child("web", SLEEPER)
    supervisor = devstack.Supervisor([web, worker], backoff=(0.05,), out=out)
    supervisor.start()
    try:
        first_pid, web_pid = worker.process.pid, web.process.pid
        os.kill(first_pid, signal.SIGKILL)

        def restarted():
            assert supervisor.poll()
            return worker.process.pid != first_pid and worker.process.poll() is None

        wait_for(restarted, what="the worker to be restarted")
        assert web.process.pid == web_pid and web.process.poll() is None
        assert "worker exited (code -9); restarting in 0.05 s" in out.getvalue()
        assert "worker: restarted" in out.getvalue()
        assert supervisor.failure is None
    finally:
        supervisor.stop()
    assert worker.process.poll() is not None and web.process.poll() is not None


def test_a_child_that_keeps_crashing_stops_the_stack_with_a_clear_message():
    out = io.StringIO()
    crasher = devstack.Child("beat", [sys.executable, "-c", "import sys; sys.exit(3)"])
    steady = devstack.Child("web", SLEEPER)
    supervisor = devstack.Supervisor(
        [steady, crasher], max_crashes=3, window=60, backoff=(0.01,), out=out
    )
    supervisor.start()
    try:
        assert supervisor.run(interval=0.02) == 1
    finally:
        supervisor.stop()
    message = "beat exited 3 times within 60 s (last exit code 3); it keeps crashing"
    assert message in supervisor.failure and message in out.getvalue()
    assert out.getvalue().count("beat exited (code 3); restarting") == 2
    assert steady.process.poll() is not None  # stopped with the rest


def test_demo_seeding_runs_on_a_fresh_database_or_when_asked_only(db):
    from credex.services import organization_create
    from demo.management.commands.seed_demo import ORGS
    from tests.conftest import make_user

    assert devstack.demo_seed_needed() is True
    *first, (last_name, last_slug, _) = ORGS
    for n, (name, slug, _) in enumerate(first):
        organization_create(name=name, owner=make_user(f"o{n}@seed.example"), slug=slug)
    assert devstack.demo_seed_needed() is True  # an interrupted first seeding
    organization_create(name=last_name, owner=make_user("last@seed.example"), slug=last_slug)
    assert devstack.demo_seed_needed() is False
    assert devstack.demo_seed_needed(requested=True) is True


def test_make_run_passes_seed_to_the_devstack_only_when_asked():
    def run_line(*args):
        result = subprocess.run(
            ["make", "-n", "run", *args], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return [line for line in result.stdout.splitlines() if "credex.devstack" in line][0]

    assert "--seed" not in run_line()
    assert run_line("SEED=1").rstrip().endswith("-m credex.devstack --seed")


def test_the_web_server_gets_more_time_to_finish_than_a_request_may_take():
    child = devstack.web_child(8000)
    argv = child.argv
    graceful = int(argv[argv.index("--graceful-timeout") + 1])
    request = int(argv[argv.index("--timeout") + 1])
    assert graceful > request
    assert child.stop_timeout > graceful  # the supervisor does not kill it first
    assert argv[argv.index("--config") + 1] == "python:credex.gunicorn_conf"


def test_console_paths_carry_no_query_string_and_no_link_token():
    assert safe_path("/o/acme/providers/?q=smith") == "/o/acme/providers/"
    assert safe_path("/u/eyJ0b2tlbi.sig/upload") == "/u/…/upload"
    assert safe_path("/invitations/abc123/") == "/invitations/…/"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def slow_stack(tmp_path):
    """The devstack supervisor with only the web child, serving tests/devstack_apps.py."""
    started = []

    def start(graceful_timeout: int):
        port = _free_port()
        code = (
            "import sys; from credex import devstack; "
            f"child = devstack.web_child({port}, app='tests.devstack_apps:slow', workers=1, "
            f"graceful_timeout={graceful_timeout}); "
            "sys.exit(devstack.supervise(devstack.Supervisor([child])))"
        )
        log = (tmp_path / "console.log").open("w")
        # Its own process group, like a terminal's foreground job: the test's SIGINT to the
        # group is what Ctrl-C sends.
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, "CREDEX_TEST_SLOW_DIR": str(tmp_path)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(proc)
        base = f"http://127.0.0.1:{port}"

        def up():
            try:
                return urllib.request.urlopen(f"{base}/ok", timeout=2).status == 200  # noqa: S310
            except OSError:
                return False

        wait_for(up, what="gunicorn to answer")
        return proc, base, tmp_path / "console.log"

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _request_in_background(url):
    result = {}

    def fetch():
        try:
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (loopback)
                result["status"], result["body"] = response.status, response.read()
        except Exception as exc:  # the cut-off test expects the connection to drop
            result["error"] = exc

    thread = threading.Thread(target=fetch)
    thread.start()
    return thread, result


def test_ctrl_c_lets_a_slow_request_in_flight_finish_and_says_what_it_waits_for(slow_stack):
    proc, base, log = slow_stack(graceful_timeout=40)
    folder = log.parent
    thread, result = _request_in_background(f"{base}/slow?token=secret")
    wait_for((folder / "started").exists, what="the slow request to start")

    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal
    wait_for(
        lambda: "finishing 1 request(s) in flight" in log.read_text(),
        what="the console to name the request in flight",
    )
    (folder / "release").touch()
    thread.join(timeout=30)

    assert result.get("status") == 200 and result.get("body") == b"finished", result
    assert proc.wait(timeout=30) == 0
    console = log.read_text()
    assert "GET /slow (running" in console and "secret" not in console
    assert "the requests in flight have finished" in console
    assert "SIGKILL" not in console and "interrupted" not in console


def test_a_request_still_running_when_the_grace_period_ends_is_named_as_interrupted(
    slow_stack,
):
    proc, base, log = slow_stack(graceful_timeout=1)
    folder = log.parent
    thread, result = _request_in_background(f"{base}/slow")
    wait_for((folder / "started").exists, what="the slow request to start")

    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    thread.join(timeout=30)
    (folder / "release").touch()
    assert "still running after 1 s, interrupted now: GET /slow" in log.read_text()
    assert "status" not in result  # it was cut off, not answered
