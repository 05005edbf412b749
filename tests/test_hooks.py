"""The hook-point registry: order, once-only registration, answers collected, errors propagate."""

import pytest

from credex.hooks import HookPoint


def test_receivers_run_in_registration_order_and_register_once():
    hook: HookPoint = HookPoint("test.ordered")
    calls = []

    def first(value):
        calls.append(("first", value))
        return 1

    def second(value):
        calls.append(("second", value))
        return 2

    hook.register(first)
    hook.register(second)
    hook.register(first)  # again: no-op
    hook.run("x")
    assert calls == [("first", "x"), ("second", "x")]
    assert hook.collect("y") == [1, 2]
    assert hook.receivers == (first, second)
    hook.unregister(first)
    assert hook.collect("z") == [2]


def test_a_failing_receiver_propagates():
    hook: HookPoint = HookPoint("test.failing")

    @hook.register
    def boom():
        raise ValueError("no")

    with pytest.raises(ValueError):
        hook.run()
