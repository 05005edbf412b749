"""Tests wait, they don't sleep: the one polling helper of the suite (issue 11, item 7).

A worker, a subprocess or a server thread commits or changes something on its own time; a
test polls for the state it expects with `wait_for` and fails with what it was waiting for.
A test never sleeps to prove that nothing happened: it asserts on what was published to the
queue (`published_tasks`, on a queue of the test's own: tests/conftest.py `own_queue`) or on
the database.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable


def wait_for[T](
    predicate: Callable[[], T],
    *,
    timeout: float = 60.0,
    interval: float = 0.1,
    what: str | Callable[[], str] = "the condition",
    alive: Callable[[], bool] | None = None,
) -> T:
    """Poll `predicate` until it returns something truthy, and return that.

    Fails (AssertionError naming `what`; a callable is asked for the text only then) after
    `timeout` seconds, or as soon as `alive()` is false: the process that should bring the
    state about has died, and waiting longer cannot help.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if alive is not None and not alive():
            raise AssertionError(f"gave up waiting for {_text(what)}: the process died")
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {_text(what)}")
        time.sleep(interval)


def _text(what: str | Callable[[], str]) -> str:
    return what() if callable(what) else what


@contextlib.contextmanager
def published_tasks(queue: str):
    """[(task name, kwargs)] of every task handed to the broker for `queue` meanwhile (Celery's
    after_task_publish, in this process, right after the broker took the message).

    A test asserts on this list instead of sleeping to see whether a task ran: the on-commit
    publish happens when the transaction commits, so right after it the list is complete.
    """
    from celery.signals import after_task_publish

    published: list[tuple[str, dict]] = []

    def record(sender=None, headers=None, body=None, routing_key=None, **_):
        if routing_key == queue:
            _args, kwargs, _embed = body
            published.append(((headers or {}).get("task", sender), kwargs))

    after_task_publish.connect(record, weak=False)
    try:
        yield published
    finally:
        after_task_publish.disconnect(record)
