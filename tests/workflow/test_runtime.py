"""The runtime's rules: nondeterminism, eviction, forbidden operations, replay-quiet logging."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aioswf import NondeterminismError, workflow
from aioswf._decider import CacheMiss, InstanceOptions
from tests.workflow.histories import Simulation, attrs_of, kinds, retried
from tests.workflow.workflows import FanOut, Hello, greet


@workflow.defn(name="Hello", version="1")
class HelloChanged:
    @workflow.run
    async def run(self, name: str) -> str:
        await asyncio.sleep(5)
        return name


def test_changed_code_raises_nondeterminism_naming_both_sides() -> None:
    sim = Simulation(Hello, "ann", cache=False)
    sim.decide()
    sim.history.activity_completed("1", "hello ann")
    sim.definition = Simulation(HelloChanged).definition
    assert retried(sim.decide())
    error = sim.activations[-1].failure
    assert isinstance(error, NondeterminismError)
    message = str(error)
    assert "event 5 ActivityTaskScheduled (activityId='1', activityType=greet/1)" in message
    assert "StartTimer (timerId='1')" in message
    assert "decision task 3" in message


def test_nondeterminism_can_fail_the_execution() -> None:
    sim = Simulation(
        Hello, "ann", cache=False, options=InstanceOptions(fail_on_nondeterminism=True)
    )
    sim.decide()
    sim.definition = Simulation(HelloChanged).definition
    decisions = sim.decide()
    assert kinds(decisions) == ["FailWorkflowExecution"]
    assert attrs_of(decisions[0])["reason"] == "NondeterminismError"


def test_missing_decision_in_history_is_nondeterminism() -> None:
    sim = Simulation(Hello, "ann", cache=False)
    started = sim.history.start_decision_task()
    sim.history.complete_decision_task(started, [])
    assert retried(sim.decide())
    assert "history has no such decision" in str(sim.activations[-1].failure)


@workflow.defn
class Busy:
    def __init__(self) -> None:
        self.log: list[str] = []

    @workflow.run
    async def run(self) -> list[str]:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self.one(i)) for i in range(5)]
        done, pending = await workflow.wait(tasks)
        assert pending == []
        order = [str(t.result()) for t in done]
        for next_done in workflow.as_completed([self.one(9), self.one(8)]):
            order.append(str(await next_done))
        workflow.logger.info("finished %s", order)
        return [*order, workflow.uuid4().hex[:8], str(workflow.random().randint(0, 10**6))]

    async def one(self, i: int) -> int:
        await asyncio.sleep(0)
        return i


def test_asyncio_helpers_are_deterministic(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="aioswf.workflow")
    results = []
    for _ in range(2):
        sim = Simulation(Busy, cache=False)
        sim.run_id = "same-run"
        decisions = sim.decide()
        results.append(json.loads(attrs_of(decisions[0])["result"]))
        replaying = sim.new_instance()
        assert replaying.run_to_completion(sim.history.events, None).failure is None
        replaying.close()
    assert results[0] == results[1]
    assert results[0][:7] == ["0", "1", "2", "3", "4", "9", "8"]
    # Logged when the code first ran, not again on replay.
    assert caplog.text.count("finished") == 2


@workflow.defn
class Forbidden:
    @workflow.run
    async def run(self, what: str) -> None:
        if what == "thread":
            await asyncio.to_thread(print, "no")
        else:
            await asyncio.open_connection("127.0.0.1", 9)


@pytest.mark.parametrize("what", ["thread", "socket"])
def test_forbidden_operations_raise_in_the_workflow(what: str) -> None:
    sim = Simulation(Forbidden, what)
    assert retried(sim.decide())
    error = sim.activations[-1].failure
    assert isinstance(error, NondeterminismError)
    assert "not available inside a workflow" in str(error)


cleanup: list[str] = []


@workflow.defn
class Stubborn:
    @workflow.run
    async def run(self) -> None:
        try:
            await workflow.execute_activity(greet, "x")
        except Exception:
            cleanup.append("swallowed")
        finally:
            cleanup.append("finally")


def test_eviction_runs_finally_blocks_now_and_cannot_be_swallowed() -> None:
    cleanup.clear()
    sim = Simulation(Stubborn)
    sim.decide()
    assert cleanup == []
    sim.close()
    assert cleanup == ["finally"]


async def _waits_then_cleans_up(tag: str) -> None:
    try:
        await asyncio.sleep(3600)
    finally:
        cleanup.append(f"{tag} finally, replaying={workflow.is_replaying()}")


@workflow.defn
class MakesTasksEveryWay:
    """Tasks made by each way asyncio offers, none of them done when the run is closed."""

    @workflow.run
    async def run(self) -> str:
        loop = asyncio.get_running_loop()
        self.left = [
            asyncio.create_task(_waits_then_cleans_up("create_task")),
            asyncio.ensure_future(_waits_then_cleans_up("ensure_future")),
            asyncio.Task(_waits_then_cleans_up("Task"), loop=loop),
        ]
        await asyncio.sleep(60)
        return "done"


@pytest.mark.parametrize("returned", [False, True])
def test_closing_ends_every_task_of_the_run_however_it_was_made(returned: bool) -> None:
    cleanup.clear()
    sim = Simulation(MakesTasksEveryWay)
    sim.decide()
    if returned:  # the run's own coroutine is done; the tasks it left are not
        sim.history.timer_fired("1")  # the run's own sleep
        assert sim.decide()[0]["decisionType"] == "CompleteWorkflowExecution"
    assert cleanup == []
    sim.close()
    assert sorted(cleanup) == [
        f"{tag} finally, replaying=True" for tag in ("Task", "create_task", "ensure_future")
    ]


def test_close_retried_after_unhandled_decision() -> None:
    for cache in (True, False):
        sim = Simulation(Hello, "ann", cache=cache)
        sim.decide()
        sim.history.activity_completed("1", "hi")
        sim.decide()
        sim.history.activity_completed("2", "HI")
        started = sim.history.start_decision_task()
        activation = sim.activate(started)
        assert kinds(activation.decisions) == ["CompleteWorkflowExecution"]
        completed = sim.history.add(
            "DecisionTaskCompleted", {"scheduledEventId": started - 1, "startedEventId": started}
        )
        sim.history.add(
            "CompleteWorkflowExecutionFailed",
            {"cause": "UNHANDLED_DECISION", "decisionTaskCompletedEventId": completed},
        )
        sim.history.signal("late")
        assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]
        sim.close()


def test_timed_out_task_is_a_cache_miss() -> None:
    sim = Simulation(Hello, "ann")
    started = sim.history.start_decision_task()
    sim.activate(started)
    sim.history.time_out_decision_task(started)
    instance = sim.instance
    assert instance is not None
    again = sim.history.start_decision_task()
    events = [e for e in sim.history.events if e["eventId"] > instance.last_started_id]
    with pytest.raises(CacheMiss):
        instance.run_to_completion(events, again)
    sim.close()
    replayed = Simulation(Hello, "ann", cache=False)
    replayed.history = sim.history
    assert kinds(replayed.activate(again).decisions) == ["ScheduleActivityTask"]


@workflow.defn
class ScheduleThenCancel:
    @workflow.run
    async def run(self) -> str:
        handle = workflow.start_activity(greet, "never")
        handle.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await handle
        async with asyncio.timeout(100):
            await asyncio.sleep(0)
        return "ok"


def test_cancelled_in_the_same_task_is_never_sent() -> None:
    sim = Simulation(ScheduleThenCancel)
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]
    sim.close()


@workflow.defn
class Stateful:
    @workflow.run
    async def run(self) -> None:
        workflow.set_state({"n": 1})
        await asyncio.sleep(1)
        workflow.set_state({"n": 1})
        await asyncio.sleep(1)
        workflow.set_state({"n": 2})


@pytest.mark.parametrize("cache", [True, False])
def test_state_is_sent_only_when_it_changes(cache: bool) -> None:
    sim = Simulation(Stateful, cache=cache)
    sim.decide()
    sim.history.timer_fired("1")
    sim.decide()
    sim.history.timer_fired("2")
    sim.decide()
    contexts: list[Any] = [a.execution_context for a in sim.activations]
    assert contexts == ['{"n":1}', None, '{"n":2}']
    sim.close()


_REPLAY_ELSEWHERE = """
import json, sys
from aioswf._decider import WorkflowInstance
from aioswf._definitions import workflow_definition
from aioswf.converter import DataConverter
from tests.workflow.histories import decide_last_again
from tests.workflow.workflows import FanOut

