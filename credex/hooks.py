"""Hook points: how an upstream app lets downstream apps react without importing them.

An app that must let others react to something it did (a document arrived, an exclusion was
confirmed, a member was removed) declares a `HookPoint` in its own `hooks.py`, documented where
it is declared: what it passes, in which transaction it runs, what a receiver may do.
Downstream apps register receivers in their `AppConfig.ready()`:

    from roster import hooks as roster_hooks
    roster_hooks.document_received.register(_on_document_received)

The upstream service calls `hook.run(...)` (every receiver, for side effects) or
`hook.collect(...)` (every receiver's answer, in registration order). Receivers run
synchronously, inside the caller's transaction: they write through their own app's services,
audit in that transaction, and enqueue work with `transaction.on_commit`. An exception in a
receiver propagates and rolls the caller back: a hook is part of the action, not a
notification. Not Django signals: the registry is typed, explicit and ordered, and a hook with
no receivers is a visible, testable state.
"""

from __future__ import annotations

from collections.abc import Callable


class HookPoint[**P, R]:
    """A named, typed registry of receivers `(*args: P) -> R`."""

    def __init__(self, name: str, doc: str = "") -> None:
        self.name = name
        self.__doc__ = doc
        self._receivers: list[Callable[P, R]] = []

    def register(self, receiver: Callable[P, R]) -> Callable[P, R]:
        """Add `receiver` (once; registering the same callable again is a no-op, so a
        reloaded `ready()` does not double it). Usable as a decorator."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def unregister(self, receiver: Callable[P, R]) -> None:
        if receiver in self._receivers:
            self._receivers.remove(receiver)

    @property
    def receivers(self) -> tuple[Callable[P, R], ...]:
        return tuple(self._receivers)

    def run(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Call every receiver in registration order."""
        for receiver in self._receivers:
            receiver(*args, **kwargs)

    def collect(self, *args: P.args, **kwargs: P.kwargs) -> list[R]:
        """Call every receiver and return their answers in registration order."""
        return [receiver(*args, **kwargs) for receiver in self._receivers]

    def __repr__(self) -> str:
        return f"<HookPoint {self.name}: {len(self._receivers)} receiver(s)>"
