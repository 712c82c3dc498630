"""Workflows end to end over loopback: Client and Worker against the local SWF service."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from aioswf import (
    ActivityFailedError,
    ApplicationError,
    Client,
    PayloadConversionError,
    RetryPolicy,
    ScheduleActivityFailedError,
    WorkflowCanceledError,
    WorkflowFailedError,
    activity,
    workflow,
)
from aioswf._pollers.decision import DecisionWorkerOptions
from aioswf.local import LocalSWF, VirtualClock
from aioswf.worker import Worker
from tests.workflow.workflows import TIMEOUTS, Hello, Order, Typed, greet, shout

RESULT_TIMEOUT = timedelta(seconds=10)

attempts: dict[str, int] = {}


@activity.defn(**TIMEOUTS)
async def sometimes(key: str) -> str:
    attempts[key] = attempts.get(key, 0) + 1
    if attempts[key] < 3:
        raise ApplicationError(f"attempt {attempts[key]} failed", attempts[key], type="Flaky")
    return f"ok after {attempts[key]}"


@activity.defn(**TIMEOUTS)
async def refuse(order: str) -> None:
    raise ValueError(f"no such order {order}")


@activity.defn(register=False, **TIMEOUTS)
async def unregistered() -> None:
    raise AssertionError("never runs")


@activity.defn(
    schedule_to_start_timeout=timedelta(seconds=60),
    start_to_close_timeout=timedelta(seconds=600),
    schedule_to_close_timeout=timedelta(seconds=600),
    heartbeat_timeout=timedelta(seconds=3),
)
async def slow(seconds: float) -> str:
    while True:
        activity.heartbeat()
        await asyncio.sleep(seconds)


@workflow.defn
class Errors:
    @workflow.run
    async def run(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        try:
            await workflow.execute_activity(refuse, "o-9")
        except ActivityFailedError as error:
            out["failed"] = [error.type_name, error.message]
        try:
            await workflow.execute_activity(unregistered)
        except ScheduleActivityFailedError as error:
            out["schedule"] = error.cause
        policy = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=5)
        out["retried"] = await workflow.execute_activity(sometimes, "e2e", retry_policy=policy)
        return out


@workflow.defn
class CancelMe:
    @workflow.run
    async def run(self) -> str:
        handle = workflow.start_activity(slow, 0.05)
        try:
            await handle
        except asyncio.CancelledError:
            await workflow.execute_activity(greet, "cleanup")
            raise
        return "not cancelled"


@workflow.defn
class Unknown:
    @workflow.run
    async def run(self) -> None:
        return None


async def event_types(client: Client, workflow_id: str) -> list[str]:
    handle = client.get_workflow_handle(workflow_id)
    return [e["eventType"] async for e in handle.history()]


async def advance_until(clock: VirtualClock, done: asyncio.Future[Any], step: float) -> None:
    """Move virtual time on while ``done`` is pending, giving the worker room to decide."""
    while not done.done():
        await asyncio.sleep(0.05)
        clock.advance(step)


async def test_activities_sequence(client: Client) -> None:
    async with Worker(client, task_list="e2e", workflows=[Hello], activities=[greet, shout]):
        handle = await client.start_workflow(Hello.run, "ann", workflow_id="hello", task_list="e2e")
        assert await handle.result(timeout=RESULT_TIMEOUT) == "HELLO ANN"
    types = await event_types(client, "hello")
    assert types.count("ActivityTaskScheduled") == 2
    assert types[-1] == "WorkflowExecutionCompleted"


@pytest.mark.parametrize("cached", [1000, 0], ids=["cache", "no-cache"])
async def test_order_signal_condition_timer_state(
    client: Client, clock: VirtualClock, cached: int
) -> None:
    options = DecisionWorkerOptions(max_cached_workflows=cached)
    async with Worker(
        client, task_list="e2e", workflows=[Order], activities=[greet], decision_options=options
    ):
        handle = await client.start_workflow(Order.run, "o-1", workflow_id="o-1", task_list="e2e")
        for _ in range(200):
            description = await handle.describe()
            if description.state == {"stage": "awaiting approval"}:
                break
            await asyncio.sleep(0.02)
        assert description.state == {"stage": "awaiting approval"}
        await handle.signal(Order.approve, "alice")
        result = asyncio.ensure_future(handle.result(timeout=RESULT_TIMEOUT))
        await advance_until(clock, result, 30)
        outcome = await result
    assert outcome["receipts"] == [f"hello o-1-{i}" for i in range(3)]
    assert outcome["by"] == "alice"
    assert (await handle.describe()).state == {"stage": "done"}
    types = await event_types(client, "o-1")
    assert types.count("TimerStarted") == 1
    assert types.count("TimerFired") == 1


async def test_errors_and_retries(client: Client, clock: VirtualClock) -> None:
    attempts.clear()
    async with Worker(
        client,
        task_list="e2e",
        workflows=[Errors],
        activities=[refuse, sometimes],
    ):
        handle = await client.start_workflow(Errors.run, workflow_id="errors", task_list="e2e")
        result = asyncio.ensure_future(handle.result(timeout=RESULT_TIMEOUT))
        await advance_until(clock, result, 1)
        outcome = await result
    assert outcome == {
        "failed": ["ValueError", "no such order o-9"],
        "schedule": "ACTIVITY_TYPE_DOES_NOT_EXIST",
        "retried": "ok after 3",
    }
    types = await event_types(client, "errors")
    assert types.count("TimerFired") == 2


async def test_cancel_runs_cleanup_then_cancels(client: Client) -> None:
    async with Worker(
        client,
        task_list="e2e",
        workflows=[CancelMe],
        activities=[slow, greet],
        shutdown_timeout=timedelta(seconds=1),
    ):
        handle = await client.start_workflow(CancelMe.run, workflow_id="cancel", task_list="e2e")
        for _ in range(200):
            if "ActivityTaskStarted" in await event_types(client, "cancel"):
                break
            await asyncio.sleep(0.02)
        await handle.cancel()
        with pytest.raises(WorkflowCanceledError):
            await handle.result(timeout=RESULT_TIMEOUT)
    types = await event_types(client, "cancel")
    assert "ActivityTaskCancelRequested" in types
    assert types.count("ActivityTaskCompleted") == 1  # the cleanup


async def test_bad_input_fails_naming_the_parameter(client: Client) -> None:
    # The client refuses it before anything is sent...
    with pytest.raises(PayloadConversionError, match="argument 'count' of Typed.run"):
        await client.start_workflow(Typed.run, "three", "x", workflow_id="typed", task_list="e2e")
    # ...and input sent by another SWF client fails the run, naming the parameter.
    async with Worker(client, task_list="e2e", workflows=[Typed]):
        await client.call(
            "StartWorkflowExecution",
            workflowId="typed",
            workflowType={"name": "Typed", "version": "1"},
            taskList={"name": "e2e"},
            input='["three", "x"]',
        )
        handle = client.get_workflow_handle("typed")
        with pytest.raises(WorkflowFailedError) as caught:
            await handle.result(timeout=RESULT_TIMEOUT)
    assert caught.value.reason == "PayloadConversionError"
    assert "'count'" in caught.value.message


async def test_unknown_type_is_left_alone(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    await client.ensure_registered(workflows=[workflow_definition_of(Unknown)], task_list="e2e")
    async with Worker(client, task_list="e2e", workflows=[Hello], activities=[greet, shout]):
        await client.start_workflow(Unknown.run, workflow_id="unknown", task_list="e2e")
        for _ in range(100):
            if "does not know" in caplog.text:
                break
            await asyncio.sleep(0.02)
    assert "does not know" in caplog.text
    types = await event_types(client, "unknown")
    assert "DecisionTaskCompleted" not in types


def workflow_definition_of(cls: type[Any]) -> Any:
    from aioswf._definitions import workflow_definition

    return workflow_definition(cls)


@workflow.defn(name="Drifting")
class DriftingV1:
    @workflow.run
    async def run(self) -> str:
        await asyncio.sleep(10)
        return "v1"


@workflow.defn(name="Drifting")
class DriftingV2:
    @workflow.run
    async def run(self) -> str:
        await workflow.execute_activity(greet, "changed")
        return "v2"


async def test_nondeterminism_fails_when_asked(client: Client, local_swf: LocalSWF) -> None:
    async with Worker(client, task_list="e2e", workflows=[DriftingV1]):
        handle = await client.start_workflow(DriftingV1.run, workflow_id="drift", task_list="e2e")
        for _ in range(200):
            if "TimerStarted" in await event_types(client, "drift"):
                break
            await asyncio.sleep(0.02)
    options = DecisionWorkerOptions(fail_on_nondeterminism=True)
    async with Worker(
        client,
        task_list="e2e",
        workflows=[DriftingV2],
        activities=[greet],
        decision_options=options,
    ):
        local_swf.clock.advance(10)  # type: ignore[attr-defined]
        # The first worker asked for the run's next task on its sticky task list; gone, it
        # leaves the task there for the sticky schedule-to-start timeout, then SWF moves it.
        local_swf.clock.advance(5)  # type: ignore[attr-defined]
        with pytest.raises(WorkflowFailedError) as caught:
            await handle.result(timeout=RESULT_TIMEOUT)
    assert caught.value.reason == "NondeterminismError"
    assert "TimerStarted" in caught.value.message
    assert "ScheduleActivityTask" in caught.value.message