events = json.load(sys.stdin)
def fresh():
    return WorkflowInstance(workflow_definition(FanOut), domain="test", workflow_id="wf-1",
                            run_id="fan-run", converter=DataConverter())
replay = fresh()
failure = replay.run_to_completion(events, None).failure
replay.close()
activation, _ = decide_last_again(fresh, events)
print(json.dumps({"failure": repr(failure or activation.failure), "last": activation.decisions}))
"""


def test_fan_out_replays_in_another_process_with_another_hash_seed() -> None:
    names = ["ann", "bob", "cy", "dee", "eve", "fay"]
    sim = Simulation(FanOut, names)
    sim.run_id = "fan-run"
    assert kinds(sim.decide()) == ["ScheduleActivityTask"] * 6
    for n in (3, 1, 6, 2, 5, 4):  # out of order, over three tasks
        sim.history.activity_completed(str(n), f"hello {names[n - 1]}")
        if n in (1, 2):
            sim.decide()
    assert kinds(sim.decide()) == ["ScheduleActivityTask"] * 6
    for n in (12, 7, 9, 8, 11, 10):
        sim.history.activity_completed(str(n), attrs_of_scheduled(sim, str(n)).upper())
        if n in (7, 11):
            sim.decide()
    last_greeting = sim.decide()
    assert kinds(last_greeting) == ["ScheduleActivityTask"]
    sim.history.activity_completed("13", "done")
    final = sim.decide()
    assert kinds(final) == ["CompleteWorkflowExecution"]
    sim.close()

    seed = "4242" if os.environ.get("PYTHONHASHSEED") != "4242" else "777"
    events = [{**e, "eventTimestamp": e["eventTimestamp"].timestamp()} for e in sim.history.events]
    done = subprocess.run(
        [sys.executable, "-c", _REPLAY_ELSEWHERE],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": seed},
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    elsewhere = json.loads(done.stdout)
    assert elsewhere == {"failure": "None", "last": final}


def attrs_of_scheduled(sim: Simulation, activity_id: str) -> str:
    """The text the activity ``activity_id`` was asked to shout."""
    for event in sim.history.events:
        data = event.get("activityTaskScheduledEventAttributes")
        if data and data["activityId"] == activity_id:
            text: str = json.loads(data["input"])[0]
            return text
    raise AssertionError(f"activity {activity_id} was never scheduled")
