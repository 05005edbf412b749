"""Gunicorn hooks for `make run` (credex/devstack.py): say what a shutdown waits for.

On SIGTERM a gthread worker stops accepting and lets the requests in flight finish for up
to `graceful_timeout` seconds; the master then SIGKILLs it ("Worker ... was sent SIGKILL!
Perhaps out of memory?"). These hooks keep a per-worker list of the requests in flight and,
at shutdown, print which ones the stop is waiting for, and which ones it is about to cut
off. Paths are printed without their query string, and the capability-link paths (their
token is the credential) without the token. Imports nothing of Django.
"""

from __future__ import annotations

import re
import signal
import sys
import threading
import time

# Signed links carry their token in the path: /u/<token>/..., /p/<token>/..., /r/<token>/...,
# /invitations/<token>/.
_TOKEN_PATH = re.compile(r"^/(u|p|r|invitations)/[^/]+")


def safe_path(path: str) -> str:
    """The request path fit for the console: no query string, no link token."""
    path = path.split("?", 1)[0]
    return _TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/…", path)


def _describe(inflight: dict) -> str:
    now = time.monotonic()
    return ", ".join(
        f"{method} {path} (running {now - started:.0f} s)"
        for method, path, started in list(inflight.values())
    )


def _say(worker, message: str) -> None:
    print(f"web[{worker.pid}]: {message}", file=sys.stderr, flush=True)


def pre_request(worker, req):
    worker.credex_inflight[id(req)] = (req.method, safe_path(req.path), time.monotonic())


def post_request(worker, req, environ, resp):
    worker.credex_inflight.pop(id(req), None)
    if not worker.alive and not worker.credex_inflight and not worker.credex_drained:
        worker.credex_drained = True
        _say(worker, "the requests in flight have finished.")


def post_worker_init(worker):
    worker.credex_inflight = {}
    worker.credex_drained = False
    original = worker.handle_exit
    grace = worker.cfg.graceful_timeout

    def report_cut_off():
        if worker.credex_inflight:
            _say(
                worker,
                f"still running after {grace:.0f} s, interrupted now: "
                f"{_describe(worker.credex_inflight)}",
            )

    def handle_exit(sig, frame):
        if worker.alive and worker.credex_inflight:
            _say(
                worker,
                f"stopping; finishing {len(worker.credex_inflight)} request(s) in flight "
                f"(up to {grace:.0f} s): {_describe(worker.credex_inflight)}",
            )
            # Just before the master's SIGKILL (it counts from the same moment).
            timer = threading.Timer(max(grace - 0.5, 0.1), report_cut_off)
            timer.daemon = True
            timer.start()
        original(sig, frame)

    # init_signals() registered the bound method before this hook runs: register again.
    signal.signal(signal.SIGTERM, handle_exit)
