"""An answer is tried for as long as the task really lives: the per-call timeouts a workflow
gave count, not the declared ones; a task whose heartbeats could not get through is given up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest

from aioswf import (
    ActivityTimedOutError,
    Client,
    WorkflowHandle,
    activity,
    workflow,
)
from aioswf._definitions import activity_definition
from aioswf.activity import ActivityInfo, CancelReason
from aioswf.worker import ActivityWorkerOptions, Worker

from .helpers import QUICK_POLLER, Flow, until
from .proxy import FaultProxy

RUNS: list[str] = []
RECEIVED: dict[str, float] = {}
INFOS: list[ActivityInfo] = []


@activity.defn(start_to_close_timeout=timedelta(seconds=60))
async def long_declared(text: str) -> str:
    RECEIVED[text] = time.monotonic()
    RUNS.append(text)
    await asyncio.sleep(0.3)  # the outage begins while it runs
    return text.upper()


@activity.defn(start_to_close_timeout=timedelta(seconds=2))
async def short_declared(text: str) -> str:
    INFOS.append(activity.info())
    RUNS.append(text)
    await asyncio.sleep(0.3)
    return text.upper()


@workflow.defn
class ShortCall:
    """Runs ``long_declared`` with a per-call start-to-close far shorter than the declared."""

    @workflow.run
    async def run(self, text: str) -> str:
        try:
            return await workflow.execute_activity(
                long_declared, text, start_to_close_timeout=timedelta(seconds=3)
            )
        except ActivityTimedOutError as error:
            return f"timed out: {error.timeout_type}"


@workflow.defn
class LongCall:
    """Runs ``short_declared`` with a per-call start-to-close far longer than the declared."""

    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(
            short_declared, text, start_to_close_timeout=timedelta(seconds=60)
        )


@contextlib.asynccontextmanager
async def answer_cut_off(
    proxied: Client,
    proxy: FaultProxy,
    task_list: str,
    workflow_class: type[ShortCall | LongCall],
    activity_function: Callable[[str], Awaitable[str]],
    text: str,
) -> AsyncIterator[WorkflowHandle[str]]:
    """A worker runs ``workflow_class`` on ``text``; once its activity runs, its answer is cut off.

    Yields the run's handle while the worker is still running.
    """
    async with Worker(
        proxied,
        task_list=task_list,
        workflows=[workflow_class],
        activities=[activity_function],
        activity_options=QUICK_POLLER,
    ):
        handle = await proxied.start_workflow(
            workflow_class.run, text, workflow_id=f"{text}-{task_list}", task_list=task_list
        )
        await until(lambda: bool(RUNS))
        proxy.go_down("RespondActivityTaskCompleted")
        yield handle


def _given_up(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "gave up sending" in r.getMessage()]


async def test_a_shorter_per_call_timeout_is_the_deadline_the_answer_is_given_up_at(
    proxied: Client, proxy: FaultProxy, task_list: str, caplog: pytest.LogCaptureFixture
) -> None:
    RUNS.clear()
    caplog.set_level(logging.INFO, logger="aioswf")
    async with answer_cut_off(
        proxied, proxy, task_list, ShortCall, long_declared, "short"
    ) as handle:
        await until(lambda: bool(_given_up(caplog)), timeout=20)
        gave_up_after = time.monotonic() - RECEIVED["short"]
        proxy.come_up()
        # SWF timed it out at the same deadline, and the workflow was told.
        assert await handle.result(timeout=timedelta(seconds=30)) == "timed out: START_TO_CLOSE"
    # At the per-call 3 s, far from the declared 60 s.
    assert 2.0 <= gave_up_after < 15, gave_up_after
    [line] = _given_up(caplog)
    assert "\n" not in line.getMessage()
    assert RUNS == ["short"]


async def test_a_longer_per_call_timeout_keeps_the_answer_trying_past_the_declared_one(
    proxied: Client, proxy: FaultProxy, task_list: str, caplog: pytest.LogCaptureFixture
) -> None:
    RUNS.clear()
    caplog.set_level(logging.INFO, logger="aioswf")
    async with answer_cut_off(
        proxied, proxy, task_list, LongCall, short_declared, "long"
    ) as handle:
        await asyncio.sleep(3.5)  # past the declared 2 s
        assert proxy.cut["RespondActivityTaskCompleted"] >= 3
        proxy.come_up()
        assert await handle.result(timeout=timedelta(seconds=30)) == "LONG"
    assert not _given_up(caplog)
    assert RUNS == ["long"]
    # The activity knows the timeout it really runs under.
    assert INFOS[-1].start_to_close_timeout == timedelta(seconds=60)
    assert INFOS[-1].schedule_to_close_timeout is None


STOPPED: dict[str, object] = {}
STOPPED_EVENT = threading.Event()


@activity.defn(start_to_close_timeout=timedelta(seconds=60), heartbeat_timeout=timedelta(seconds=2))
def keeps_beating(text: str) -> str:
    RUNS.append(text)
    deadline = time.monotonic() + 20
    while not activity.is_cancelled() and time.monotonic() < deadline:
        activity.heartbeat(text)
        time.sleep(0.05)
    STOPPED["reason"] = activity.cancel_reason()
    STOPPED_EVENT.set()
    return "finished anyway"  # a result nobody can take any more


async def test_a_task_whose_heartbeats_cannot_get_through_is_given_up_at_its_heartbeat_timeout(
    proxied: Client, proxy: FaultProxy, task_list: str, caplog: pytest.LogCaptureFixture
) -> None:
    RUNS.clear()
    STOPPED.clear()
    STOPPED_EVENT.clear()
    caplog.set_level(logging.INFO, logger="aioswf")
    flow = await Flow(proxied, task_list).start()
    options = ActivityWorkerOptions(pollers=1, heartbeat_ratio=0.1)  # one every 0.2 s
    async with Worker(
        proxied, task_list=task_list, activities=[keeps_beating], activity_options=options
    ):
        [a] = await flow.schedule(keeps_beating, "beat", heartbeat="2")
        await until(lambda: bool(RUNS))
        await until(lambda: proxy.calls["RecordActivityTaskHeartbeat"] >= 2)
        proxy.go_down("RecordActivityTaskHeartbeat", *RESPONSES)
        outage = time.monotonic()
        await asyncio.wait_for(asyncio.to_thread(STOPPED_EVENT.wait, 20), 25)
        stopped_after = time.monotonic() - outage
        proxy.come_up()
        outcomes = await flow.outcomes(1)
        await asyncio.sleep(0.5)  # time for an answer, were one still sent
    assert STOPPED["reason"] is CancelReason.LOST
    assert 1.0 <= stopped_after < 10, stopped_after
    # SWF timed it out for want of heartbeats; the worker sent nothing more for it.
    assert outcomes[a].kind == "TimedOut"
    assert outcomes[a].attributes["timeoutType"] == "HEARTBEAT"
    assert not any(proxy.calls[name] for name in RESPONSES)
    lapsed = [r for r in caplog.records if "no heartbeat got through" in r.getMessage()]
    assert len(lapsed) == 1
    assert "\n" not in lapsed[0].getMessage()
    assert RUNS == ["beat"]


RESPONSES = (
    "RespondActivityTaskCompleted",
    "RespondActivityTaskFailed",
    "RespondActivityTaskCanceled",
)


@activity.defn(start_to_close_timeout=timedelta(seconds=60), register=False)
async def theirs(text: str) -> str:
    RUNS.append(text)
    await asyncio.sleep(0.3)
    return text


async def test_a_task_of_another_client_is_given_up_at_its_registered_default(
    proxied: Client, proxy: FaultProxy, task_list: str, caplog: pytest.LogCaptureFixture
) -> None:
    RUNS.clear()
    caplog.set_level(logging.INFO, logger="aioswf")
    definition = activity_definition(theirs)
    await proxied.transport.call(
        "RegisterActivityType",
        {
            "domain": proxied.domain,
            **definition.swf_type(),
            "defaultTaskStartToCloseTimeout": "3",
            "defaultTaskScheduleToStartTimeout": "30",
            "defaultTaskScheduleToCloseTimeout": "60",
            "defaultTaskHeartbeatTimeout": "NONE",
        },
    )
    flow = await Flow(proxied, task_list).start()
    async with Worker(
        proxied, task_list=task_list, activities=[theirs], activity_options=QUICK_POLLER
    ):
        attributes = {
            "activityType": definition.swf_type(),
            "activityId": "their-own-id",  # not an aioswf workflow's: no timeouts in headers
            "taskList": {"name": task_list},
            "input": '["theirs"]',
        }
        await flow.decide(
            {
                "decisionType": "ScheduleActivityTask",
                "scheduleActivityTaskDecisionAttributes": attributes,
            }
        )
        await until(lambda: bool(RUNS))
        started = time.monotonic()
        proxy.go_down("RespondActivityTaskCompleted")
        await until(lambda: bool(_given_up(caplog)), timeout=20)
        gave_up_after = time.monotonic() - started
        proxy.come_up()
    # At the registered 3 s (from the task's start), far from the declared 60 s.
    assert gave_up_after < 15, gave_up_after
    assert len(_given_up(caplog)) == 1
