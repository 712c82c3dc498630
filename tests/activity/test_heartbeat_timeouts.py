"""Heartbeats paced to the timeout each task really has, and progress carried to a retry."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from aioswf import ActivityFailedError, Client, RetryPolicy, activity, workflow
from aioswf._definitions import activity_definition
from aioswf.worker import Worker

from .helpers import Flow, until

DECLARED = timedelta(seconds=60)  # paced to this, heartbeats would come every 20 s
seen: dict[str, Any] = {}


@activity.defn(start_to_close_timeout=timedelta(seconds=60), heartbeat_timeout=DECLARED)
async def steady(seconds: float) -> str:
    seen["timeout"] = activity.info().heartbeat_timeout
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        activity.heartbeat("alive")
        await asyncio.sleep(0.2)
    return "finished"


@workflow.defn
class ShortHeartbeat:
    @workflow.run
    async def run(self, seconds: float) -> str:
        return await workflow.execute_activity(
            steady, seconds, heartbeat_timeout=timedelta(seconds=3)
        )


async def test_a_per_call_heartbeat_timeout_is_the_one_paced_to(local_client: Client) -> None:
    async with Worker(
        local_client, task_list="short-beats", workflows=[ShortHeartbeat], activities=[steady]
    ):
        handle = await local_client.start_workflow(
            ShortHeartbeat.run, 3.6, workflow_id="short-beats", task_list="short-beats"
        )
        assert await handle.result(timeout=timedelta(seconds=30)) == "finished"
    assert seen["timeout"] == timedelta(seconds=3)


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def resumable(items: int) -> list[Any]:
    info = activity.info()
    start = info.heartbeat_details or 0
    seen.setdefault("starts", []).append(start)
    for done in range(start, items):
        activity.heartbeat(done + 1)
        if info.attempt == 1 and done == 2:
            await asyncio.sleep(0.3)  # let the heartbeat go out, as a real crash would
            raise RuntimeError("disk full")
    return seen["starts"]


@workflow.defn
class Resumes:
    @workflow.run
    async def run(self, items: int) -> list[Any]:
        policy = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
        return await workflow.execute_activity(resumable, items, retry_policy=policy)


async def test_a_retried_activity_reads_its_previous_attempts_progress(
    local_client: Client,
) -> None:
    seen.clear()
    async with Worker(
        local_client, task_list="resumes", workflows=[Resumes], activities=[resumable]
    ):
        handle = await local_client.start_workflow(
            Resumes.run, 5, workflow_id="resumes", task_list="resumes"
        )
        assert await handle.result(timeout=timedelta(seconds=30)) == [0, 3]


@activity.defn(start_to_close_timeout=timedelta(seconds=30), heartbeat_timeout=timedelta(seconds=1))
async def stalls() -> str:
    info = activity.info()
    if info.attempt == 1:
        activity.heartbeat({"cursor": "page-7"})
        await retried.wait()  # stops heartbeating: SWF times the attempt out
        return "too late"
    retried.set()
    return f"resumed from {info.heartbeat_details['cursor']}"


retried = asyncio.Event()


@workflow.defn
class TimesOutThenResumes:
    @workflow.run
    async def run(self) -> str:
        policy = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=2)
        return await workflow.execute_activity(stalls, retry_policy=policy)


async def test_a_timed_out_attempts_heartbeat_details_reach_the_retry(
    local_client: Client,
) -> None:
    async with Worker(
        local_client, task_list="stalls", workflows=[TimesOutThenResumes], activities=[stalls]
    ):
        handle = await local_client.start_workflow(
            TimesOutThenResumes.run, workflow_id="stalls", task_list="stalls"
        )
        assert await handle.result(timeout=timedelta(seconds=30)) == "resumed from page-7"


@activity.defn(start_to_close_timeout=timedelta(seconds=30), register=False)
async def undeclared() -> str:
    seen["undeclared"] = activity.info().heartbeat_timeout
    return "ok"


async def test_a_task_from_another_client_uses_the_registered_default(
    local_client: Client,
) -> None:
    definition = activity_definition(undeclared)
    transport = local_client.transport
    await transport.call(
        "RegisterActivityType",
        {
            "domain": local_client.domain,
            **definition.swf_type(),
            "defaultTaskHeartbeatTimeout": "7",
            "defaultTaskStartToCloseTimeout": "30",
            "defaultTaskScheduleToStartTimeout": "30",
            "defaultTaskScheduleToCloseTimeout": "60",
        },
    )
    async with Worker(local_client, task_list="other-client", activities=[undeclared]):
        flow = await Flow(local_client, "other-client").start()
        attributes = {
            "activityType": definition.swf_type(),
            "activityId": "their-own-id",
            "taskList": {"name": "other-client"},
            "input": "[]",  # no heartbeat timeout stated: the registered default applies
        }
        await flow.decide(
            {
                "decisionType": "ScheduleActivityTask",
                "scheduleActivityTaskDecisionAttributes": attributes,
            }
        )
        await until(lambda: "undeclared" in seen, timeout=10)
    assert seen["undeclared"] == timedelta(seconds=7)


def test_failed_errors_carry_heartbeat_details() -> None:
    error = ActivityFailedError(
        activity_id="1", activity_type="a/1", type_name="E", message="m", heartbeat_details="3"
    )
    assert error.heartbeat_details == "3"
