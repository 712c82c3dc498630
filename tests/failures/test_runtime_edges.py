"""Timers of any length, early cancellation, async generators, unfinished signal handlers and
unbounded activities: each ends the way the code says, never in a stall."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from aioswf import (
    Client,
    DecisionWorkerOptions,
    RetryPolicy,
    WorkflowCanceledError,
    WorkflowFailedError,
)
from aioswf.local import VirtualClock
from aioswf.testing import WorkflowEnvironment
from aioswf.worker import Worker
from tests.failures import workflows as wf
from tests.workflow.histories import Simulation, attrs_of, kinds

RESULT_TIMEOUT = timedelta(seconds=10)
START = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_a_400_day_sleep_is_one_sleep_of_chained_timers(cache: bool) -> None:
    sim = Simulation(wf.LongSleep, 400, cache=cache)
    first = sim.decide()
    assert kinds(first) == ["StartTimer"]
    assert attrs_of(first[0])["startToFireTimeout"] == str(365 * 86_400)  # SWF's limit
    sim.history.advance(365 * 86_400)
    sim.history.timer_fired(attrs_of(first[0])["timerId"])
    second = sim.decide()  # the code is still asleep: the next link starts
    assert kinds(second) == ["StartTimer"]
    assert attrs_of(second[0])["startToFireTimeout"] == str(35 * 86_400)
    sim.history.advance(35 * 86_400)
    sim.history.timer_fired(attrs_of(second[0])["timerId"])
    done = sim.decide()
    assert kinds(done) == ["CompleteWorkflowExecution"]
    assert json.loads(attrs_of(done[0])["result"]) == 400 * 86_400
    replayed = sim.replay()
    assert replayed.failure is None
    assert replayed.decisions == []
    sim.close()


async def test_a_sleep_past_a_year_is_accepted_by_swf(client: Client, clock: VirtualClock) -> None:
    # One run of SWF lives at most a year, so the sleep is cut by the execution timeout; what
    # matters is that SWF accepts the timers and the code waits, instead of a refused batch.
    async with Worker(client, task_list="t", workflows=[wf.LongSleep]):
        handle = await client.start_workflow(
            wf.LongSleep.run, 400, workflow_id="long", task_list="t"
        )
        for _ in range(100):
            described = await handle.describe()
            if described.open_counts.timers:
                break
            await asyncio.sleep(0.02)
        assert described.open_counts.timers == 1
        types = [e["eventType"] async for e in handle.history()]
    assert "StartTimerFailed" not in types
    assert types[-1] == "TimerStarted"


async def test_a_buggy_workflow_fails_in_seconds_with_its_traceback() -> None:
    async with (
        WorkflowEnvironment(start=START) as env,
        Worker(env.client, task_list="t", workflows=[wf.RaisesValueError]),
    ):
        handle = await env.client.start_workflow(
            wf.RaisesValueError.run, "o-1", workflow_id="bug", task_list="t"
        )
        with pytest.raises(WorkflowFailedError) as caught:
            await handle.result(timeout=RESULT_TIMEOUT)
    assert "check_order" in caught.value.traceback
    assert env.now() - START < timedelta(minutes=1)  # no task timeouts were waited out


async def test_an_infinite_timeout_sets_no_timer(client: Client) -> None:
    async with Worker(client, task_list="t", workflows=[wf.Forever]):
        handle = await client.start_workflow(wf.Forever.run, workflow_id="inf", task_list="t")
        await handle.signal(wf.Forever.ping)
        for _ in range(100):
            described = await handle.describe()
            if described.open_counts.decision_tasks == 0:
                break
            await asyncio.sleep(0.02)
        assert described.open_counts.timers == 0
        assert described.info.close_status is None
        await handle.cancel()
        assert await handle.result(timeout=RESULT_TIMEOUT) == "cancelled while waiting"


@pytest.mark.parametrize("how", ["nan", "negative-later", "negative-condition"])
async def test_nan_and_negative_durations_raise_at_the_call(client: Client, how: str) -> None:
    async with Worker(client, task_list="t", workflows=[wf.BadDurations]):
        handle = await client.start_workflow(
            wf.BadDurations.run, how, workflow_id="bad", task_list="t"
        )
        message = await handle.result(timeout=RESULT_TIMEOUT)
    assert "nan" in message.lower() or "negative" in message or "-1" in message


def test_a_retry_back_off_past_a_year_is_a_chained_timer() -> None:
    sim = Simulation(wf.PatientRetries)
    sim.decide()
    sim.history.activity_failed("1", "KeyError", None)
    decisions = sim.decide()
    assert kinds(decisions) == ["StartTimer"]
    assert attrs_of(decisions[0])["startToFireTimeout"] == str(365 * 86_400)
    sim.close()


def test_a_retry_back_off_past_a_year_is_capped_not_an_overflow() -> None:
    policy = RetryPolicy(initial_interval=timedelta(days=30), maximum_interval=timedelta(days=500))
    assert policy.delay_before(5000) == timedelta(days=500)
    assert policy.delay_before(3) == timedelta(days=60)


async def test_cancel_before_the_first_task_runs_the_cleanup(client: Client) -> None:
    async with Worker(
        client, task_list="t", workflows=[wf.CancelledEarly], activities=[wf.clean_up]
    ) as worker:
        await worker.shutdown()  # nobody decides until the cancel request is recorded
    handle = await client.start_workflow(wf.CancelledEarly.run, workflow_id="early", task_list="t")
    await handle.cancel()
    async with Worker(
        client, task_list="t", workflows=[wf.CancelledEarly], activities=[wf.clean_up]
    ):
        with pytest.raises(WorkflowCanceledError):
            await handle.result(timeout=RESULT_TIMEOUT)
    results = [
        e["activityTaskCompletedEventAttributes"]["result"]
        async for e in handle.history()
        if e["eventType"] == "ActivityTaskCompleted"
    ]
    assert results == ['"cleaned early"']


@pytest.mark.parametrize("threads", [True, False], ids=["thread", "inline"])
async def test_an_abandoned_async_generator_is_finalised_in_workflow_time(
    client: Client, clock: VirtualClock, threads: bool
) -> None:
    options = DecisionWorkerOptions(workflow_threads=threads)
    async with Worker(
        client, task_list="t", workflows=[wf.AbandonsGenerator], decision_options=options
    ):
        handle = await client.start_workflow(
            wf.AbandonsGenerator.run, workflow_id="gen", task_list="t"
        )
        finalised, now = await handle.result(timeout=RESULT_TIMEOUT)
    assert finalised == now
    assert datetime.fromisoformat(finalised).timestamp() == pytest.approx(clock.now(), abs=5)


async def test_unfinished_handlers_are_warned_about_by_default(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    async with Worker(client, task_list="t", workflows=[wf.SlowHandler], activities=[wf.note]):
        handle = await client.start_workflow(
            wf.SlowHandler.run, False, workflow_id="warn", task_list="t"
        )
        await handle.signal(wf.SlowHandler.work)
        assert await handle.result(timeout=RESULT_TIMEOUT) == []
    assert "handlers of signals 'work' were still running" in caplog.text


async def test_all_handlers_finished_lets_run_wait_for_them(client: Client) -> None:
    async with Worker(client, task_list="t", workflows=[wf.SlowHandler], activities=[wf.note]):
        handle = await client.start_workflow(
            wf.SlowHandler.run, True, workflow_id="all", task_list="t"
        )
        await handle.signal(wf.SlowHandler.work)
        assert await handle.result(timeout=RESULT_TIMEOUT) == ["handled"]


async def test_the_wait_policy_holds_the_close(client: Client) -> None:
    async with Worker(client, task_list="t", workflows=[wf.WaitingHandler], activities=[wf.note]):
        handle = await client.start_workflow(
            wf.WaitingHandler.run, workflow_id="wait", task_list="t"
        )
        await handle.signal(wf.WaitingHandler.work)
        assert await handle.result(timeout=RESULT_TIMEOUT) == ["handled"]


async def test_the_fail_policy_fails_the_execution(client: Client) -> None:
    async with Worker(client, task_list="t", workflows=[wf.FailingHandler], activities=[wf.note]):
        handle = await client.start_workflow(
            wf.FailingHandler.run, workflow_id="fail", task_list="t"
        )
        await handle.signal(wf.FailingHandler.work)
        with pytest.raises(WorkflowFailedError) as caught:
            await handle.result(timeout=RESULT_TIMEOUT)
    assert caught.value.reason == "UnfinishedHandlers"
    assert "'work'" in caught.value.message


async def test_an_unbounded_activity_is_reported_at_start_and_fails_its_caller(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "aioswf.worker")
    async with Worker(
        client,
        task_list="t",
        workflows=[wf.SchedulesUnbounded],
        activities=[wf.unbounded],
    ):
        assert "activity unbounded/" in caplog.text
        assert "no start_to_close_timeout or schedule_to_close_timeout" in caplog.text
        handle = await client.start_workflow(
            wf.SchedulesUnbounded.run, workflow_id="unb", task_list="t"
        )
        with pytest.raises(WorkflowFailedError) as caught:
            await handle.result(timeout=RESULT_TIMEOUT)
    assert caught.value.reason == "DefinitionError"
    assert "no start_to_close_timeout or schedule_to_close_timeout" in caught.value.message
