"""Workflows and activities on one worker: fan-out, failures and cancellation end to end."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from aioswf import ActivityFailedError, Client, WorkflowHandle, activity, workflow
from aioswf.worker import Worker

from .helpers import Gauge, until

TIMEOUTS: dict[str, Any] = {
    "schedule_to_start_timeout": timedelta(seconds=60),
    "start_to_close_timeout": timedelta(seconds=60),
    "schedule_to_close_timeout": timedelta(seconds=120),
    "heartbeat_timeout": timedelta(seconds=3),
}
gauge = Gauge()
seen: dict[str, object] = {}


@activity.defn(**TIMEOUTS)
async def square(n: int) -> int:
    with gauge:
        await asyncio.sleep(0.3)
    return n * n


@activity.defn(**TIMEOUTS)
def stubborn(n: int) -> int:
    raise ValueError(f"{n} is not welcome")


@activity.defn(**TIMEOUTS)
def wait_for_cancel() -> str:
    with gauge:
        while not activity.is_cancelled():
            activity.heartbeat()
            time.sleep(0.02)
    seen["reason"] = activity.cancel_reason()
    seen["attempt"] = activity.info().attempt
    raise asyncio.CancelledError


@workflow.defn(name="FanOut", version="1")
class FanOut:
    def __init__(self) -> None:
        self.stop = False
        self.finish = False

    @workflow.run
    async def run(self, count: int) -> dict[str, object]:
        squares = await asyncio.gather(
            *(workflow.execute_activity(square, n) for n in range(count))
        )
        try:
            await workflow.execute_activity(stubborn, 7)
        except ActivityFailedError as error:
            failure = [error.type_name, error.message]
        waiting = workflow.start_activity(wait_for_cancel)
        await workflow.wait_condition(lambda: self.stop)
        waiting.cancel()
        try:
            await waiting
            cancelled = False
        except asyncio.CancelledError:
            cancelled = True
        # Stay open until the worker has reported the cancellation to SWF.
        await workflow.wait_condition(lambda: self.finish)
        return {"sum": sum(squares), "failure": failure, "cancelled": cancelled}

    @workflow.signal
    async def halt(self) -> None:
        self.stop = True

    @workflow.signal
    async def done(self) -> None:
        self.finish = True


async def test_fan_out_failure_and_cancellation(local_client: Client, task_list: str) -> None:
    global gauge
    gauge = Gauge()
    seen.clear()
    async with Worker(
        local_client,
        task_list=task_list,
        workflows=[FanOut],
        activities=[square, stubborn, wait_for_cancel],
        max_concurrent_activities=50,
    ):
        handle = await local_client.start_workflow(
            FanOut.run, 50, workflow_id="fan-out", task_list=task_list
        )
        await until(lambda: gauge.total == 51)
        await handle.signal(FanOut.halt)
        await until(lambda: _has_event(handle, "ActivityTaskCanceled"))
        await handle.signal(FanOut.done)
        result = await handle.result(timeout=timedelta(seconds=20))
    assert result == {
        "sum": sum(n * n for n in range(50)),
        "failure": ["ValueError", "7 is not welcome"],
        "cancelled": True,
    }
    assert gauge.peak == 50
    assert seen == {"reason": activity.CancelReason.REQUESTED, "attempt": 1}


async def _has_event(handle: WorkflowHandle[Any], event_type: str) -> bool:
    return any([e["eventType"] == event_type async for e in handle.history()])
