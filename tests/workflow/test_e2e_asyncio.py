"""asyncio inside workflows, end to end on the local service, with the instance cache off and
on: the same decisions and the same outcome either way. Also what reaches SWF from an
activity call's options, non-retryable errors, and a close decision refused because news
arrived while deciding (``UNHANDLED_DECISION``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from aioswf import (
    ActivityFailedError,
    ApplicationError,
    Client,
    DecisionWorkerOptions,
    RetryPolicy,
    activity,
    workflow,
)
from aioswf._pollers.decision import DecisionPoller
from aioswf.testing import WorkflowEnvironment
from aioswf.worker import Worker
from tests.workflow.workflows import TIMEOUTS, greet

RESULT_TIMEOUT = timedelta(seconds=20)
CACHES = pytest.mark.parametrize("cache", [0, 1000], ids=["cache-0", "cache-default"])
ECHO_DETAILS = ("activityId", "timerId", "markerName", "input", "startToFireTimeout", "result")


@workflow.defn
class Primitives:
    """``Event``, ``Lock``, ``Queue`` and ``shield``, each leaving a trace in the result."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()

    @workflow.run
    async def run(self) -> dict[str, Any]:
        out: dict[str, Any] = {}

        async def opener() -> None:
            await asyncio.sleep(10)
            self.opened.set()

        opening = asyncio.create_task(opener())
        await self.opened.wait()
        await opening
        # Whole seconds: virtual time moves on with real time while the timer's task runs.
        out["event"] = int(workflow.now().timestamp() - workflow.info().start_time.timestamp())

        lock = asyncio.Lock()
        trace: list[str] = []

        async def locked(name: str) -> None:
            async with lock:
                trace.append(f"{name} in")
                await workflow.execute_activity(greet, name)
                trace.append(f"{name} out")

        await asyncio.gather(locked("a"), locked("b"))
        out["lock"] = trace

        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=1)

        async def produce() -> None:
            for name in ("x", "y", "z"):
                await queue.put(await workflow.execute_activity(greet, name))
            await queue.put(None)

        producing = asyncio.create_task(produce())
        received = []
        while (item := await queue.get()) is not None:
            received.append(item)
        await producing
        out["queue"] = received

        async def slow() -> str:
            await asyncio.sleep(100)
            return "inner done"

        inner = asyncio.create_task(slow())
        try:
            await asyncio.wait_for(asyncio.shield(inner), timeout=10)
            out["shield"] = "not timed out"
        except TimeoutError:
            out["shield"] = [inner.cancelled(), await inner]
        return out


