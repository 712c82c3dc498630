"""Cancellation requested by the workflow reaches async and sync activities (local service)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aioswf import Client, activity
from aioswf.worker import Worker

from .helpers import Call, Flow, until

NewFlow = Callable[[], Awaitable[Flow]]
seen: dict[str, object] = {}


async def _started(flow: Flow, count: int) -> bool:
    return await flow.started_count() >= count


@activity.defn(heartbeat_timeout=timedelta(seconds=3))
async def patient() -> str:
    try:
        while True:
            activity.heartbeat("waiting")
            await asyncio.sleep(0.05)
    except asyncio.CancelledError:
        seen["async"] = activity.cancel_reason()
        raise


@activity.defn(heartbeat_timeout=timedelta(seconds=3))
def patient_sync() -> str:
    while not activity.is_cancelled():
        activity.heartbeat()
        time.sleep(0.02)
    seen["sync"] = activity.cancel_reason()
    raise asyncio.CancelledError


@activity.defn(heartbeat_timeout=timedelta(seconds=3))
def stubborn_sync() -> str:
    while not activity.is_cancelled():
        activity.heartbeat()
        time.sleep(0.02)
    return "finished anyway"


async def test_cancellation_reaches_async_and_sync_activities(
    local_client: Client, local_flow: NewFlow, task_list: str
) -> None:
    seen.clear()
    flow = await local_flow()
    async with Worker(
        local_client, task_list=task_list, activities=[patient, patient_sync, stubborn_sync]
    ):
        a, b, c = await flow.schedule_all(Call(patient), Call(patient_sync), Call(stubborn_sync))
        await until(lambda: _started(flow, 3))
        for activity_id in (a, b, c):
            await flow.cancel(activity_id)
        outcomes = await flow.outcomes(3)
    assert outcomes[a].kind == "Canceled"
    assert outcomes[b].kind == "Canceled"
    assert outcomes[c].kind == "Completed"
    assert outcomes[c].result == "finished anyway"
    assert seen == {
        "async": activity.CancelReason.REQUESTED,
        "sync": activity.CancelReason.REQUESTED,
    }


@activity.defn(heartbeat_timeout=timedelta(seconds=3))
async def swallows_then_awaits() -> str:
    try:
        while True:
            activity.heartbeat()
            await asyncio.sleep(0.05)
    except asyncio.CancelledError:
        pass
    # Awaiting after the cancellation, in a timeout of its own: neither sees it again.
    async with asyncio.timeout(5):
        await asyncio.sleep(0.05)
    return f"kept going after {activity.cancel_reason()}"


async def test_an_async_activity_that_swallows_the_cancellation_completes_and_is_reported(
    local_client: Client, local_flow: NewFlow, task_list: str
) -> None:
    flow = await local_flow()
    async with Worker(local_client, task_list=task_list, activities=[swallows_then_awaits]):
        (a,) = await flow.schedule_all(Call(swallows_then_awaits))
        await until(lambda: _started(flow, 1))
        await flow.cancel(a)
        outcomes = await flow.outcomes(1)
    assert outcomes[a].kind == "Completed"
    assert outcomes[a].result == f"kept going after {activity.CancelReason.REQUESTED}"
