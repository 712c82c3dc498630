"""Full garbage collections are held while decision tasks are decided, and given back."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Iterator
from typing import Any

import pytest

from aioswf._pollers._collector import COLLECTOR_HOLD, CollectorHold


@pytest.fixture(autouse=True)
def thresholds() -> Iterator[tuple[int, int, int]]:
    found = gc.get_threshold()
    yield found
    gc.set_threshold(*found)
    gc.enable()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def full_collections_during(hold: CollectorHold | None, objects: int = 400_000) -> int:
    """Full collections the collector made by itself while ``objects`` lists piled up."""
    seen = 0

    def count(phase: str, info: dict[str, Any]) -> None:
        nonlocal seen
        if phase == "start" and info["generation"] == 2:
            seen += 1

    async def pile_up() -> None:
        # Alive all at once, as the events and tasks of a long replay are.
        alive = [[n] for n in range(objects)]
        del alive

    async def main() -> None:
        if hold is None:
            await pile_up()
        else:
            with hold.held():
                await pile_up()

    gc.collect()
    gc.callbacks.append(count)
    try:
        asyncio.run(main())
    finally:
        gc.callbacks.remove(count)
    return seen


def test_no_full_collection_runs_while_held() -> None:
    assert full_collections_during(None) >= 1  # what the hold prevents
    assert full_collections_during(CollectorHold()) == 0


async def test_the_thresholds_are_given_back_after_the_last_holder(
    thresholds: tuple[int, int, int],
) -> None:
    hold = CollectorHold()
    with hold.held():
        assert hold.holding
        assert gc.get_threshold()[:2] == thresholds[:2]  # young collections run as before
        assert gc.get_threshold()[2] > 1_000_000
        with hold.held():
            pass
        assert hold.holding  # the first holder still holds
    assert not hold.holding
    assert gc.get_threshold() == thresholds


async def test_thresholds_set_by_the_process_meanwhile_stand() -> None:
    hold = CollectorHold()
    with hold.held():
        gc.set_threshold(5000, 20, 20)
    assert gc.get_threshold() == (5000, 20, 20)


async def test_a_disabled_collector_is_left_alone(thresholds: tuple[int, int, int]) -> None:
    gc.disable()
    hold = CollectorHold()
    with hold.held():
        assert not hold.holding
        assert gc.get_threshold() == thresholds
    assert not gc.isenabled()


async def test_a_hold_that_lasted_its_longest_lets_one_full_collection_through(
    thresholds: tuple[int, int, int],
) -> None:
    clock = Clock()
    hold = CollectorHold(longest=10.0, clock=clock)
    with hold.held():
        clock.now = 9.0
        hold.check()
        assert hold.holding
        clock.now = 10.5
        hold.check()
        assert not hold.holding
        assert gc.get_threshold() == thresholds
        with hold.held():  # a new holder does not hold before a full collection has run
            assert not hold.holding
        gc.collect()
        with hold.held():  # one has: the hold resumes
            assert hold.holding
        assert hold.holding  # for as long as a holder is left
    assert not hold.holding
    assert gc.get_threshold() == thresholds


async def test_the_event_loop_checks_the_length_of_a_hold() -> None:
    hold = CollectorHold(longest=0.05)
    with hold.held():
        assert hold.holding
        await asyncio.sleep(0.3)
        assert not hold.holding


def thresholds_in_a_forked_child() -> str:
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: no holder of the parent's runs here
        os.write(write, repr(gc.get_threshold()).encode())
        os._exit(0)
    os.close(write)
    seen = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(child, 0)
    return seen


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
async def test_a_forked_child_gets_its_thresholds_back(thresholds: tuple[int, int, int]) -> None:
    with COLLECTOR_HOLD.held():
        seen = thresholds_in_a_forked_child()
        assert COLLECTOR_HOLD.holding  # the parent still holds
    assert seen == repr(thresholds)


class CountingLoop(asyncio.SelectorEventLoop):
    """Counts the timers scheduled on it."""

    timers = 0

    def call_at(self, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        self.timers += 1
        return super().call_at(*args, **kwargs)


def test_many_holders_on_one_loop_share_one_timer() -> None:
    hold = CollectorHold(longest=60.0)

    async def decide() -> None:
        with hold.held():
            await asyncio.sleep(0.01)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, CountingLoop)
        before = loop.timers
        await asyncio.gather(*(decide() for _ in range(50)))
        return loop.timers - before - 50  # each decide's own sleep is a timer too

    with asyncio.Runner(loop_factory=CountingLoop) as runner:
        assert runner.run(main()) == 1
    assert not hold.holding


async def test_the_length_is_checked_for_holders_who_stay_after_the_first_leaves() -> None:
    hold = CollectorHold(longest=0.1)
    first, second = hold.held(), hold.held()
    first.__enter__()  # the hold begins with the first holder, which sets the loop's timer
    second.__enter__()
    first.__exit__(None, None, None)
    assert hold.holding
    await asyncio.sleep(0.4)
    assert not hold.holding  # the loop's timer went on for the holder who stayed
    second.__exit__(None, None, None)


async def test_a_hold_resumed_after_its_break_is_checked_again() -> None:
    clock = Clock()
    hold = CollectorHold(longest=0.05, clock=clock)
    with hold.held():
        clock.now = 1.0
        await asyncio.sleep(0.2)  # the loop's check ends the hold: it lasted its longest
        assert not hold.holding
        gc.collect()  # the full collection it let through
        with hold.held():  # resumes, from now
            assert hold.holding
            clock.now = 2.0
            await asyncio.sleep(0.2)
            assert not hold.holding