@workflow.defn
class Timeouts:
    """``TaskGroup`` with timers, ``timeout`` and ``wait_for`` that expire, and
    ``workflow.wait`` / ``workflow.as_completed`` with ``timeout=``."""

    @workflow.run
    async def run(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        order: list[int] = []

        async def nap(n: int) -> None:
            await asyncio.sleep(10 * n)
            order.append(n)

        async with asyncio.TaskGroup() as group:
            for n in (3, 1, 2):
                group.create_task(nap(n))
        out["task_group"] = order

        try:
            async with asyncio.timeout(10):
                await asyncio.sleep(1000)
            out["timeout"] = "not expired"
        except TimeoutError:
            out["timeout"] = "expired"

        out["wait_for"] = await asyncio.wait_for(
            workflow.execute_activity(greet, "in time"), timeout=3600
        )
        try:
            await asyncio.wait_for(asyncio.sleep(1000), timeout=10)
            out["wait_for_expired"] = False
        except TimeoutError:
            out["wait_for_expired"] = True

        fast = asyncio.create_task(asyncio.sleep(10, "fast"))
        slow = asyncio.create_task(asyncio.sleep(1000, "slow"))
        done, pending = await workflow.wait([slow, fast], timeout=timedelta(seconds=30))
        out["wait"] = [[t.result() for t in done], len(pending)]
        slow.cancel()

        first = asyncio.create_task(asyncio.sleep(10, "first"))
        never = asyncio.create_task(asyncio.sleep(1000, "never"))
        seen = []
        for next_done in workflow.as_completed([never, first], timeout=timedelta(seconds=30)):
            try:
                seen.append(await next_done)
            except TimeoutError:
                seen.append("timeout")
        never.cancel()
        out["as_completed"] = seen
        return out


EXPECTED = {
    Primitives: {
        "event": 10,
        "lock": ["a in", "a out", "b in", "b out"],
        "queue": ["hello x", "hello y", "hello z"],
        "shield": [False, "inner done"],
    },
    Timeouts: {
        "task_group": [1, 2, 3],
        "timeout": "expired",
        "wait_for": "hello in time",
        "wait_for_expired": True,
        "wait": [["fast"], 1],
        "as_completed": ["first", "timeout"],
    },
}


async def history(client: Client, workflow_id: str) -> list[dict[str, Any]]:
    return [e async for e in client.get_workflow_handle(workflow_id).history()]


def decided(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The decisions history recorded, in order, whatever tasks they were grouped in."""
    out = []
    for event in events:
        kind = event["eventType"]
        data = event.get(kind[0].lower() + kind[1:] + "EventAttributes") or {}
        if "decisionTaskCompletedEventId" in data:
            out.append((kind, *(data.get(name) for name in ECHO_DETAILS)))
    return out


async def run_to_end(
    env: WorkflowEnvironment, cls: type[Any], workflow_id: str, cache: int
) -> tuple[Any, list[dict[str, Any]]]:
    # The environment skips time only while nothing is queued or running, so a timer's
    # decision task and the activities run at the virtual time they would run at on SWF,
    # however loaded the machine is.
    async with Worker(
        env.client,
        task_list="asyncio",
        workflows=[cls],
        activities=[greet],
        decision_options=DecisionWorkerOptions(max_cached_workflows=cache),
    ):
        handle = await env.client.start_workflow(
            cls.run, workflow_id=workflow_id, task_list="asyncio"
        )
        outcome = await handle.result(timeout=RESULT_TIMEOUT)
    return outcome, await history(env.client, workflow_id)


@pytest.mark.parametrize("cls", [Primitives, Timeouts], ids=lambda c: c.__name__)
async def test_asyncio_in_workflows_decides_the_same_with_cache_off_and_on(cls: type[Any]) -> None:
    async with WorkflowEnvironment() as env:
        without, events_without = await run_to_end(env, cls, "no-cache", 0)
        with_cache, events_with = await run_to_end(env, cls, "cache", 1000)
    assert without == with_cache == EXPECTED[cls]
    assert decided(events_without) == decided(events_with)
    types = [e["eventType"] for e in events_with]
    assert types[-1] == "WorkflowExecutionCompleted"
    if cls is Timeouts:
        # The timers given up on were cancelled, not left to fire.
        assert types.count("TimerCanceled") >= 4


@activity.defn(**TIMEOUTS)
async def fatal(n: int) -> None:
    raise ApplicationError("cannot", type="Fatal")


@workflow.defn
class Options:
    @workflow.run
    async def run(self) -> str:
        result: str = await workflow.execute_activity(
            greet,
            "elsewhere",
            task_list="asyncio-other",
            task_priority=7,
            schedule_to_start_timeout=timedelta(seconds=11),
            start_to_close_timeout=timedelta(seconds=22),
            schedule_to_close_timeout=timedelta(seconds=33),
            heartbeat_timeout=timedelta(seconds=4),
        )
        policy = RetryPolicy(
            initial_interval=timedelta(seconds=1),
            maximum_attempts=5,
            non_retryable_error_types=("Fatal",),
        )
        try:
            await workflow.execute_activity(fatal, 1, retry_policy=policy)
        except ActivityFailedError as error:
            return f"{result}; {error.type_name}"
        return f"{result}; not failed"


async def test_activity_options_reach_swf_and_non_retryable_errors_are_not_retried(
    client: Client,
) -> None:
    async with (
        Worker(client, task_list="asyncio", workflows=[Options], activities=[fatal]),
        Worker(client, task_list="asyncio-other", activities=[greet]),
    ):
        handle = await client.start_workflow(Options.run, workflow_id="opts", task_list="asyncio")
        assert await handle.result(timeout=RESULT_TIMEOUT) == "hello elsewhere; Fatal"
    events = await history(client, "opts")
    scheduled = [
        e["activityTaskScheduledEventAttributes"]
        for e in events
        if e["eventType"] == "ActivityTaskScheduled"
    ]
    first = scheduled[0]
    assert first["taskList"] == {"name": "asyncio-other"}
    assert first["taskPriority"] == "7"
    assert first["scheduleToStartTimeout"] == "11"
    assert first["startToCloseTimeout"] == "22"
    assert first["scheduleToCloseTimeout"] == "33"
    assert first["heartbeatTimeout"] == "4"
    # One attempt of `fatal`, and no retry timer.
    assert [s["activityType"]["name"] for s in scheduled] == ["greet", "fatal"]
    assert "TimerStarted" not in [e["eventType"] for e in events]


@workflow.defn
class Quick:
    def __init__(self) -> None:
        self.notes: list[str] = []

    @workflow.run
    async def run(self) -> list[str]:
        return self.notes

    @workflow.signal
    def note(self, text: str) -> None:
        self.notes.append(text)


@CACHES
async def test_close_refused_for_news_is_decided_again_with_the_news(
    client: Client, monkeypatch: pytest.MonkeyPatch, cache: int
) -> None:
    answer = DecisionPoller._answer
    injected: list[str] = []

    async def signal_first(
        self: DecisionPoller, token: str, instance: Any, activation: Any, *rest: Any
    ) -> None:
        # The decision task has started and is decided; news now arrives before the answer.
        if activation.closing and not injected:
            injected.append(instance.workflow_id)
            await client.get_workflow_handle(instance.workflow_id).signal(Quick.note, "late")
        await answer(self, token, instance, activation, *rest)

    monkeypatch.setattr(DecisionPoller, "_answer", signal_first)
    async with Worker(
        client,
        task_list="asyncio",
        workflows=[Quick],
        decision_options=DecisionWorkerOptions(max_cached_workflows=cache),
    ):
        handle = await client.start_workflow(Quick.run, workflow_id="quick", task_list="asyncio")
        assert await handle.result(timeout=RESULT_TIMEOUT) == ["late"]
    assert injected == ["quick"]
    events = await history(client, "quick")
    types = [e["eventType"] for e in events]
    failed = types.index("CompleteWorkflowExecutionFailed")
    assert events[failed]["completeWorkflowExecutionFailedEventAttributes"]["cause"] == (
        "UNHANDLED_DECISION"
    )
    assert types.index("WorkflowExecutionSignaled") < failed
    assert types[-1] == "WorkflowExecutionCompleted"
    assert types.count("DecisionTaskCompleted") == 2
