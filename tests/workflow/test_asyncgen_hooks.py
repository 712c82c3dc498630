"""Async generators of workflow code are finalised on the run's loop, in workflow time, and
the thread's own async generator hooks are left as they were: a thread without hooks (a
workflow thread) has none after an activation, one with hooks (a host loop's) has them back
after every step, and runs that take turns on one thread each finalise their own."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from aioswf import workflow
from aioswf._decider.loop import WorkflowLoop
from tests.workflow.histories import Simulation


async def _ticks(record: list[str]) -> AsyncIterator[int]:
    try:
        for i in range(5):
            yield i
    finally:
        record.append(f"finalised at {workflow.now().timestamp():.0f}")


@workflow.defn(name="AbandonsGenerators")
class AbandonsGenerators:
    @workflow.run
    async def run(self) -> list[str]:
        record: list[str] = []
        for _ in range(3):  # one abandoned generator per decision task
            async for i in _ticks(record):
                if i == 1:
                    break
            await asyncio.sleep(0)  # the loop runs the generator's aclose()
            await asyncio.sleep(0)
            await asyncio.sleep(60)
        return record


def _result(decisions: list[dict[str, Any]]) -> Any:
    (decision,) = decisions
    assert decision["decisionType"] == "CompleteWorkflowExecution"
    return json.loads(decision["completeWorkflowExecutionDecisionAttributes"]["result"])


def _run_to_the_end(sim: Simulation) -> list[str]:
    """Decide every task of the run, a timer firing between two."""
    for timer in ("1", "2", "3"):
        sim.decide()
        sim.history.advance(60)
        sim.history.timer_fired(timer)
    result: list[str] = _result(sim.decide())
    return result


def _on_a_thread(work: Callable[[], Any]) -> Any:
    """``work()`` on a new thread, whose async generator hooks are reported with its result."""
    answer: list[Any] = []

    def target() -> None:
        before = tuple(sys.get_asyncgen_hooks())
        result = work()
        answer.extend([before, result, tuple(sys.get_asyncgen_hooks())])

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    assert len(answer) == 3, "the work failed on its thread"
    return answer


@pytest.mark.parametrize("cache", [True, False], ids=["cached", "replayed"])
def test_a_thread_without_hooks_has_none_after_an_activation(cache: bool) -> None:
    sim = Simulation(AbandonsGenerators, cache=cache)
    start = sim.history.events[0]["eventTimestamp"].timestamp()
    before, record, after = _on_a_thread(lambda: _run_to_the_end(sim))
    assert before == after == (None, None)
    assert record == [f"finalised at {start + 60 * n:.0f}" for n in range(3)]


def test_a_thread_with_hooks_has_them_back_after_every_step() -> None:
    called: list[str] = []

    def firstiter(agen: Any) -> None:
        called.append("firstiter")

    def finalizer(agen: Any) -> None:
        called.append("finalizer")

    def work() -> list[str]:
        sim = Simulation(AbandonsGenerators, cache=False)  # replays: many steps per task
        sys.set_asyncgen_hooks(firstiter, finalizer)
        try:
            return _run_to_the_end(sim)
        finally:
            hooks = tuple(sys.get_asyncgen_hooks())
            sys.set_asyncgen_hooks(None, None)
            assert hooks == (firstiter, finalizer)

    _, record, _ = _on_a_thread(work)
    assert len(record) == 3
    assert called == []  # the workflow's generators never reached the thread's hooks


async def test_the_host_loop_keeps_its_hooks_around_inline_steps() -> None:
    hooks = tuple(sys.get_asyncgen_hooks())
    assert hooks[0] is not None  # the host loop's
    sim = Simulation(AbandonsGenerators, cache=False)
    record = _run_to_the_end(sim)
    assert len(record) == 3
    assert tuple(sys.get_asyncgen_hooks()) == hooks


def test_runs_taking_turns_on_one_thread_each_finalise_their_own() -> None:
    first, second = Simulation(AbandonsGenerators), Simulation(AbandonsGenerators)

    def work() -> tuple[list[str], list[str]]:
        for timer in ("1", "2", "3"):
            for sim in (first, second):
                sim.decide()
                sim.history.advance(60 if sim is first else 120)
                sim.history.timer_fired(timer)
        return _result(first.decide()), _result(second.decide())

    before, (one, two), after = _on_a_thread(work)
    assert before == after == (None, None)
    start_one = first.history.events[0]["eventTimestamp"].timestamp()
    start_two = second.history.events[0]["eventTimestamp"].timestamp()
    assert one == [f"finalised at {start_one + 60 * n:.0f}" for n in range(3)]
    assert two == [f"finalised at {start_two + 120 * n:.0f}" for n in range(3)]


class _NoTimers:
    def start_timer(self, handle: Any, delay: float) -> None:
        raise AssertionError("no timer expected")

    def cancel_timer(self, handle: Any) -> None:
        raise AssertionError("no timer expected")


def test_a_step_inside_another_runs_step_gives_it_its_hooks_back() -> None:
    def work() -> list[bool]:
        outer = WorkflowLoop(_NoTimers(), "outer", sandboxed=False)
        inner = WorkflowLoop(_NoTimers(), "inner", sandboxed=False)
        seen = []
        with outer.stepping():
            outer_hooks = tuple(sys.get_asyncgen_hooks())
            with inner.stepping():
                seen.append(tuple(sys.get_asyncgen_hooks()) != outer_hooks)
            seen.append(tuple(sys.get_asyncgen_hooks()) == outer_hooks)
        outer.close()
        inner.close()
        return seen

    before, seen, after = _on_a_thread(work)
    assert seen == [True, True]
    assert before == after == (None, None)
