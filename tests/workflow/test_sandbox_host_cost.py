"""The guards' fast path for the host: while no workflow step runs anywhere, a guarded call
goes straight to the function; while one runs on any thread, that thread is still refused,
however steps start and stop on other threads meanwhile."""

from __future__ import annotations

import threading
import time

import pytest

from aioswf import NondeterminismError
from aioswf._sandbox import core


def test_the_guards_are_looked_at_only_while_a_step_runs() -> None:
    core.install()
    assert not core.any_guarding()
    time.monotonic()  # the host's own call: no step runs
    with core.guarding("run A"):
        assert core.any_guarding()
        with pytest.raises(NondeterminismError, match=r"run A: time\.monotonic\(\)"):
            time.monotonic()
        # A nested step gives its run back on leaving.
        with core.guarding("run B"), pytest.raises(NondeterminismError, match="run B"):
            time.time()
        with pytest.raises(NondeterminismError, match="run A"):
            time.perf_counter()
    assert not core.any_guarding()
    time.monotonic()


def test_steps_on_other_threads_do_not_lift_a_threads_guards() -> None:
    core.install()
    stop = threading.Event()

    def steps() -> None:
        while not stop.is_set():
            outer = core.start_guarding("another run")
            core.stop_guarding(outer)

    others = [threading.Thread(target=steps) for _ in range(4)]
    for other in others:
        other.start()
    try:
        with core.guarding("run A"):
            for _ in range(2000):
                with pytest.raises(NondeterminismError, match="run A"):
                    time.monotonic()
        time.monotonic()  # this thread's own calls, outside its step, pass
    finally:
        stop.set()
        for other in others:
            other.join()
    assert not core.any_guarding()


def test_a_clock_guard_keeps_the_clocks_signature() -> None:
    core.install()
    with pytest.raises(TypeError):
        time.monotonic(1)  # type: ignore[call-arg]
    assert time.clock_gettime(time.CLOCK_MONOTONIC) > 0  # the clocks that take arguments
