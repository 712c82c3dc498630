"""What replay cannot reproduce is refused inside workflow code, or caught on replay."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from aioswf import NondeterminismError, workflow
from aioswf._decider import WorkflowInstance
from aioswf._definitions import workflow_definition
from aioswf._sandbox.core import running_workflow
from aioswf.converter import DataConverter
from tests.workflow.histories import Simulation, kinds, retried
from tests.workflow.workflows import greet

CALLS: dict[str, Callable[[], Any]] = {
    "time": time.time,  # looked up below through the module, as user code does
    "monotonic": lambda: time.monotonic(),
    "perf_counter_ns": lambda: time.perf_counter_ns(),
    "sleep": lambda: time.sleep(0.01),
    "thread": lambda: threading.Thread(target=print).start(),
    "socket": lambda: socket.socket().close(),
    "dns": lambda: socket.getaddrinfo("localhost", 80),
    "subprocess": lambda: subprocess.run(["true"], check=False),
}


@workflow.defn
class Tempted:
    @workflow.run
    async def run(self, what: str) -> str:
        if what == "time":
            time.time()
        else:
            CALLS[what]()
        return "did it"


@pytest.mark.parametrize("what", sorted(CALLS))
def test_non_deterministic_calls_raise_inside_the_workflow(what: str) -> None:
    sim = Simulation(Tempted, what)
    assert retried(sim.decide())  # the task is retried, visibly, for a fixed deployment
    error = sim.activations[-1].failure
    assert isinstance(error, NondeterminismError)
    assert "cannot be used inside a workflow" in str(error)
    assert "Tempted" in str(error)
    sim.close()


def test_the_message_says_what_to_use_instead() -> None:
    sim = Simulation(Tempted, "sleep")
    sim.decide()
    assert "asyncio.sleep" in str(sim.activations[-1].failure)
    sim.close()


@workflow.defn
class Logs:
    @workflow.run
    async def run(self) -> str:
        workflow.logger.warning("log records carry real timestamps; that is allowed")
        await asyncio.sleep(0)
        return "logged"


def test_logging_and_the_runtime_itself_may_read_the_clock() -> None:
    sim = Simulation(Logs)
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]
    sim.close()


def test_outside_workflow_steps_nothing_is_refused() -> None:
    Simulation(Logs).decide()  # the guards are installed by now
    assert running_workflow() is None
    assert time.time() > 0
    thread = threading.Thread(target=lambda: time.sleep(0))
    thread.start()
    thread.join()
    socket.socket().close()


def test_other_threads_are_not_affected_while_a_workflow_step_runs() -> None:
    seen: list[object] = []
    started, release = threading.Event(), threading.Event()

    def other_thread() -> None:
        started.set()
        release.wait(5)
        try:
            seen.append(time.time())  # during the step below, on another thread
        except Exception as error:
            seen.append(error)

    @workflow.defn
    class Waits:
        @workflow.run
        async def run(self) -> None:
            release.set()
            while not seen:
                pass  # a busy wait, only to hold the step open while the other thread reads

    thread = threading.Thread(target=other_thread)
    thread.start()
    started.wait(5)
    sim = Simulation(Waits)
    sim.decide()
    thread.join(5)
    assert len(seen) == 1
    assert isinstance(seen[0], float)
    sim.close()


@workflow.defn
class Unordered:
    @workflow.run
    async def run(self, how: str) -> str:
        tasks = [asyncio.ensure_future(asyncio.sleep(0)) for _ in range(3)]
        if how == "wait":
            await asyncio.wait(tasks)
        elif how == "as_completed":
            for next_done in asyncio.as_completed(tasks):
                await next_done
        else:
            await workflow.wait(tasks)
            for next_done in workflow.as_completed(tasks):
                await next_done
        return how


@pytest.mark.parametrize("how", ["wait", "as_completed"])
def test_the_set_based_asyncio_helpers_point_to_their_deterministic_versions(how: str) -> None:
    sim = Simulation(Unordered, how)
    assert retried(sim.decide())
    error = sim.activations[-1].failure
    assert isinstance(error, NondeterminismError)
    assert f"asyncio.{how}() cannot be used inside a workflow" in str(error)
    assert f"use workflow.{how}() instead" in str(error)
    sim.close()


def test_the_deterministic_versions_work() -> None:
    sim = Simulation(Unordered, "workflow")
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]
    sim.close()


async def test_outside_workflows_asyncio_wait_is_itself() -> None:
    done, pending = await asyncio.wait([asyncio.ensure_future(asyncio.sleep(0))])
    assert (len(done), len(pending)) == (1, 0)
    assert [await f for f in asyncio.as_completed([asyncio.sleep(0, "x")])] == ["x"]


@workflow.defn(name="Greets")
class GreetsInOrder:
    @workflow.run
    async def run(self, names: list[str]) -> list[str]:
        return list(await asyncio.gather(*(workflow.execute_activity(greet, n) for n in names)))


@workflow.defn(name="Greets")
class GreetsReversed:
    @workflow.run
    async def run(self, names: list[str]) -> list[str]:
        return list(
            await asyncio.gather(*(workflow.execute_activity(greet, n) for n in reversed(names)))
        )


def test_replay_notices_calls_of_one_type_made_in_another_order() -> None:
    sim = Simulation(GreetsInOrder, ["ann", "bob"])
    assert kinds(sim.decide()) == ["ScheduleActivityTask", "ScheduleActivityTask"]
    sim.history.activity_completed("1", "hello ann")
    sim.history.activity_completed("2", "hello bob")
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]
    sim.close()

    instance = WorkflowInstance(
        workflow_definition(GreetsReversed),
        domain="d",
        workflow_id="wf",
        run_id="run",
        converter=DataConverter(),
    )
    activation = instance.run_to_completion(sim.history.events, None)
    instance.close()
    assert isinstance(activation.failure, NondeterminismError)
    assert "activityId='1'" in str(activation.failure)
    assert """with input='["ann"]' where the code decided it with input='["bob"]'""" in str(
        activation.failure
    )
