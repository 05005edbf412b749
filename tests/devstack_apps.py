"""Tiny WSGI apps that tests/test_devstack.py serves with the devstack's own gunicorn command.

`slow` answers /slow only once the test creates the file `release` in CREDEX_TEST_SLOW_DIR
(it creates `started` when the request arrives), so a test can hold a request in flight
while it presses Ctrl-C, without timing anything. Every other path answers at once.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def slow(environ, start_response):
    folder = Path(os.environ["CREDEX_TEST_SLOW_DIR"])
    body = b"ok"
    if environ["PATH_INFO"] == "/slow":
        (folder / "started").touch()
        for _ in range(1200):  # at most a minute: a broken test must not hang the suite
            if (folder / "release").exists():
                break
            time.sleep(0.05)
        body = b"finished"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
