"""The scenarios moto supports, run against moto's server and ours: same event sequences."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from aioswf.local import LocalSWF, VirtualClock
from tests.local.helpers import (
    DOMAIN,
    Driver,
    attrs_of,
    boto3_client,
    complete,
    decision,
    schedule,
    timer,
)

Advance = Callable[[float], Awaitable[None]]
Scenario = Callable[[Driver, Advance], Awaitable[str]]

pytestmark = pytest.mark.moto


async def activity_completes(sw: Driver, advance: Advance) -> str:
    run = await sw.start()
    await sw.decide(schedule("a1", input="x"))
    task = await sw.poll_activity()
    await sw("respond_activity_task_completed", taskToken=task["taskToken"], result="r")
    await sw.decide(complete())
    return run


async def activity_fails(sw: Driver, advance: Advance) -> str:
    run = await sw.start()
    await sw.decide(schedule("a1"))
    task = await sw.poll_activity()
    await sw("record_activity_task_heartbeat", taskToken=task["taskToken"], details="half")
    await sw("respond_activity_task_failed", taskToken=task["taskToken"], reason="bad")
    await sw.decide(decision("FailWorkflowExecution", reason="gave up"))
    return run


async def timer_fires(sw: Driver, advance: Advance) -> str:
    run = await sw.start()
    await sw.decide(timer("t1", 1))
    await advance(1)
    await sw.decide(complete())
    return run


async def markers_and_signals(sw: Driver, advance: Advance) -> str:
    run = await sw.start()
    await sw.decide(decision("RecordMarker", markerName="m1", details="d"))
    await sw(
        "signal_workflow_execution",
        domain=DOMAIN,
        workflowId="wf-1",
        signalName="go",
        input="payload",
    )
    await sw.decide(decision("RecordMarker", markerName="m2"), complete())
    return run


async def terminated(sw: Driver, advance: Advance) -> str:
    run = await sw.start()
    await sw.decide(schedule("a1"))
    await sw("terminate_workflow_execution", domain=DOMAIN, workflowId="wf-1", reason="stop")
    return run


async def unknown_activity_type(sw: Driver, advance: Advance) -> str:
    run = await sw.start()
    await sw.decide(
        decision(
            "ScheduleActivityTask",
            activityType={"name": "No", "version": "1"},
            activityId="a1",
            taskList={"name": "main"},
            scheduleToStartTimeout="10",
            scheduleToCloseTimeout="10",
            startToCloseTimeout="10",
            heartbeatTimeout="10",
        )
    )
    await sw.decide(complete())
    return run


async def workflow_times_out(sw: Driver, advance: Advance) -> str:
    run = await sw.start(executionStartToCloseTimeout="1")
    await sw.decide(decision("RecordMarker", markerName="m"))
    await advance(1)
    return run


async def decision_times_out(sw: Driver, advance: Advance) -> str:
    run = await sw.start(taskStartToCloseTimeout="1")
    assert (await sw.poll())["taskToken"]
    await advance(1)
    await sw.decide(complete())
    return run


async def heartbeat_times_out(sw: Driver, advance: Advance) -> str:
    run = await sw.start()
    await sw.decide(schedule("a1", heartbeatTimeout="1"))
    assert (await sw.poll_activity())["taskToken"]
    await advance(1)
    await sw.decide(complete())
    return run


async def missing_activity_defaults(sw: Driver, advance: Advance) -> str:
    await sw("register_activity_type", domain=DOMAIN, name="Bare", version="1")
    bare = {"name": "Bare", "version": "1"}
    run = await sw.start()
    # moto and SWF may check missing defaults in different orders: leave out one at a time.
    await sw.decide(
        decision(
            "ScheduleActivityTask",
            activityType=bare,
            activityId="no-list",
            scheduleToStartTimeout="10",
            scheduleToCloseTimeout="10",
            startToCloseTimeout="10",
            heartbeatTimeout="10",
        ),
        decision(
            "ScheduleActivityTask",
            activityType=bare,
            activityId="no-timeout",
            taskList={"name": "main"},
            scheduleToCloseTimeout="10",
            startToCloseTimeout="10",
            heartbeatTimeout="10",
        ),
    )
    await sw.decide(complete())
    return run


SCENARIOS = [
    activity_completes,
    activity_fails,
    timer_fires,
    markers_and_signals,
    terminated,
    unknown_activity_type,
    workflow_times_out,
    decision_times_out,
    heartbeat_times_out,
    missing_activity_defaults,
]


async def outline(sw: Driver, run: str) -> list[str]:
    """Event types, each with its cause or timeout type when it has one."""
    found = []
    for event in await sw.history(run):
        attrs = attrs_of(event)
        detail = attrs.get("cause") or attrs.get("timeoutType")
        found.append(event["eventType"] + (f" {detail}" if detail else ""))
    return found


async def run_on_moto(endpoint: str, scenario: Scenario) -> list[str]:
    client = boto3_client(endpoint)
    try:
        sw = Driver(client)
        await sw.setup()
        # moto's timeouts run on the wall clock, and only when a later call looks at them.
        run = await scenario(sw, lambda seconds: asyncio.sleep(seconds + 0.5))
        return await outline(sw, run)
    finally:
        client.close()


async def run_locally(scenario: Scenario) -> list[str]:
    clock = VirtualClock()

    async def advance(seconds: float) -> None:
        clock.advance(seconds)

    async with LocalSWF(clock=clock, long_poll_seconds=0.3) as service:
        client = boto3_client(service.endpoint_url)
        try:
            sw = Driver(client)
            await sw.setup()
            run = await scenario(sw, advance)
            return await outline(sw, run)
        finally:
            client.close()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_same_history_as_moto(moto_endpoint: str, scenario: Any) -> None:
    ours = await run_locally(scenario)
    theirs = await run_on_moto(moto_endpoint, scenario)
    assert ours == theirs
