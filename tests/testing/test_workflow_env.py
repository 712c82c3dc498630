"""WorkflowEnvironment: time skipping while awaiting results, sleep(), activity timeouts."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from aioswf._definitions import activity_definition
from aioswf.client import WorkflowHandle
from aioswf.testing import TimeSkippingHandle, WorkflowEnvironment
from aioswf.worker import Worker
from tests.testing.apps import (
    Alarm,
    Approval,
    Brief,
    Nap,
    Orphaned,
    Stuck,
    Watchdog,
    brief_work,
    orphan,
)
from tests.testing.conftest import START

TIMEOUT = timedelta(seconds=10)  # a hung test fails instead of hanging the suite


async def test_a_30_day_sleep_completes_at_once(env: WorkflowEnvironment) -> None:
    async with Worker(env.client, task_list="t", workflows=[Nap]):
        handle = await env.client.start_workflow(Nap.run, 30, workflow_id="nap", task_list="t")
        assert isinstance(handle, TimeSkippingHandle)
        slept = await handle.result(timeout=TIMEOUT)
    # By the workflow's own clock, 30 days passed (plus the moments its tasks took).
    assert timedelta(days=30) <= timedelta(seconds=slept) < timedelta(days=30, minutes=1)
    assert timedelta(days=30) <= env.now() - START < timedelta(days=30, minutes=1)
    assert env.skipped >= timedelta(days=30) - timedelta(seconds=1)


async def test_a_7_day_wait_condition_times_out(env: WorkflowEnvironment) -> None:
    async with Worker(env.client, task_list="t", workflows=[Approval]):
        handle = await env.client.start_workflow(Approval.run, workflow_id="a", task_list="t")
        outcome = await handle.result(timeout=TIMEOUT)
    assert outcome.startswith("timed out at ")
    timed_out_at = datetime.fromisoformat(outcome.removeprefix("timed out at "))
    assert timedelta(days=7) <= timed_out_at - START < timedelta(days=7, minutes=1)


async def test_no_time_passes_before_a_signal_sent_before_result(
    env: WorkflowEnvironment,
) -> None:
    async with Worker(env.client, task_list="t", workflows=[Approval]):
        handle = await env.client.start_workflow(Approval.run, workflow_id="a", task_list="t")
        await asyncio.sleep(0.05)  # the workflow is waiting; nothing skips time yet
        await handle.signal(Approval.approve, "ann")
        assert await handle.result(timeout=TIMEOUT) == "approved by ann"
    assert env.skipped == timedelta(0)


async def test_sleep_lets_timers_fire_and_workflows_react(env: WorkflowEnvironment) -> None:
    async with Worker(env.client, task_list="t", workflows=[Alarm]):
        handle = await env.client.start_workflow(Alarm.run, workflow_id="alarm", task_list="t")
        await env.sleep(timedelta(minutes=59))
        assert (await handle.describe()).state == "sleeping"
        await env.sleep(timedelta(minutes=2))
        assert (await handle.describe()).state == "ringing"
        assert timedelta(minutes=61) <= env.now() - START < timedelta(minutes=62)
        await handle.signal(Alarm.stop)
        assert await handle.result(timeout=TIMEOUT) == "stopped"


async def test_auto_time_skipping_block(env: WorkflowEnvironment) -> None:
    async with Worker(env.client, task_list="t", workflows=[Nap]):
        handle = await env.client.start_workflow(Nap.run, 2, workflow_id="nap", task_list="t")
        # A plain handle waits by polling the history; the block skips time meanwhile.
        plain = WorkflowHandle(env.client, "nap", first_run_id=handle.first_run_id)
        with env.auto_time_skipping():
            await plain.result(timeout=TIMEOUT)
    assert env.now() - START >= timedelta(days=2)


async def test_a_heartbeat_timeout_after_sleep(env: WorkflowEnvironment) -> None:
    stuck = Stuck()
    worker = Worker(env.client, task_list="t", workflows=[Watchdog], activities=[stuck.stuck])
    async with worker:
        handle = await env.client.start_workflow(Watchdog.run, 30, workflow_id="w", task_list="t")
        await asyncio.wait_for(stuck.started.wait(), TIMEOUT.total_seconds())
        await env.sleep(timedelta(seconds=31))
        outcome = await handle.result(timeout=TIMEOUT)
        stuck.release.set()
    kind, _, when = outcome.partition(" at ")
    assert kind == "HEARTBEAT"
    # 30 seconds of service time after the activity started, however long (in real time)
    # the worker took to start it.
    events = {e["eventType"]: e["eventTimestamp"] async for e in handle.history()}
    waited = events["ActivityTaskTimedOut"] - events["ActivityTaskStarted"]
    assert timedelta(seconds=29.9) <= waited < timedelta(seconds=31)  # timestamps round
    assert datetime.fromisoformat(when) >= events["ActivityTaskTimedOut"]


async def test_sleep_waits_for_an_activity_that_is_still_working(
    env: WorkflowEnvironment,
) -> None:
    # sleep() would pass the activity's 10-second timeouts at once if it did not wait.
    async with Worker(env.client, task_list="t", workflows=[Brief], activities=[brief_work]):
        handle = await env.client.start_workflow(Brief.run, workflow_id="b", task_list="t")
        await env.sleep(timedelta(hours=2))
        assert (await handle.describe()).info.close_status == "COMPLETED"
        assert await handle.result(timeout=TIMEOUT) == "done"


async def test_a_running_activity_holds_automatic_skipping(env: WorkflowEnvironment) -> None:
    # With a 1-second heartbeat timeout the stuck activity times out after a real second:
    # result() never jumps over the deadline of an activity that is running.
    stuck = Stuck()
    worker = Worker(env.client, task_list="t", workflows=[Watchdog], activities=[stuck.stuck])
    async with worker:
        handle = await env.client.start_workflow(Watchdog.run, 1, workflow_id="w", task_list="t")
        outcome = await handle.result(timeout=TIMEOUT)
        stuck.release.set()
    assert outcome.startswith("HEARTBEAT at ")
    assert env.skipped == timedelta(0)


async def test_get_workflow_handle_skips_too(env: WorkflowEnvironment) -> None:
    async with Worker(env.client, task_list="t", workflows=[Nap]):
        await env.client.start_workflow(Nap.run, 3, workflow_id="nap", task_list="t")
        handle = env.client.get_workflow_handle("nap", workflow=Nap.run)
        assert await handle.result(timeout=TIMEOUT) >= timedelta(days=3).total_seconds()


async def test_sleep_without_workflows_moves_the_clock(env: WorkflowEnvironment) -> None:
    await env.sleep(timedelta(hours=5))
    assert timedelta(hours=5) <= env.now() - START < timedelta(hours=5, seconds=5)
    with pytest.raises(ValueError, match="negative"):
        await env.sleep(timedelta(seconds=-1))


async def test_an_environment_that_is_not_started() -> None:
    env = WorkflowEnvironment()
    with pytest.raises(RuntimeError, match="not started"):
        _ = env.client
    await env.shutdown()  # idempotent, even before start


async def test_a_schedule_to_start_timeout_is_skipped_to(env: WorkflowEnvironment) -> None:
    # The activity waits on a task list nobody polls: it holds time only briefly.
    await env.client.ensure_registered(
        activities=[activity_definition(orphan)], task_list="nobody-polls"
    )
    async with Worker(env.client, task_list="t", workflows=[Orphaned]):
        handle = await env.client.start_workflow(Orphaned.run, workflow_id="o", task_list="t")
        outcome = await handle.result(timeout=TIMEOUT)
    kind, _, when = outcome.partition(" at ")
    assert kind == "SCHEDULE_TO_START"
    assert datetime.fromisoformat(when) - START >= timedelta(minutes=2)


async def test_sleep_moves_past_a_schedule_to_start_timeout(env: WorkflowEnvironment) -> None:
    await env.client.ensure_registered(
        activities=[activity_definition(orphan)], task_list="nobody-polls"
    )
    async with Worker(env.client, task_list="t", workflows=[Orphaned]):
        handle = await env.client.start_workflow(Orphaned.run, workflow_id="o", task_list="t")
        await asyncio.wait_for(env.sleep(timedelta(minutes=3)), TIMEOUT.total_seconds())
        assert (await handle.describe()).info.close_status == "COMPLETED"
        assert (await handle.result(timeout=TIMEOUT)).startswith("SCHEDULE_TO_START at ")


async def test_sleep_with_a_started_workflow_and_no_worker(env: WorkflowEnvironment) -> None:
    handle = await env.client.start_workflow(Nap.run, 1, workflow_id="n", task_list="nobody")
    await asyncio.wait_for(env.sleep(timedelta(hours=2)), TIMEOUT.total_seconds())
    assert timedelta(hours=2) <= env.now() - START
    assert (await handle.describe()).info.status == "OPEN"


async def test_sleep_names_a_decision_task_never_answered() -> None:
    async with WorkflowEnvironment(stall_after=timedelta(milliseconds=300)) as env:
        await env.client.start_workflow(Nap.run, 1, workflow_id="taken", task_list="by-hand")
        task = await env.client.call(
            "PollForDecisionTask", taskList={"name": "by-hand"}, identity="test"
        )
        assert task["taskToken"]  # taken, and never answered
        with pytest.raises(RuntimeError, match="decision task of workflow 'taken'"):
            await asyncio.wait_for(env.sleep(timedelta(hours=1)), TIMEOUT.total_seconds())


async def test_a_backlog_that_a_worker_works_through_holds_time(env: WorkflowEnvironment) -> None:
    # More tasks than the decider takes at once: the last ones wait longer than a task on a
    # list nobody polls may hold time, but the list is polled, so time must not jump past
    # them (to the executions' timeouts) while none is in flight between two tasks.
    handles = [
        await env.client.start_workflow(Nap.run, 1, workflow_id=f"queued-{i}", task_list="busy")
        for i in range(10)
    ]

    async def decide_one_at_a_time() -> None:
        for _ in handles:
            task = await env.client.call(
                "PollForDecisionTask", taskList={"name": "busy"}, identity="test"
            )
            complete = {"decisionType": "CompleteWorkflowExecution"}
            complete["completeWorkflowExecutionDecisionAttributes"] = {"result": "0.5"}
            await env.client.call(
                "RespondDecisionTaskCompleted", taskToken=task["taskToken"], decisions=[complete]
            )
            await asyncio.sleep(0.05)  # a busy worker: no task in flight for a moment

    deciding = asyncio.create_task(decide_one_at_a_time())
    results = [await handle.result(timeout=TIMEOUT) for handle in handles]
    await deciding
    assert results == [0.5] * len(handles)
    assert env.now() - START < timedelta(minutes=1)
