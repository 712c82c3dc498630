"""An exception escaping workflow code fails the execution at once, with what it was."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from aioswf import (
    ActivityFailedError,
    ApplicationError,
    ChildWorkflowFailedError,
    Client,
    WorkflowFailedError,
)
from aioswf._pollers.decision import DecisionWorkerOptions
from aioswf.local import VirtualClock
from aioswf.worker import Worker
from tests.failures import workflows as wf
from tests.failures.waiting import wait_for_failure

RESULT_TIMEOUT = timedelta(seconds=10)
"""Far more than a failing run takes: a run left to retry would hit it."""


async def close_status(client: Client, workflow_id: str) -> str | None:
    return (await client.get_workflow_handle(workflow_id).describe()).info.close_status


async def test_a_plain_value_error_fails_with_type_message_and_traceback(client: Client) -> None:
    async with Worker(client, task_list="f", workflows=[wf.RaisesValueError]):
        handle = await client.start_workflow(
            wf.RaisesValueError.run, "o-1", workflow_id="v", task_list="f"
        )
        with pytest.raises(WorkflowFailedError) as caught:
            await handle.result(timeout=RESULT_TIMEOUT)
    error = caught.value
    assert error.reason == "ValueError"
    assert error.message == "order 'o-1' is not valid"
    assert "in check_order" in error.traceback
    assert any("check_order" in note for note in error.__notes__)
    assert isinstance(error.cause, ApplicationError)
    assert error.cause.type == "ValueError"
    assert await close_status(client, "v") == "FAILED"


@pytest.mark.parametrize("workflow", [wf.ConditionTimesOut, wf.TimeoutBlockExpires])
async def test_an_uncaught_timeout_fails(
    client: Client, clock: VirtualClock, workflow: type
) -> None:
    async with Worker(client, task_list="f", workflows=[workflow]):
        handle = await client.start_workflow(workflow.run, workflow_id="t", task_list="f")
        for _ in range(100):
            if (await handle.describe()).open_counts.timers:
                break
            await asyncio.sleep(0.02)
        clock.advance(600)
        with pytest.raises(WorkflowFailedError) as caught:
            await handle.result(timeout=RESULT_TIMEOUT)
    assert caught.value.reason == "TimeoutError"


async def test_a_result_over_the_limit_fails_naming_its_size(client: Client) -> None:
    async with Worker(client, task_list="f", workflows=[wf.HugeResult]):
        handle = await client.start_workflow(wf.HugeResult.run, workflow_id="h", task_list="f")
        with pytest.raises(WorkflowFailedError) as caught:
            await handle.result(timeout=RESULT_TIMEOUT)
    assert caught.value.reason == "PayloadTooLargeError"
    assert "40,002" in caught.value.message or "40002" in caught.value.message
    assert "32,768" in caught.value.message or "32768" in caught.value.message


async def test_an_activity_failure_comes_back_typed(client: Client) -> None:
    async with Worker(client, task_list="f", workflows=[wf.ActivityFails], activities=[wf.refuse]):
        handle = await client.start_workflow(
            wf.ActivityFails.run, "o-3", workflow_id="a", task_list="f"
        )
        with pytest.raises(WorkflowFailedError) as caught:
            await handle.result(timeout=RESULT_TIMEOUT)
    cause = caught.value.cause
    assert isinstance(cause, ActivityFailedError)
    assert (cause.type_name, cause.message) == ("KeyError", "'no such order o-3'")
    assert cause.activity_type.startswith("refuse/")
    assert "raise KeyError" in cause.traceback
    below = cause.__cause__  # the activity's own cause chain, rebuilt
    assert isinstance(below, ApplicationError)
    assert (below.type, below.message) == ("ConnectionError", "inventory unreachable")


async def test_a_child_failure_comes_back_typed_all_the_way_down(client: Client) -> None:
    async with Worker(
        client,
        task_list="f",
        workflows=[wf.ChildFails, wf.ActivityFails],
        activities=[wf.refuse],
    ):
        handle = await client.start_workflow(wf.ChildFails.run, workflow_id="p", task_list="f")
        with pytest.raises(WorkflowFailedError) as caught:
            await handle.result(timeout=RESULT_TIMEOUT)
    child = caught.value.cause
    assert isinstance(child, ChildWorkflowFailedError)
    assert child.reason == "ActivityFailedError"
    assert isinstance(child.cause, ActivityFailedError)
    assert child.cause.message == "'no such order o-7'"


@pytest.mark.parametrize(
    ("how", "reason"),
    [("exit", "SystemExit"), ("interrupt", "KeyboardInterrupt"), ("stray", "GeneratorExit")],
)
async def test_a_base_exception_fails_the_run_not_the_worker(
    client: Client, how: str, reason: str
) -> None:
    async with Worker(
        client, task_list="f", workflows=[wf.Exits, wf.Fine], activities=[wf.note]
    ) as worker:
        bad = await client.start_workflow(wf.Exits.run, how, workflow_id="bad", task_list="f")
        with pytest.raises(WorkflowFailedError) as caught:
            await bad.result(timeout=RESULT_TIMEOUT)
        good = await client.start_workflow(wf.Fine.run, "ann", workflow_id="ok", task_list="f")
        assert await good.result(timeout=RESULT_TIMEOUT) == "hello ann"
        assert worker.running_activities == 0
    assert caught.value.reason == reason


async def test_sys_exit_in_a_signal_handler_fails_the_run(client: Client) -> None:
    async with Worker(client, task_list="f", workflows=[wf.ExitsInSignal]):
        handle = await client.start_workflow(wf.ExitsInSignal.run, workflow_id="s", task_list="f")
        await handle.signal(wf.ExitsInSignal.stop)
        with pytest.raises(WorkflowFailedError) as caught:
            await handle.result(timeout=RESULT_TIMEOUT)
    assert (caught.value.reason, caught.value.message) == ("SystemExit", "4")


async def test_an_error_in_init_fails_the_execution(client: Client) -> None:
    async with Worker(client, task_list="f", workflows=[wf.InitFails]):
        handle = await client.start_workflow(wf.InitFails.run, workflow_id="i", task_list="f")
        with pytest.raises(WorkflowFailedError) as caught:
            await handle.result(timeout=RESULT_TIMEOUT)
    assert (caught.value.reason, caught.value.message) == ("Setup", "cannot build")


async def test_init_runs_with_the_runs_time_and_info(client: Client) -> None:
    async with Worker(client, task_list="f", workflows=[wf.InitSeesTheRun]):
        handle = await client.start_workflow(
            wf.InitSeesTheRun.run, workflow_id="see", task_list="f"
        )
        started, workflow_id, start_time = await handle.result(timeout=RESULT_TIMEOUT)
    assert (started, workflow_id) == (start_time, "see")
    assert not started.startswith("1970")


async def test_init_takes_the_runs_arguments(client: Client) -> None:
    # Started and signalled before any worker runs: the first task brings both, and the
    # handler relies on what __init__ built from the arguments.
    handle = await client.start_workflow(
        wf.InitTakesArgs.run, "ann", 2, workflow_id="args", task_list="f"
    )
    await handle.signal(wf.InitTakesArgs.hear, "hi")
    async with Worker(client, task_list="f", workflows=[wf.InitTakesArgs]):
        assert await handle.result(timeout=RESULT_TIMEOUT) == ["ann x2", "ann x2: hi"]
    first_task = [e["eventType"] async for e in handle.history()][:4]
    assert first_task[:2] == ["WorkflowExecutionStarted", "DecisionTaskScheduled"]
    assert "WorkflowExecutionSignaled" in first_task


@pytest.mark.parametrize("cached", [1000, 0], ids=["cache", "no-cache"])
async def test_a_retried_error_is_visible_then_recovers(
    client: Client, clock: VirtualClock, cached: int, caplog: pytest.LogCaptureFixture
) -> None:
    wf.BROKEN["on"] = True
    options = DecisionWorkerOptions(retry_decision_task_on=(KeyError,), max_cached_workflows=cached)
    async with Worker(client, task_list="f", workflows=[wf.Flaky], decision_options=options):
        handle = await client.start_workflow(wf.Flaky.run, workflow_id="r", task_list="f")
        failure = (await wait_for_failure(client, "r")).decision_failure
        assert failure is not None
        assert (failure.attempts, failure.error_type) == (1, "KeyError")
        assert "missing configuration" in failure.message
        assert failure.retry_in == timedelta(seconds=1)
        since = failure.since
        clock.advance(1)  # the back-off timer fires: a second attempt, failing too
        described = await wait_for_failure(client, "r", attempts=2)
        failure = described.decision_failure
        assert failure is not None
        assert failure.attempts == 2
        assert failure.since == since
        assert failure.retry_in == timedelta(seconds=2)
        assert described.info.close_status is None
        wf.BROKEN["on"] = False  # the fix is deployed
        clock.advance(2)
        assert await handle.result(timeout=RESULT_TIMEOUT) == "recovered"
    assert "decision task failed (attempt 2" in caplog.text
    wf.BROKEN["on"] = True
